/// RMSProp (Hinton) with optional momentum and the centered variant — `torch.optim.RMSprop`.
///
/// With gradient g (plus λ·p when weight decay λ is set), smoothing α and ε:
///
///     s = α·s + (1 − α)·g²                   running mean of squared gradients
///     a = a + (1 − α)·(g − a)                 running mean of gradients (centered only)
///     r = √(s − a²) + ε   (centered)   or   √s + ε
///     b = μ·b + g / r;  p = p − η·b     (momentum μ > 0)
///     p = p − η·g / r                  (otherwise)
///
/// ```swift
/// let optimizer = RMSProp(parameters: model.parameters(), learningRate: 1e-3, momentum: 0.9, centered: true)
/// ```
public final class RMSProp: Optimizer {
    public let alpha: Float
    public let epsilon: Float
    public let momentum: Float
    public let centered: Bool

    public convenience init(parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
                            weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  alpha: alpha, epsilon: epsilon, momentum: momentum, centered: centered)
    }

    public init(groups: [ParameterGroup], alpha: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
                centered: Bool = false) {
        precondition(alpha >= 0 && alpha <= 1, "RMSProp: alpha must be in [0, 1], got \(alpha)")
        precondition(momentum >= 0, "RMSProp: negative momentum \(momentum)")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        var names = ["square_avg"]
        if momentum > 0 { names.append("momentum_buffer") }
        if centered { names.append("grad_avg") }
        super.init(groups: groups, bufferNames: names)
    }

    public override func step() {
        let (alpha, eps, mu, centered) = (self.alpha, epsilon, momentum, self.centered)
        let oneMinusAlpha = 1 - alpha
        let useMomentum = mu > 0
        forEachParameterWithGradientConcurrently { b, s, group in
            let (p, g, lr, wd) = (b.parameter, b.gradient, group.learningRate, group.weightDecay)
            let square = s.buffers[0].optimizerStatePointer
            // Unused buffers alias `square` so the loop has no optionals; the flags keep them from being touched.
            let buf = useMomentum ? s.buffers[1].optimizerStatePointer : square
            let avg = centered ? s.buffers[useMomentum ? 2 : 1].optimizerStatePointer : square
            Parallel.forRanges(b.count) { r in
                FusedLoop.blocks(r) { i, n in
                    let w = FusedLoop.load(p, i, n)
                    let gi = FusedLoop.load(g, i, n) + wd * w
                    let si = FusedLoop.flushingSubnormals(alpha * FusedLoop.load(square, i, n) + oneMinusAlpha * gi * gi)
                    FusedLoop.store(si, square, i, n)
                    var variance = si
                    if centered {
                        let aOld = FusedLoop.load(avg, i, n)
                        let ai = FusedLoop.flushingSubnormals(aOld + oneMinusAlpha * (gi - aOld))
                        FusedLoop.store(ai, avg, i, n)
                        variance = si - ai * ai
                    }
                    let root = variance.squareRoot() + eps
                    if useMomentum {
                        let bi = FusedLoop.flushingSubnormals(mu * FusedLoop.load(buf, i, n) + gi / root)
                        FusedLoop.store(bi, buf, i, n)
                        FusedLoop.store(w - lr * bi, p, i, n)
                    } else {
                        FusedLoop.store(w - lr * (gi / root), p, i, n)
                    }
                }
            }
        }
    }
}
