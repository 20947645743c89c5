import CSynapseKernels

/// The optimizers' per-element updates, one pass over each parameter and its state, spread over the cores.
/// Optim/ holds the formulas and the per-step scalars (bias corrections, learning rates); these loops only apply
/// them. Each is written once on `FusedLoop` (the portable path, and the oracle of the AVX-512 one).
extension Kernels {
    /// SGD: d = g + λ·p; with momentum μ, m = d on the first step and μ·m + (1 − dampening)·d after;
    /// p = p − η·(nesterov ? d + μ·m : m). `momentum` is nil for plain SGD.
    static func sgdStep(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int,
                        learningRate lr: Float, weightDecay wd: Float,
                        momentum: (buffer: UnsafeMutablePointer<Float>, mu: Float, dampening: Float,
                                   nesterov: Bool, first: Bool)?) {
        guard let momentum else {
            Parallel.forRanges(count) { r in
                FusedLoop.blocks(r) { i, n in
                    let w = FusedLoop.load(p, i, n)
                    FusedLoop.store(w - lr * (FusedLoop.load(g, i, n) + wd * w), p, i, n)
                }
            }
            return
        }
        let (buffer, mu, keep, nesterov, first) = (momentum.buffer, momentum.mu, 1 - momentum.dampening,
                                                   momentum.nesterov, momentum.first)
        Parallel.forRanges(count) { r in
            FusedLoop.blocks(r) { i, n in
                let w = FusedLoop.load(p, i, n)
                let d = FusedLoop.load(g, i, n) + wd * w
                let m = FusedLoop.flushingSubnormals(first ? d : mu * FusedLoop.load(buffer, i, n) + keep * d)
                FusedLoop.store(m, buffer, i, n)
                FusedLoop.store(w - lr * (nesterov ? d + mu * m : m), p, i, n)
            }
        }
    }

    /// RMSprop: s = α·s + (1 − α)·g²; centered, a = a + (1 − α)·(g − a) and the variance is s − a²; with momentum,
    /// b = μ·b + g/(√variance + ε) and p = p − η·b, else p = p − η·g/(√variance + ε).
    static func rmspropStep(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int,
                            square: UnsafeMutablePointer<Float>, momentumBuffer: UnsafeMutablePointer<Float>?,
                            gradientAverage: UnsafeMutablePointer<Float>?, learningRate lr: Float, weightDecay wd: Float,
                            alpha: Float, epsilon eps: Float, momentum mu: Float) {
        let oneMinusAlpha = 1 - alpha
        // Absent buffers alias `square` so the loop has no optionals; the flags keep them from being touched.
        let (useMomentum, centered) = (momentumBuffer != nil, gradientAverage != nil)
        let (buffer, average) = (momentumBuffer ?? square, gradientAverage ?? square)
        Parallel.forRanges(count) { r in
            FusedLoop.blocks(r) { i, n in
                let w = FusedLoop.load(p, i, n)
                let gi = FusedLoop.load(g, i, n) + wd * w
                let si = FusedLoop.flushingSubnormals(alpha * FusedLoop.load(square, i, n) + oneMinusAlpha * gi * gi)
                FusedLoop.store(si, square, i, n)
                var variance = si
                if centered {
                    let aOld = FusedLoop.load(average, i, n)
                    let ai = FusedLoop.flushingSubnormals(aOld + oneMinusAlpha * (gi - aOld))
                    FusedLoop.store(ai, average, i, n)
                    variance = si - ai * ai
                }
                let root = variance.squareRoot() + eps
                if useMomentum {
                    let bi = FusedLoop.flushingSubnormals(mu * FusedLoop.load(buffer, i, n) + gi / root)
                    FusedLoop.store(bi, buffer, i, n)
                    FusedLoop.store(w - lr * bi, p, i, n)
                } else {
                    FusedLoop.store(w - lr * (gi / root), p, i, n)
                }
            }
        }
    }

    /// The scalars of one Adam step, computed once per parameter by `Adam.step`.
    struct AdamScalars {
        /// AdamW's decoupled decay multiplies the weight first (1 − η·λ); 1 for Adam.
        var shrink: Float
        /// Adam's L2 term added to the gradient (λ); 0 for AdamW.
        var l2: Float
        var beta1: Float, beta2: Float
        /// η / (1 − β₁ᵗ).
        var stepSize: Float
        /// 1 / √(1 − β₂ᵗ).
        var inverseCorrection2Sqrt: Float
        var epsilon: Float
    }

    /// Adam / AdamW: w = shrink·p, d = g + l2·w, m = m + (1 − β₁)·(d − m), v = β₂·v + (1 − β₂)·d²,
    /// with AMSGrad v̂ = max(v̂, v) replacing v below; p = w − stepSize·m / (√v·inverseCorrection2Sqrt + ε).
    static func adamStep(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int,
                         m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                         peak vMax: UnsafeMutablePointer<Float>?, _ s: AdamScalars,
                         allowAVX512: Bool = CPUFeatures.avx512) {
        if vMax == nil && allowAVX512 {
            // 16 lanes per instruction with packed sqrt and divide (CSynapseKernels/optim_avx512.c).
            Parallel.forRanges(count) { r in
                let o = r.lowerBound
                synapse_adam_step_avx512(p + o, g + o, m + o, v + o, r.count, s.shrink, s.l2, s.beta1, s.beta2,
                                         s.stepSize, s.inverseCorrection2Sqrt, s.epsilon)
            }
            return
        }
        let (oneMinusB1, oneMinusB2, b2) = (1 - s.beta1, 1 - s.beta2, s.beta2)
        let amsgrad = vMax != nil
        let peaks = vMax ?? v          // aliases v when AMSGrad is off; never written then
        Parallel.forRanges(count) { r in
            FusedLoop.blocks(r) { i, n in
                let w = FusedLoop.load(p, i, n) * s.shrink
                let gi = FusedLoop.load(g, i, n) + s.l2 * w
                let mOld = FusedLoop.load(m, i, n)
                let mi = FusedLoop.flushingSubnormals(mOld + oneMinusB1 * (gi - mOld))
                let vi = FusedLoop.flushingSubnormals(b2 * FusedLoop.load(v, i, n) + oneMinusB2 * gi * gi)
                FusedLoop.store(mi, m, i, n)
                FusedLoop.store(vi, v, i, n)
                var denominatorSquare = vi
                if amsgrad {
                    let previousPeak = FusedLoop.load(peaks, i, n)
                    denominatorSquare = vi.replacing(with: previousPeak, where: previousPeak .> vi)
                    FusedLoop.store(denominatorSquare, peaks, i, n)
                }
                let denominator = denominatorSquare.squareRoot() * s.inverseCorrection2Sqrt + s.epsilon
                FusedLoop.store(w - s.stepSize * (mi / denominator), p, i, n)
            }
        }
    }
}
