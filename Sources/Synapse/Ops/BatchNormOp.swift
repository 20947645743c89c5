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
        precondition(rank >= 2, "batchNorm: input must be [N, C, *], got \(shape)")
        let (n, c) = (shape[0], shape[1])
        let spatial = shape.dropFirst(2).reduce(1, *)
        for (name, t) in [("weight", weight), ("bias", bias), ("runningMean", runningMean), ("runningVar", runningVar)] {
            if let t { precondition(t.shape == [c], "batchNorm: \(name) of shape \(t.shape) for input \(shape) with \(c) channels") }
        }
        precondition((runningMean == nil) == (runningVar == nil), "batchNorm: pass both running statistics or neither")
        precondition(training || runningMean != nil, "batchNorm: eval mode needs runningMean and runningVar (input \(shape))")
        let perChannel = n * spatial
        precondition(!training || perChannel > 1,
                     "batchNorm: training needs more than one value per channel, got input \(shape)")

        let mean = Tensor(uninitializedShape: [c]), invStd = Tensor(uninitializedShape: [c])
        let (mp, ip) = (mean.storage.pointer, invStd.storage.pointer)
        if training {
            let variance = Tensor(uninitializedShape: [c])
            Kernels.channelMoments(storage.pointer, batch: n, channels: c, spatial: spatial, mean: mp,
                                   variance: variance.storage.pointer)
            let vp = variance.storage.pointer
            for k in 0..<c { ip[k] = 1 / (vp[k] + epsilon).squareRoot() }
            if let runningMean, let runningVar {
                let unbias = Float(perChannel) / Float(perChannel - 1)
                runningMean.withSharedMutableStorage { r in
                    for k in 0..<c { r[k] = (1 - momentum) * r[k] + momentum * mp[k] }
                }
                runningVar.withSharedMutableStorage { r in
                    for k in 0..<c { r[k] = (1 - momentum) * r[k] + momentum * vp[k] * unbias }
                }
            }
        } else if let runningMean, let runningVar {
            let (rm, rv) = (runningMean.storage.pointer, runningVar.storage.pointer)
            for k in 0..<c {
                mp[k] = rm[k]
                ip[k] = 1 / (rv[k] + epsilon).squareRoot()
            }
        }
        let gamma = weight?.detached() ?? Tensor.ones([c])
        let scale = Tensor(uninitializedShape: [c]), shift = Tensor(uninitializedShape: [c])
        let (gp, sp, hp) = (gamma.storage.pointer, scale.storage.pointer, shift.storage.pointer)
        for k in 0..<c {
            sp[k] = gp[k] * ip[k]
            hp[k] = (bias?.storage.pointer[k] ?? 0) - mp[k] * sp[k]
        }
        let out = Tensor(uninitializedShape: shape)
        Kernels.channelAffine(storage.pointer, batch: n, channels: c, spatial: spatial, scale: sp, shift: hp,
                              out.storage.pointer)

        let x = detached()
        let (needX, needW, needB) = (requiresGrad, weight?.requiresGrad ?? false, bias?.requiresGrad ?? false)
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let (hasWeight, hasBias) = (weight != nil, bias != nil)
        return Tensor.record(out, op: "batch_norm", inputs: inputs) { g in
            let sumG = Tensor(uninitializedShape: [c]), sumGX = Tensor(uninitializedShape: [c])
            let (sg, sgx) = (sumG.storage.pointer, sumGX.storage.pointer)
            Kernels.channelGradientMoments(g.storage.pointer, x.storage.pointer, batch: n, channels: c, spatial: spatial,
                                           mean: mean.storage.pointer, sumG: sg, sumGX: sgx)
            let (mp, ip, sp) = (mean.storage.pointer, invStd.storage.pointer, scale.storage.pointer)
            var gx: Tensor?
            if needX {
                let dx = Tensor(uninitializedShape: x.shape)
                let xScale = Tensor(uninitializedShape: [c]), offset = Tensor(uninitializedShape: [c])
                let (xs, off) = (xScale.storage.pointer, offset.storage.pointer)
                let m = Float(perChannel)
                for k in 0..<c {
                    if training {
                        // γ·invstd·(g − Σg/M − (x − μ)·invstd²·Σg(x − μ)/M), as a·g + b·x + offset.
                        xs[k] = -sp[k] * ip[k] * ip[k] * sgx[k] / m
                        off[k] = -sp[k] * sg[k] / m - xs[k] * mp[k]
                    } else {
                        xs[k] = 0
                        off[k] = 0
                    }
                }
                Kernels.channelGradientAffine(g.storage.pointer, x.storage.pointer, batch: n, channels: c,
                                              spatial: spatial, gScale: sp, xScale: xs, shift: off, dx.storage.pointer)
                gx = dx
            }
            var grads: [Tensor?] = [gx]
            if hasWeight {
                if needW {
                    let dw = Tensor(uninitializedShape: [c])
                    for k in 0..<c { dw.storage.pointer[k] = sgx[k] * ip[k] }
                    grads.append(dw)
                } else { grads.append(nil) }
            }
            if hasBias { grads.append(needB ? sumG : nil) }
            return grads
        }
    }
}
