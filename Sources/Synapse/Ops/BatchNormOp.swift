/// Batch normalisation as one fused op (PyTorch's `F.batch_norm`) over [N, C, *] tensors: statistics per channel
/// over the batch and spatial positions, the affine map applied in one pass, and a closed-form backward.
///
/// Training: x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β with the batch's biased variance; the running statistics, when
/// given, move towards the batch's (running_var with the unbiased variance, as PyTorch). Backward, M = N·H·W:
/// ∂L/∂x = γ/√(σ²+ε) · (g − Σg/M − x̂·Σ(g·x̂)/M), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g.
/// Eval: the running statistics replace the batch's, so y is an affine map of x and ∂L/∂x = γ/√(var+ε)·g.
extension Tensor {
    /// Normalises each channel of an [N, C, *] input (e.g. [N, C, H, W] for BatchNorm2d, [N, C] for BatchNorm1d).
    ///
    /// `weight` (γ) and `bias` (β) are [C] or `nil` (no affine map). In training mode, `runningMean` and `runningVar`
    /// (if given) are updated in place — in the storage shared with the module's buffers — by
    /// `running = (1 − momentum)·running + momentum·batch`. In eval mode they are required and used as the statistics.
    ///
    /// ```swift
    /// let mean = Tensor.zeros([16]), variance = Tensor.ones([16])
    /// let y = x.batchNorm(runningMean: mean, runningVar: variance, weight: gamma, bias: beta, training: true)
    /// ```
    public func batchNorm(runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?, training: Bool,
                          momentum: Float = 0.1, epsilon: Float = 1e-5) -> Tensor {
        let (n, c, spatial) = checkBatchNormArguments(runningMean: runningMean, runningVar: runningVar, weight: weight,
                                                      bias: bias, training: training)
        let layout = BatchNormLayout(batch: n, channels: c, spatial: spatial)
        let (mean, inverseStd) = batchNormStatistics(layout, training: training, runningMean: runningMean,
                                                     runningVar: runningVar, momentum: momentum, epsilon: epsilon)
        let (scale, shift) = Tensor.channelScaleAndShift(mean: mean, inverseStd: inverseStd, weight: weight, bias: bias)
        let out = Tensor(uninitializedShape: shape)
        Kernels.channelAffine(storage.pointer, batch: n, channels: c, spatial: spatial, scale: scale.storage.pointer,
                              shift: shift.storage.pointer, out.storage.pointer)

        let x = detached()
        let inputs = [self] + [weight, bias].compactMap { $0 }
        let wants = (input: requiresGrad, weight: weight?.requiresGrad ?? false, bias: bias?.requiresGrad ?? false)
        let (hasWeight, hasBias) = (weight != nil, bias != nil)
        return Tensor.record(out, op: "batch_norm", inputs: inputs) { g in
            let (gradInput, gradWeight, gradBias) = Tensor.batchNormBackward(
                g, input: x, layout, training: training, mean: mean, inverseStd: inverseStd, scale: scale,
                needsInput: wants.input, needsWeight: wants.weight)
            var grads: [Tensor?] = [gradInput]
            if hasWeight { grads.append(gradWeight) }
            if hasBias { grads.append(wants.bias ? gradBias : nil) }
            return grads
        }
    }

