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
