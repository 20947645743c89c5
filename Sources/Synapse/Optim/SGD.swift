/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay —
/// PyTorch's `torch.optim.SGD`, formula for formula.
///
/// With gradient g, parameter p, learning rate η, weight decay λ, momentum μ and dampening τ:
///
///     d = g + λ·p
///     b = d                          on the first step
///     b = μ·b + (1 − τ)·d            afterwards
///     d = d + μ·b   (Nesterov)   or   d = b
///     p = p − η·d
///
/// Without momentum it is the plain update p ← p − η·g of the notes. Whether this is batch, stochastic or
/// mini-batch gradient descent depends only on how many examples the loss averages over (the trainer's batch size).
///
/// ```swift
/// let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9, nesterov: true)
/// loss.backward()
/// optimizer.step()
/// ```
public final class SGD: Optimizer {
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool

    /// One group: every parameter uses `learningRate` and `weightDecay`.
    public convenience init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                            weightDecay: Float = 0, nesterov: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    /// Several groups, each with its own learning rate and weight decay.
    public init(groups: [ParameterGroup], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0, "SGD: negative momentum \(momentum)")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires momentum > 0 and zero dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        super.init(groups: groups, bufferNames: momentum == 0 ? [] : ["momentum_buffer"])
    }

    public override func step() {
        let (mu, damp, nesterov) = (momentum, dampening, self.nesterov)
        forEachParameterWithGradientConcurrently { b, s, group in
            let state = mu == 0 ? nil : (buffer: s.buffers[0].optimizerStatePointer, mu: mu, dampening: damp,
                                         nesterov: nesterov, first: s.step == 1)
            Kernels.sgdStep(parameter: b.parameter, gradient: b.gradient, count: b.count,
                            learningRate: group.learningRate, weightDecay: group.weightDecay, momentum: state)
        }
    }
}
