/// The optimizers by name, for command lines and configuration files.
///
/// ```swift
/// let optimizer = OptimizerKind.adam.make(parameters: model.parameters(), learningRate: 1e-3)
/// ```
public enum OptimizerKind: String, CaseIterable, Sendable {
    /// Plain gradient descent: w ← w − η·∂C/∂w.
    case sgd
    /// SGD with momentum 0.9.
    case momentum
    case adam
    case adamw
    case rmsprop

    /// A learning rate that works for small networks with this optimizer.
    public var defaultLearningRate: Float {
        switch self {
        case .sgd: return 0.1
        case .momentum: return 0.01
        case .adam, .adamw: return 1e-3
        case .rmsprop: return 1e-3
        }
    }

    public func make(parameters: [Tensor], learningRate: Float, weightDecay: Float = 0) -> Optimizer {
        switch self {
        case .sgd: return SGD(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .momentum: return SGD(parameters: parameters, learningRate: learningRate, momentum: 0.9, weightDecay: weightDecay)
        case .adam: return Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .adamw: return AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay == 0 ? 0.01 : weightDecay)
        case .rmsprop: return RMSProp(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
        }
    }
}
