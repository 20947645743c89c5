/// Convolution with the batch split across the cores, one image at a time per core.
///
/// Each core lowers its own images: im2col of one image into a [C·kh·kw, Ho·Wo] buffer, then one single-threaded
/// sgemm per group straight into the image's NCHW output rows. No reorder of the product, no BLAS threads handed work
/// per call, and the cores meet once per op. The backward does the same per image: ∂L/∂W accumulates per core
/// (reduced at the end) from the image's columns, and ∂L/∂col = Wᵀ·G goes through col2im. When the weight needs a
/// gradient the forward writes each image's columns into a batch-sized buffer kept for the backward (up to
/// `savedColumnsLimit` floats; beyond that one cache-sized buffer per core, recomputed in the backward): on the cnn
/// workload keeping them beat a second im2col per image.
///
/// On the cnn workload (26×26 and 11×11 planes, batch 64) this replaced the batched lowering for both convolutions:
/// see `Tensor.prefersImageParallelConvolution` for when it is chosen.
extension Tensor {
    /// Output planes at least this large are convolved image by image (smaller ones make products too thin for
    /// BLAS, and the batched lowering wins).
    static let imageParallelMinimumPlane = 100

    /// Whether the per-image path suits this geometry: a plane big enough for efficient per-image products and at
    /// least one image per core.
    static func prefersImageParallelConvolution(_ g: ConvGeometry) -> Bool {
        g.outPlane >= imageParallelMinimumPlane && g.batch >= Parallel.coreCount && Parallel.coreCount > 1
    }

    static func imageParallelConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry, groups: Int,
                                    savedColumnsLimit: Int = savedColumnsLimit) -> Tensor {
        let o = weight.shape[0]
        let rows = g.channels * g.kernelArea
        let (oPerGroup, rowsPerGroup) = (o / groups, rows / groups)
        let (plane, inImage) = (g.outPlane, g.channels * g.inPlane)
        var imageGeometry = g
        imageGeometry.batch = 1
        let ig = imageGeometry
        let out = Tensor(uninitializedShape: [g.batch, o, g.outH, g.outW])
        let (input, weights, output) = (x.storage.pointer, weight.storage.pointer, out.storage.pointer)
        let bp = bias?.storage.pointer
        // With a weight gradient to come, each image's columns are kept for the backward (up to savedColumnsLimit).
        let keep = weight.requiresGrad && GradMode.isEnabled && rows * plane * g.batch <= savedColumnsLimit
        let saved: Tensor? = keep ? Tensor(uninitializedShape: [g.batch * rows * plane]) : nil
        Parallel.perCore(g.batch) { _, images in
            let col = saved == nil ? Tensor(uninitializedShape: [rows * plane]) : nil
            for n in images {
                let cp = saved.map { $0.storage.pointer + n * rows * plane } ?? col!.storage.pointer
                Kernels.im2col(input + n * inImage, ig, cp, parallel: false)
                let dst = output + n * o * plane                                       // (O, Ho·Wo)
                if let bp { for c in 0..<o { (dst + c * plane).update(repeating: bp[c], count: plane) } }
                for group in 0..<groups {
                    Kernels.gemm(transposeA: false, transposeB: false, m: oPerGroup, n: plane, k: rowsPerGroup,
                                 weights + group * oPerGroup * rowsPerGroup, cp + group * rowsPerGroup * plane,
                                 beta: bp == nil ? 0 : 1, dst + group * oPerGroup * plane)
                }
            }
        }
        let (xd, w) = (x.detached(), weight.detached())
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let hasBias = bias != nil
        return Tensor.record(out, op: "conv2d", inputs: inputs) { grad in
            let chunks = Parallel.perCoreChunks(g.batch)
            // One ∂L/∂W and ∂L/∂b per core, summed once at the end.
            let partialW: Tensor? = needW ? Tensor(uninitializedShape: [chunks, o * rowsPerGroup]) : nil
            let partialB: Tensor? = needB ? Tensor(uninitializedShape: [chunks, o]) : nil
            let gx: Tensor? = needX ? Tensor(uninitializedShape: xd.shape) : nil
            let (gp, input, weights) = (grad.storage.pointer, xd.storage.pointer, w.storage.pointer)
            Parallel.perCore(g.batch) { chunk, images in
                let col = needW && saved == nil ? Tensor(uninitializedShape: [rows * plane]) : nil
                let dcol = needX ? Tensor(uninitializedShape: [rows * plane]) : nil
                let dw = partialW.map { $0.storage.pointer + chunk * o * rowsPerGroup }
                let db = partialB.map { $0.storage.pointer + chunk * o }
                db?.update(repeating: 0, count: o)
                for n in images {
                    let gOut = gp + n * o * plane                                   // (O, Ho·Wo)
                    if let dw {
                        let cp: UnsafeMutablePointer<Float>
                        if let saved { cp = saved.storage.pointer + n * rows * plane } else {
                            cp = col!.storage.pointer
                            Kernels.im2col(input + n * inImage, ig, cp, parallel: false)
                        }
                        for group in 0..<groups {
                            Kernels.gemm(transposeA: false, transposeB: true, m: oPerGroup, n: rowsPerGroup, k: plane,
                                         gOut + group * oPerGroup * plane, cp + group * rowsPerGroup * plane,
                                         beta: n == images.lowerBound ? 0 : 1, dw + group * oPerGroup * rowsPerGroup)
                        }
                    }
                    if let db {
                        for c in 0..<o { db[c] += Kernels.sumContiguous(gOut + c * plane, plane) }
                    }
                    if let gx, let dcol {
                        for group in 0..<groups {
                            Kernels.gemm(transposeA: true, transposeB: false, m: rowsPerGroup, n: plane, k: oPerGroup,
                                         weights + group * oPerGroup * rowsPerGroup, gOut + group * oPerGroup * plane,
                                         dcol.storage.pointer + group * rowsPerGroup * plane)
                        }
                        Kernels.col2im(dcol.storage.pointer, ig, gx.storage.pointer + n * inImage, parallel: false)
                    }
                }
            }
            let gw = partialW.map { $0.sum(axes: [0]).reshaped(w.shape) }
            let gb = partialB.map { $0.sum(axes: [0]) }
            return hasBias ? [gx, gw, gb] : [gx, gw]
        }
    }
}
