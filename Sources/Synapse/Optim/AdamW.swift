/// Adam with decoupled weight decay (Loshchilov & Hutter) — `torch.optim.AdamW`.
///
/// Before each Adam step the weights shrink by the learning rate times the decay, p ← p·(1 − η·λ), instead of adding
/// λ·p to the gradient, so the decay is not rescaled by Adam's per-coordinate step sizes. PyTorch's default decay is
/// 0.01. The common recipe is one group with decay for matrices and one without for biases and norms:
///
/// ```swift
/// let optimizer = AdamW(groups: [
///     ParameterGroup(parameters: weights, learningRate: 1e-3, weightDecay: 0.1),
///     ParameterGroup(parameters: biases, learningRate: 1e-3, weightDecay: 0),
/// ], beta2: 0.99)
/// ```
public final class AdamW: Adam {
    public convenience init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad)
    }

    public convenience init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            amsgrad: Bool = false) {
        self.init(groups: groups, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, decoupled: true)
    }
}
