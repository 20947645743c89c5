/// The weight and bias gradients of a convolution with few weights per output channel (a first layer over 1–3 input
/// channels, depthwise convolutions), as dot products straight from the NCHW output gradient.
///
/// There sgemm gets a [O, k] × [k, ≈N·Ho·Wo] shape it cannot split across cores (tiny m and n, huge k), and the output
/// gradient would first have to be reordered to [O, N·Ho·Wo]. Each weight here is instead a sum over images of
/// dot products of contiguous rows, and each output channel's rows are reused for all of its weights while in cache.
extension Kernels {
    /// Sum of x[i]·y[i] over a contiguous run, with vector accumulators.
    @inline(__always)
    static func dotContiguous(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= n {
            acc0 += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            acc1 += UnsafeRawPointer(x + i + 16).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(y + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            i += 32
        }
        var total = (acc0 + acc1).sum()
        while i < n { total += x[i] * y[i]; i += 1 }
        return total
    }

    /// For the `images` images of a chunk: dW[o, r] (+)= Σ_n Σ_p grad[n, o, p]·col[group(o)·rowsPerGroup + r, n·L + p]
    /// and dB[o] (+)= Σ_n Σ_p grad[n, o, p]. `grad` points at the chunk's first image; `col` is the chunk's
    /// [rows, images·L] column matrix. `accumulate` adds to the existing values (later chunks).
    static func convWeightGradientByDots(grad: UnsafePointer<Float>, col: UnsafePointer<Float>, images: Int,
                                         outChannels: Int, groups: Int, rowsPerGroup: Int, plane: Int,
                                         accumulate: Bool, weightGrad: UnsafeMutablePointer<Float>?,
                                         biasGrad: UnsafeMutablePointer<Float>?) {
        let ld = images * plane
        let oPerGroup = outChannels / groups
        let work = images * plane * (rowsPerGroup + 1)
        Parallel.forRanges(outChannels, threshold: unitThreshold(work: work)) { range in
            for o in range {
                let firstRow = (o / oPerGroup) * rowsPerGroup
                if let weightGrad {
                    for r in 0..<rowsPerGroup {
                        let colRow = col + (firstRow + r) * ld
                        var total: Float = 0
                        for n in 0..<images {
                            total += dotContiguous(grad + (n * outChannels + o) * plane, colRow + n * plane, plane)
                        }
                        let target = weightGrad + o * rowsPerGroup + r
                        target.pointee = accumulate ? target.pointee + total : total
                    }
                }
                if let biasGrad {
                    var total: Float = 0
                    for n in 0..<images { total += sumContiguous(grad + (n * outChannels + o) * plane, plane) }
                    biasGrad[o] = accumulate ? biasGrad[o] + total : total
                }
            }
        }
    }
}
