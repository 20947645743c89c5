/// Reductions over one axis of a contiguous tensor viewed as [outer, axis, inner].
///
/// With `inner == 1` a row is contiguous and is summed with vector accumulators; otherwise whole `inner`-long rows
/// are added together, which vectorises along `inner`.
extension Kernels {
    /// Sum of a contiguous run, in blocks so rounding error grows with log(n) rather than n.
    @inline(__always)
    static func sumContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        if n <= 4096 {
            var acc = SIMD16<Float>()
            var i = 0
            while i + 16 <= n {
                acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                i += 16
            }
            var total = acc.sum()
            while i < n { total += x[i]; i += 1 }
            return total
        }
        let half = (n / 2 + 15) & ~15
        return sumContiguous(x, half) + sumContiguous(x + half, n - half)
    }

    /// out[o, i] = Σ_k x[o, k, i].
    static func sum(_ x: UnsafePointer<Float>, outer: Int, axis: Int, inner: Int, _ out: UnsafeMutablePointer<Float>) {
        if inner == 1 {
            Parallel.forRanges(outer, threshold: max(1, Parallel.elementwiseThreshold / max(axis, 1))) { r in
                for o in r { out[o] = sumContiguous(x + o * axis, axis) }
            }
            return
        }
        let rowsPerOuter = axis
        Parallel.forRanges(outer, threshold: max(1, Parallel.elementwiseThreshold / max(axis * inner, 1))) { r in
            for o in r {
                let dst = out + o * inner
                let src = x + o * rowsPerOuter * inner
                dst.update(from: src, count: inner)
                for k in 1..<max(rowsPerOuter, 1) {
                    let row = src + k * inner
                    for i in 0..<inner { dst[i] += row[i] }
                }
                if rowsPerOuter == 0 { dst.update(repeating: 0, count: inner) }
            }
        }
    }

    /// out[o, i] = max_k (or min_k) x[o, k, i], and the first index attaining it. NaN wins, as in PyTorch.
    static func extremum(_ x: UnsafePointer<Float>, outer: Int, axis: Int, inner: Int, findMax: Bool,
                         _ out: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>?) {
        precondition(axis > 0, "max/min: cannot reduce an empty axis")
        for o in 0..<outer {
            let src = x + o * axis * inner
            for i in 0..<inner {
                var best = src[i]
                var bestIndex: Int32 = 0
                if !best.isNaN {
                    for k in 1..<axis {
                        let v = src[k * inner + i]
                        if v.isNaN { best = v; bestIndex = Int32(k); break }
                        if findMax ? v > best : v < best { best = v; bestIndex = Int32(k) }
                    }
                }
                out[o * inner + i] = best
                indices?[o * inner + i] = bestIndex
            }
        }
    }
}
