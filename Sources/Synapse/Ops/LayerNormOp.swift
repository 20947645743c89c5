/// Layer normalisation, fused: one pass per row computes the mean, the (biased) variance and the normalised, scaled
/// and shifted output; the backward pass is the closed form instead of the graph of a dozen generic ops.
///
/// For a row x of length D with x̂ = (x − μ)·r, r = 1/√(σ² + ε), y = γ ⊙ x̂ + β and upstream gradient g:
///   ∂L/∂x = r · (g⊙γ − mean(g⊙γ) − x̂ · mean(g⊙γ⊙x̂)),   ∂L/∂γ = Σ_rows g⊙x̂,   ∂L/∂β = Σ_rows g.
extension Tensor {
    /// Normalises over the trailing dimensions `normalizedShape`, then applies the optional elementwise affine map
    /// (`weight` and `bias` of shape `normalizedShape`), as `torch.nn.functional.layer_norm`.
    ///
    /// ```swift
    /// let y = x.layerNorm(normalizedShape: [64], weight: gamma, bias: beta)   // x: [batch, tokens, 64]
    /// ```
    public func layerNorm(normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) -> Tensor {
        precondition(!normalizedShape.isEmpty && rank >= normalizedShape.count && Array(shape.suffix(normalizedShape.count)) == normalizedShape,
                     "layerNorm: input of shape \(shape) does not end in the normalized shape \(normalizedShape)")
        if let weight { precondition(weight.shape == normalizedShape, "layerNorm: weight \(weight.shape) for normalized shape \(normalizedShape)") }
        if let bias { precondition(bias.shape == normalizedShape, "layerNorm: bias \(bias.shape) for normalized shape \(normalizedShape)") }
        let width = normalizedShape.reduce(1, *)
        let rows = width == 0 ? 0 : count / width
        let out = Tensor(uninitializedShape: shape)
        // Per row: mean and reciprocal standard deviation, kept for the backward pass.
        let statistics = Tensor(uninitializedShape: [rows, 2])
        Kernels.layerNormForward(storage.pointer, rows: rows, width: width, eps: eps,
                                 gamma: weight?.storage.pointer, beta: bias?.storage.pointer,
                                 out.storage.pointer, statistics: statistics.storage.pointer)
        let x = detached(), gammaValues = weight?.detached()
        let (needX, needW, needB) = (requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
        let inputs = [self] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
        let hasWeight = weight != nil, hasBias = bias != nil
        return Tensor.record(out, op: "layer_norm", inputs: inputs) { g in
            var grads: [Tensor?] = []
            if needX {
                let gx = Tensor(uninitializedShape: x.shape)
                Kernels.layerNormBackwardInput(x.storage.pointer, g.storage.pointer, rows: rows, width: width,
                                               gamma: gammaValues?.storage.pointer, statistics: statistics.storage.pointer,
                                               gx.storage.pointer)
                grads.append(gx)
            } else {
                grads.append(nil)
            }
            if needW || needB {
                let gw = Tensor(uninitializedShape: normalizedShape), gb = Tensor(uninitializedShape: normalizedShape)
                Kernels.layerNormBackwardAffine(x.storage.pointer, g.storage.pointer, rows: rows, width: width,
                                                statistics: statistics.storage.pointer, gw.storage.pointer, gb.storage.pointer)
                if hasWeight { grads.append(needW ? gw : nil) }
                if hasBias { grads.append(needB ? gb : nil) }
            } else {
                if hasWeight { grads.append(nil) }
                if hasBias { grads.append(nil) }
            }
            return grads
        }
    }
}

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
