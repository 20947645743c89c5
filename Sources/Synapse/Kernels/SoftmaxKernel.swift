#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Softmax and log-softmax in one pass per row: subtract the row maximum (so exp never overflows), exponentiate,
/// normalise. The tensor is viewed as [outer, axis, inner].
extension Kernels {
    static func softmax(_ x: UnsafePointer<Float>, outer: Int, axis: Int, inner: Int,
                        _ out: UnsafeMutablePointer<Float>, log: Bool) {
        let block = axis * inner
        Parallel.forRanges(outer, threshold: max(1, Parallel.elementwiseThreshold / max(block, 1))) { r in
            if inner == 1 {
                for o in r { softmaxRow(x + o * axis, out + o * axis, axis, log: log) }
                return
            }
            var maxima = [Float](repeating: 0, count: inner)
            var sums = [Float](repeating: 0, count: inner)
            maxima.withUnsafeMutableBufferPointer { mx in
                sums.withUnsafeMutableBufferPointer { sm in
                    let m = mx.baseAddress!, s = sm.baseAddress!
                    for o in r {
                        let src = x + o * block, dst = out + o * block
                        m.update(from: src, count: inner)
                        for k in 1..<max(axis, 1) {
                            let row = src + k * inner
                            for i in 0..<inner where row[i] > m[i] || row[i].isNaN { m[i] = row[i] }
                        }
                        for k in 0..<axis {
                            let row = src + k * inner, o2 = dst + k * inner
                            for i in 0..<inner { o2[i] = row[i] - m[i] }
                        }
                        if log {
                            // Keep the shifted values; exponentiate into scratch rows only to sum them.
                            s.update(repeating: 0, count: inner)
                            var scratch = [Float](repeating: 0, count: inner)
                            scratch.withUnsafeMutableBufferPointer { sc in
                                for k in 0..<axis {
                                    VectorMath.exp(dst + k * inner, sc.baseAddress!, inner)
                                    for i in 0..<inner { s[i] += sc[i] }
                                }
                            }
                            for i in 0..<inner { s[i] = logf(s[i]) }
                            for k in 0..<axis {
                                let o2 = dst + k * inner
                                for i in 0..<inner { o2[i] -= s[i] }
                            }
                        } else {
                            VectorMath.exp(dst, dst, block)
                            s.update(repeating: 0, count: inner)
                            for k in 0..<axis {
                                let o2 = dst + k * inner
                                for i in 0..<inner { s[i] += o2[i] }
                            }
                            for i in 0..<inner { s[i] = 1 / s[i] }
                            for k in 0..<axis {
                                let o2 = dst + k * inner
                                for i in 0..<inner { o2[i] *= s[i] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The largest of `n` floats, NaN if any is NaN (−∞ for none). Eight running maxima: one would be a chain of
    /// dependent compares, four cycles per element, and it was most of an attention row's softmax (64 keys).
    @inline(__always)
    static func rowMaximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var highs = SIMD8<Float>(repeating: -.infinity)
        var sawNaN = SIMDMask<SIMD8<Int32>>(repeating: false)
        let raw = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            highs.replace(with: v, where: v .> highs)
            sawNaN .|= v .!= v
            i += 8
        }
        var m = highs.max(), nan = any(sawNaN)
        for i in i..<n {
            if x[i] > m { m = x[i] }
            if x[i].isNaN { nan = true }
        }
        return nan ? .nan : m
    }

    /// Softmax (or log-softmax) of one contiguous row.
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool) {
        var m = rowMaximum(x, n)
        if m == -.infinity { m = 0 }  // an all −∞ row: avoid (−∞) − (−∞) = NaN before the sum
        for i in 0..<n { y[i] = x[i] - m }
        if log {
            // exp into the output to sum, then overwrite with the shifted logits minus log-sum-exp.
            VectorMath.exp(y, y, n)
            let logSum = logf(sumContiguous(y, n))
            for i in 0..<n { y[i] = (x[i] - m) - logSum }
        } else {
            VectorMath.exp(y, y, n)
            let scale = 1 / sumContiguous(y, n)
            for i in 0..<n { y[i] *= scale }
        }
    }
}

extension Kernels {
    /// Each row of `x` replaced by its log-softmax in place (x − max − log Σ exp(x − max)), rows split across cores.
    static func logSoftmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: width)
            defer { scratch.deallocate() }
            for row in range {
                let p = x + row * width
                var m = rowMaximum(p, width)
                if m == -.infinity { m = 0 }
                for j in 0..<width { p[j] -= m }
                VectorMath.exp(p, scratch, width)
                let logSum = logf(sumContiguous(scratch, width))
                for j in 0..<width { p[j] -= logSum }
            }
        }
    }

    /// Each row of log-probabilities replaced by scale·(softmax − onehot(target)): the cross-entropy's gradient.
    static func softmaxMinusOneHotRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, targets: [Int], scale: Float) {
        targets.withUnsafeBufferPointer { t in
            Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
                for row in range {
                    let p = x + row * width
                    VectorMath.exp(p, p, width)
                    for j in 0..<width { p[j] *= scale }
                    p[t[row]] -= scale
                }
            }
        }
    }
}
