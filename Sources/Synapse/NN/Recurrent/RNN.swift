/// The recurrent unit of the notes: h_t = σ(U·x_t + W·h_{t−1} + B) and y_t = O(V·h_t + C), weights shared across
/// time. U, W, B are PyTorch's `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0 + bias_hh_l0` (σ = `nonlinearity`);
/// V, C are the optional `output` layer. Without `outputSize` it returns h_t, as `nn.RNN` does.
///
/// ```swift
/// let rnn = RNN(inputSize: 10, hiddenSize: 32, outputSize: 10, activation: .tanh, outputActivation: .identity,
///               generator: &rng)
/// let (y, state) = rnn(x, state: nil)      // y [B, T, 10]: O(V·h_t + C) at every step
/// ```
public final class RNN: RecurrentLayer {
    public let activation: RecurrentActivation
    public let outputActivation: RecurrentActivation
    /// V and C of the notes, when an output size was given.
    public let output: Linear?

    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, outputSize: Int? = nil,
                activation: RecurrentActivation = .tanh, outputActivation: RecurrentActivation = .identity,
                generator: inout RandomGenerator) {
        self.activation = activation
        self.outputActivation = outputActivation
        output = outputSize.map { Linear(hiddenSize, $0, generator: &generator) }
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, outputSize: Int? = nil,
                            activation: RecurrentActivation = .tanh, outputActivation: RecurrentActivation = .identity) {
        var generator = Random.independentGenerator()
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, outputSize: outputSize,
                  activation: activation, outputActivation: outputActivation, generator: &generator)
    }

    override func extraChildren() -> [(name: String, module: Module)] { output.map { [("output", $0)] } ?? [] }

    override func runLayer(_ layer: Int, _ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let r = Tensor.rnn(input, weightIH: weightsIH[layer], weightHH: weightsHH[layer],
                           biasIH: hasBias ? biasesIH[layer] : nil, biasHH: hasBias ? biasesHH[layer] : nil,
                           initialHidden: hidden, activation: activation)
        return (r.output, r.hidden, nil)
    }

    /// y_t = O(V·h_t + C) at every step when the layer has an output map, h_t otherwise; and the final state.
    public override func callAsFunction(_ input: Tensor, state: RecurrentState?) -> (output: Tensor, state: RecurrentState) {
        let (h, final) = super.callAsFunction(input, state: state)
        guard let output else { return (h, final) }
        return (outputActivation(output(h)), final)
    }
}
