/// The nonlinearity applied to a scalar neuron's weighted sum.
public enum ScalarActivation: String, CaseIterable, Sendable {
    case tanh, relu, sigmoid
    /// No nonlinearity: the output layer of a classifier that reads the raw score.
    case identity

    func apply(_ x: Value) -> Value {
        switch self {
        case .tanh: return x.tanh()
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .identity: return x
        }
    }
}

/// One neuron of the notes: `activation(w · x + b)` over `Value`s, so every weight gets a gradient.
///
/// ```swift
/// let n = ScalarNeuron(weights: [-3, 1], bias: 6.8813735870195432, activation: .tanh)
/// let out = n([Value(2), Value(0)])   // 0.7071
/// out.backward()
/// print(n.weights[0].grad)            // 1.0
/// ```
public final class ScalarNeuron {
    public let weights: [Value]
    public let bias: Value
    public let activation: ScalarActivation

    /// A neuron with the given weights and bias (for worked examples and for comparing with the tensor engine).
    public init(weights: [Double], bias: Double, activation: ScalarActivation = .tanh) {
        self.weights = weights.enumerated().map { Value($0.element, label: "w\($0.offset + 1)") }
        self.bias = Value(bias, label: "b")
        self.activation = activation
    }

    /// Weights uniform in [-1, 1) and a zero bias, as in micrograd.
    init(inputCount: Int, activation: ScalarActivation, generator: inout RandomGenerator) {
        precondition(inputCount > 0, "ScalarNeuron: inputCount must be positive, got \(inputCount)")
        self.weights = (0..<inputCount).map { Value(generator.uniform(-1, 1), label: "w\($0 + 1)") }
        self.bias = Value(0, label: "b")
        self.activation = activation
    }

    public func callAsFunction(_ inputs: [Value]) -> Value {
        precondition(inputs.count == weights.count,
                     "ScalarNeuron: expected \(weights.count) inputs, got \(inputs.count)")
        var sum = bias
        for (w, x) in zip(weights, inputs) { sum = sum + w * x }
        return activation.apply(sum)
    }

    public var parameters: [Value] { weights + [bias] }
}

/// A row of independent neurons that all see the same inputs.
///
/// ```swift
/// let layer = ScalarLayer(weights: [[1, 2], [3, 4], [5, 6]], biases: [0, 0, 0], activation: .relu)
/// let outputs = layer([Value(1), Value(-1)])   // three Values
/// ```
public final class ScalarLayer {
    public let neurons: [ScalarNeuron]

    /// `weights[j]` are the input weights of neuron `j` (rows = outputs, the layout of a linear layer's weight
    /// matrix), `biases[j]` its bias.
    public init(weights: [[Double]], biases: [Double], activation: ScalarActivation) {
        precondition(weights.count == biases.count,
                     "ScalarLayer: \(weights.count) weight rows but \(biases.count) biases")
        precondition(Set(weights.map(\.count)).count <= 1, "ScalarLayer: weight rows have different lengths")
        neurons = zip(weights, biases).map { ScalarNeuron(weights: $0, bias: $1, activation: activation) }
    }

    init(inputCount: Int, outputCount: Int, activation: ScalarActivation, generator: inout RandomGenerator) {
        precondition(outputCount > 0, "ScalarLayer: outputCount must be positive, got \(outputCount)")
        var made: [ScalarNeuron] = []
        for _ in 0..<outputCount {
            made.append(ScalarNeuron(inputCount: inputCount, activation: activation, generator: &generator))
        }
        neurons = made
    }

    public func callAsFunction(_ inputs: [Value]) -> [Value] { neurons.map { $0(inputs) } }

    public var parameters: [Value] { neurons.flatMap(\.parameters) }
}

/// A multilayer perceptron on `Value`s: hidden layers with a nonlinearity, a linear output layer.
///
/// ```swift
/// let model = ScalarMLP(inputCount: 2, layerSizes: [16, 16, 1], seed: 42)
/// let score = model([Value(0.5), Value(-0.2)])[0]
/// ```
public final class ScalarMLP {
    public let layers: [ScalarLayer]

    /// Random weights from `seed`; `layerSizes.last` is the number of outputs.
    public init(inputCount: Int, layerSizes: [Int], hiddenActivation: ScalarActivation = .tanh, seed: UInt64) {
        precondition(!layerSizes.isEmpty, "ScalarMLP: layerSizes must not be empty")
        var generator = RandomGenerator(seed: seed)
        let fanIns = [inputCount] + layerSizes.dropLast()
        var made: [ScalarLayer] = []
        for (index, (fanIn, size)) in zip(fanIns, layerSizes).enumerated() {
            let activation = index == layerSizes.count - 1 ? ScalarActivation.identity : hiddenActivation
            made.append(ScalarLayer(inputCount: fanIn, outputCount: size, activation: activation, generator: &generator))
        }
        layers = made
    }

    /// Given weights: `weights[l][j][i]` connects input `i` of layer `l` to its neuron `j` (PyTorch's
    /// `Linear.weight` layout, `[out][in]`), `biases[l][j]` is that neuron's bias. This is how the same network is
    /// built in the tensor engine to compare the two.
    public init(weights: [[[Double]]], biases: [[Double]], hiddenActivation: ScalarActivation = .tanh) {
        precondition(!weights.isEmpty && weights.count == biases.count,
                     "ScalarMLP: need one bias list per weight matrix, got \(weights.count) and \(biases.count)")
        for l in 1..<weights.count {
            precondition(weights[l].allSatisfy { $0.count == weights[l - 1].count },
                         "ScalarMLP: layer \(l) expects \(weights[l].first?.count ?? 0) inputs but layer \(l - 1) has \(weights[l - 1].count) outputs")
        }
        layers = weights.indices.map { l in
            ScalarLayer(weights: weights[l], biases: biases[l],
                        activation: l == weights.count - 1 ? .identity : hiddenActivation)
        }
    }

    public func callAsFunction(_ inputs: [Value]) -> [Value] {
        layers.reduce(inputs) { x, layer in layer(x) }
    }

    /// Convenience for plain numbers.
    public func callAsFunction(_ inputs: [Double]) -> [Value] { self(inputs.map { Value($0) }) }

    /// Every weight and bias, layer by layer, neuron by neuron (weights first, then the bias).
    public var parameters: [Value] { layers.flatMap(\.parameters) }
}
