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

    public var description: String {
        switch self {
        case .seed: return "784-16-16-10 sigmoid (the notes' network)"
        case .mlp: return "784-256-128-10 ReLU"
        }
    }

    /// The shape of one input example the model expects.
    public var inputShape: [Int] { [784] }

    /// A freshly initialised model (PyTorch's default initialisation, drawn from `generator`).
    public func makeModel(generator: inout RandomGenerator) -> Sequential {
        switch self {
        case .seed:
            return Sequential(Linear(784, 16, generator: &generator), Sigmoid(),
                              Linear(16, 16, generator: &generator), Sigmoid(),
                              Linear(16, 10, generator: &generator))
        case .mlp:
            return Sequential(Linear(784, 256, generator: &generator), ReLU(),
                              Linear(256, 128, generator: &generator), ReLU(),
                              Linear(128, 10, generator: &generator))
        }
    }
}
