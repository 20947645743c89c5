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
        forEachParameterWithGradientConcurrently { b, s, group in
            let momentumBuffer = mu > 0 ? s.buffers[1].optimizerStatePointer : nil
            let gradientAverage = centered ? s.buffers[mu > 0 ? 2 : 1].optimizerStatePointer : nil
            Kernels.rmspropStep(parameter: b.parameter, gradient: b.gradient, count: b.count,
                                square: s.buffers[0].optimizerStatePointer, momentumBuffer: momentumBuffer,
                                gradientAverage: gradientAverage, learningRate: group.learningRate,
                                weightDecay: group.weightDecay, alpha: alpha, epsilon: eps, momentum: mu)
        }
    }
}