    /// N, C and the positions per channel and image of an [N, C, *] input, after checking every argument's shape.
    private func checkBatchNormArguments(runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                         training: Bool) -> (batch: Int, channels: Int, spatial: Int) {
        precondition(rank >= 2, "batchNorm: input must be [N, C, *], got \(shape)")
        let (n, c) = (shape[0], shape[1])
        let spatial = shape.dropFirst(2).reduce(1, *)
        for (name, t) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)] {
            if let t { precondition(t.shape == [c], "batchNorm: \(name) of shape \(t.shape) for input \(shape) with \(c) channels") }
        }
        precondition((runningMean == nil) == (runningVar == nil), "batchNorm: pass both running statistics or neither")
        precondition(training || runningMean != nil, "batchNorm: eval mode needs runningMean and runningVar (input \(shape))")
        precondition(!training || n * spatial > 1,
                     "batchNorm: training needs more than one value per channel, got input \(shape)")
        return (n, c, spatial)
    }

    /// The per-channel mean and 1/√(σ² + ε): the batch's in training (moving the running statistics towards them,
    /// running_var with the unbiased variance as PyTorch), the running ones in eval mode.
    private func batchNormStatistics(_ layout: BatchNormLayout, training: Bool, runningMean: Tensor?, runningVar: Tensor?,
                                     momentum: Float, epsilon: Float) -> (mean: Tensor, inverseStd: Tensor) {
        let c = layout.channels
        let mean = Tensor(uninitializedShape: [c]), inverseStd = Tensor(uninitializedShape: [c])
        let (mu, inverse) = (mean.storage.pointer, inverseStd.storage.pointer)
        guard training else {
            let (runMean, runVar) = (runningMean!.storage.pointer, runningVar!.storage.pointer)
            for k in 0..<c {
                mu[k] = runMean[k]
                inverse[k] = 1 / (runVar[k] + epsilon).squareRoot()
            }
            return (mean, inverseStd)
        }
        let variance = Tensor(uninitializedShape: [c])
        let sigma2 = variance.storage.pointer
        Kernels.channelMoments(storage.pointer, batch: layout.batch, channels: c, spatial: layout.spatial, mean: mu,
                               variance: sigma2)
        for k in 0..<c { inverse[k] = 1 / (sigma2[k] + epsilon).squareRoot() }
        if let runningMean, let runningVar {
            let unbias = Float(layout.perChannel) / Float(layout.perChannel - 1)
            runningMean.withSharedMutableStorage { r in
                for k in 0..<c { r[k] = (1 - momentum) * r[k] + momentum * mu[k] }
            }
            runningVar.withSharedMutableStorage { r in
                for k in 0..<c { r[k] = (1 - momentum) * r[k] + momentum * sigma2[k] * unbias }
            }
        }
        return (mean, inverseStd)
    }

    /// y = scale·x + shift per channel, with scale = γ/√(σ² + ε) and shift = β − μ·scale.
    private static func channelScaleAndShift(mean: Tensor, inverseStd: Tensor, weight: Tensor?,
                                             bias: Tensor?) -> (scale: Tensor, shift: Tensor) {
        let c = mean.count
        let scale = Tensor(uninitializedShape: [c]), shift = Tensor(uninitializedShape: [c])
        let (a, b) = (scale.storage.pointer, shift.storage.pointer)
        let (mu, inverse) = (mean.storage.pointer, inverseStd.storage.pointer)
        let gamma = weight?.storage.pointer, beta = bias?.storage.pointer
        for k in 0..<c {
            a[k] = (gamma?[k] ?? 1) * inverse[k]
            b[k] = (beta?[k] ?? 0) - mu[k] * a[k]
        }
        return (scale, shift)
    }

    /// ∂L/∂x, ∂L/∂γ (nil unless asked for) and ∂L/∂β = Σ g from the upstream gradient `g`.
    private static func batchNormBackward(_ g: Tensor, input x: Tensor, _ layout: BatchNormLayout, training: Bool,
                                          mean: Tensor, inverseStd: Tensor, scale: Tensor, needsInput: Bool,
                                          needsWeight: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor) {
        let (n, c, spatial) = (layout.batch, layout.channels, layout.spatial)
        let sumG = Tensor(uninitializedShape: [c]), sumGX = Tensor(uninitializedShape: [c])
        let (sg, sgx) = (sumG.storage.pointer, sumGX.storage.pointer)
        Kernels.channelGradientMoments(g.storage.pointer, x.storage.pointer, batch: n, channels: c, spatial: spatial,
                                       mean: mean.storage.pointer, sumG: sg, sumGX: sgx)
        let (mu, inverse, a) = (mean.storage.pointer, inverseStd.storage.pointer, scale.storage.pointer)
        var gradInput: Tensor?
        if needsInput {
            let dx = Tensor(uninitializedShape: x.shape)
            let xScale = Tensor(uninitializedShape: [c]), offset = Tensor(uninitializedShape: [c])
            let (xs, shift) = (xScale.storage.pointer, offset.storage.pointer)
            let m = Float(layout.perChannel)
            for k in 0..<c {
                if training {
                    // γ·invstd·(g − Σg/M − (x − μ)·invstd²·Σg(x − μ)/M), as a·g + b·x + offset.
                    xs[k] = -a[k] * inverse[k] * inverse[k] * sgx[k] / m
                    shift[k] = -a[k] * sg[k] / m - xs[k] * mu[k]
                } else {
                    (xs[k], shift[k]) = (0, 0)
                }
            }
            Kernels.channelGradientAffine(g.storage.pointer, x.storage.pointer, batch: n, channels: c, spatial: spatial,
                                          gScale: a, xScale: xs, shift: shift, dx.storage.pointer)
            gradInput = dx
        }
        var gradWeight: Tensor?
        if needsWeight {
            let dw = Tensor(uninitializedShape: [c])
            for k in 0..<c { dw.storage.pointer[k] = sgx[k] * inverse[k] }
            gradWeight = dw
        }
        return (gradInput, gradWeight, sumG)
    }
}

/// The extents of an [N, C, *] batch-norm input.
private struct BatchNormLayout {
    let batch: Int, channels: Int, spatial: Int
    /// M = N·H·W: the values each channel's statistics are taken over.
    var perChannel: Int { batch * spatial }
}
