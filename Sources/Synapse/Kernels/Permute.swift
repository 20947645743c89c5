/// Copies a contiguous tensor into a new axis order.
extension Kernels {
    /// out has shape `shape[perm[0]], shape[perm[1]], …`; both buffers are contiguous.
    static func permute(_ x: UnsafePointer<Float>, shape: [Int], perm: [Int], _ out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        let count = shape.reduce(1, *)
        if count == 0 { return }
        let inStrides = Shape.strides(of: shape)
        let outShape = perm.map { shape[$0] }
        // Stride in the input for a step along each output axis.
        let srcStrides = perm.map { inStrides[$0] }
        if rank == 2 {
            transpose2D(x, rows: shape[0], cols: shape[1], out)
            return
        }
        // Walk the output in order; the innermost output axis is a strided gather from the input.
        let inner = outShape[rank - 1]
        let innerStride = srcStrides[rank - 1]
        let rows = count / inner
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / inner)) { r in
            var counter = [Int](repeating: 0, count: rank - 1)
            var rest = r.lowerBound
            var offset = 0
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                counter[axis] = rest % outShape[axis]
                rest /= outShape[axis]
                offset += counter[axis] * srcStrides[axis]
            }
            for row in r {
                let dst = out + row * inner
                let src = x + offset
                if innerStride == 1 {
                    dst.update(from: src, count: inner)
                } else {
                    for i in 0..<inner { dst[i] = src[i * innerStride] }
                }
                var axis = rank - 2
                while axis >= 0 {
                    counter[axis] += 1
                    offset += srcStrides[axis]
                    if counter[axis] < outShape[axis] { break }
                    offset -= srcStrides[axis] * outShape[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Cache-blocked 2-D transpose: out[j, i] = x[i, j].
    static func transpose2D(_ x: UnsafePointer<Float>, rows: Int, cols: Int, _ out: UnsafeMutablePointer<Float>) {
        let block = 32
        let rowBlocks = (rows + block - 1) / block
        Parallel.forRanges(rowBlocks, threshold: max(1, Parallel.elementwiseThreshold / (block * max(cols, 1)))) { r in
            for rb in r {
                let i0 = rb * block, i1 = min(rows, i0 + block)
                var j0 = 0
                while j0 < cols {
                    let j1 = min(cols, j0 + block)
                    // Contiguous writes, strided reads: writing down a column instead (stride `rows`, often a
                    // multiple of 4 KiB) lands every store of the block in one L1 set.
                    for j in j0..<j1 {
                        let o = out + j * rows, s = x + j
                        for i in i0..<i1 { o[i] = s[i * cols] }
                    }
                    j0 = j1
                }
            }
        }
    }
}
