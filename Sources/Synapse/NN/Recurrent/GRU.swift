/// A gated recurrent unit layer stack with PyTorch's gate order (r, z, n), parameter names and batch-first input.
///
/// ```swift
/// let gru = GRU(inputSize: 128, hiddenSize: 256, generator: &rng)
/// let (y, state) = gru(x, state: nil)       // state.hidden [1, B, 256]; state.cell is nil
/// ```
public final class GRU: RecurrentLayer {
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, gateCount: 3, generator: &generator)
    }

    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    override func runLayer(_ layer: Int, _ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let r = Tensor.gru(input, weightIH: weightsIH[layer], weightHH: weightsHH[layer],
                           biasIH: hasBias ? biasesIH[layer] : nil, biasHH: hasBias ? biasesHH[layer] : nil,
                           initialHidden: hidden)
        return (r.output, r.hidden, nil)
    }
}
