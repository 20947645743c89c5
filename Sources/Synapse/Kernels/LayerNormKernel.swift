/// Layer normalisation's row kernels: statistics and normalisation in one pass per row, and the closed-form
/// backward (see Ops/LayerNormOp.swift for the formulas).
extension Kernels {
    /// Σ aᵢ·(xᵢ − c) with vector accumulators (a float reduction written as a plain loop would not vectorise).
    @inline(__always)
    static func centeredDot(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, center c: Float) -> Float {
        var acc = SIMD16<Float>()
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                * (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - cv)
            i += 16
        }
        var total = acc.sum()
        while i < n { total += a[i] * (x[i] - c); i += 1 }
        return total
    }

    /// Σ (xᵢ − c)² with vector accumulators.
    @inline(__always)
    static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
        var acc = SIMD16<Float>()
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        while i + 16 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - cv
            acc += d * d
            i += 16
        }
        var total = acc.sum()
        while i < n { let d = x[i] - c; total += d * d; i += 1 }
        return total
    }

    /// y = (x − μ)·r·γ + β per row; statistics[2·row] = μ, statistics[2·row + 1] = r.
    static func layerNormForward(_ x: UnsafePointer<Float>, rows: Int, width: Int, eps: Float,
                                 gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, statistics: UnsafeMutablePointer<Float>) {
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
            for row in range {
                let src = x + row * width, dst = y + row * width
                let mean = sumContiguous(src, width) * inverseWidth
                let variance = sumOfSquaredDeviations(src, width, from: mean) * inverseWidth
                let r = 1 / (variance + eps).squareRoot()
                statistics[2 * row] = mean
                statistics[2 * row + 1] = r
                switch (gamma, beta) {
                case let (g?, b?): for j in 0..<width { dst[j] = (src[j] - mean) * r * g[j] + b[j] }
                case let (g?, nil): for j in 0..<width { dst[j] = (src[j] - mean) * r * g[j] }
                case let (nil, b?): for j in 0..<width { dst[j] = (src[j] - mean) * r + b[j] }
                case (nil, nil): for j in 0..<width { dst[j] = (src[j] - mean) * r }
                }
            }
        }
    }

    /// ∂L/∂x = r·(g⊙γ − a − x̂·b) with a = mean(g⊙γ), b = mean(g⊙γ⊙x̂), per row.
    static func layerNormBackwardInput(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, width: Int,
                                       gamma: UnsafePointer<Float>?, statistics: UnsafePointer<Float>,
                                       _ gx: UnsafeMutablePointer<Float>) {
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
            for row in range {
                let xs = x + row * width, gs = g + row * width, dst = gx + row * width
                let (mean, r) = (statistics[2 * row], statistics[2 * row + 1])
                // dst first holds g⊙γ, so the two row sums below are plain vector loops.
                if let gamma {
                    for j in 0..<width { dst[j] = gs[j] * gamma[j] }
                } else {
                    dst.update(from: gs, count: width)
                }
                let sumGy = sumContiguous(dst, width)
                let sumGyXhat = centeredDot(dst, xs, width, center: mean) * r
                let a = sumGy * inverseWidth, b = sumGyXhat * inverseWidth
                for j in 0..<width { dst[j] = r * (dst[j] - a - (xs[j] - mean) * r * b) }
            }
        }
    }

    /// ∂L/∂γ = Σ_rows g⊙x̂ and ∂L/∂β = Σ_rows g. Split across cores by column, so no two chunks write the same value.
    static func layerNormBackwardAffine(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, width: Int,
                                        statistics: UnsafePointer<Float>,
                                        _ gGamma: UnsafeMutablePointer<Float>, _ gBeta: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(width, threshold: max(16, Parallel.elementwiseThreshold / max(rows, 1))) { columns in
            let (lower, n) = (columns.lowerBound, columns.count)
            let gw = gGamma + lower, gb = gBeta + lower
            gw.update(repeating: 0, count: n)
            gb.update(repeating: 0, count: n)
            for row in 0..<rows {
                let xs = x + row * width + lower, gs = g + row * width + lower
                let (mean, r) = (statistics[2 * row], statistics[2 * row + 1])
                for j in 0..<n {
                    gw[j] += gs[j] * (xs[j] - mean) * r
                    gb[j] += gs[j]
                }
            }
        }
    }
}
