/// The networks of the MNIST main job, rebuilt by name from a saved model's metadata.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let model = MNISTArchitecture.mlp.makeModel(generator: &rng)   // 784-256-128-10 ReLU
/// model.parameterCount                                            // 235_146
/// ```
public enum MNISTArchitecture: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The notes' network: 784 inputs, two hidden layers of 16 sigmoid neurons, 10 outputs (13,002 parameters).
    case seed
    /// 784-256-128-10 with ReLU.
    case mlp
    /// conv 3×3 1→32, ReLU, max-pool 2, conv 3×3 32→64, ReLU, max-pool 2, 1600-128-10 (the benchmark's `cnn`;
    /// built with each pool before its ReLU, the same function computed on fewer values).
    case cnn

    public var description: String {
        switch self {
        case .seed: return "784-16-16-10 sigmoid (the notes' network)"
        case .mlp: return "784-256-128-10 ReLU"
        case .cnn: return "conv32-pool-conv64-pool-128-10"
        }
    }

    /// The shape of one input example the model expects.
    public var inputShape: [Int] { self == .cnn ? [1, 28, 28] : [784] }

    /// MNIST images as stored ([N, 784]) in the shape this model takes ([N, 1, 28, 28] for the CNN); no copy.
    public func inputs(_ images: Tensor) -> Tensor { images.reshaped([-1] + inputShape) }

    /// A freshly initialised model (PyTorch's default initialisation, drawn from `generator`).
    public func makeModel(generator: inout RandomGenerator) -> Sequential {
        switch self {
        case .seed:
            return Sequential(Linear(784, 16, generator: &generator), Sigmoid(),
                              Linear(16, 16, generator: &generator), Sigmoid(),
                              Linear(16, 10, generator: &generator))
        case .mlp:
            // He initialisation for the ReLU layers (variance 2/fan_in keeps activations from shrinking layer by
            // layer), biases at zero; PyTorch's default U(±1/√fan_in) trains measurably slower here.
            return Sequential(Linear(weight: .kaimingNormal([256, 784], generator: &generator), bias: .zeros([256])), ReLU(),
                              Linear(weight: .kaimingNormal([128, 256], generator: &generator), bias: .zeros([128])), ReLU(),
                              Linear(128, 10, generator: &generator))
        case .cnn:
            // Pool before ReLU: both are monotone, so max(relu(x)) = relu(max(x)) and the gradients agree too (the
            // window's winner is the same; a window with no positive value passes no gradient either way), but the
            // ReLU then runs on a quarter of the values, forward and backward.
            return Sequential(Conv2d(1, 32, kernelSize: 3, generator: &generator), MaxPool2d(kernelSize: 2), ReLU(),
                              Conv2d(32, 64, kernelSize: 3, generator: &generator), MaxPool2d(kernelSize: 2), ReLU(),
                              Flatten(), Linear(64 * 5 * 5, 128, generator: &generator), ReLU(),
                              Linear(128, 10, generator: &generator))
        }
    }
}
