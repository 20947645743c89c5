/// One step of the notes' recurrent unit in ordinary tensor ops, PyTorch's `nn.RNNCell`:
/// h' = σ(W_ih·x + b_ih + W_hh·h + b_hh). The readable version of the fused `Tensor.rnn`, and the tests' oracle.
///
/// ```swift
/// let cell = RNNCell(inputSize: 10, hiddenSize: 20, activation: .tanh, generator: &rng)
/// var h: Tensor? = nil
/// for x in steps { h = cell(x, hidden: h) }               // x [B, 10] → h [B, 20]
/// ```
public final class RNNCell: Module {
    public var weightIH: Tensor   // [H, in], the notes' U
    public var weightHH: Tensor   // [H, H], the notes' W
    public var biasIH: Tensor?    // [H]; with bias_hh, the notes' B
    public var biasHH: Tensor?    // [H]
    public let hiddenSize: Int
    public let activation: RecurrentActivation

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, activation: RecurrentActivation = .tanh,
                generator: inout RandomGenerator) {
        self.hiddenSize = hiddenSize
        self.activation = activation
        weightIH = Tensor.recurrentParameter([hiddenSize, inputSize], hiddenSize: hiddenSize, generator: &generator)
        weightHH = Tensor.recurrentParameter([hiddenSize, hiddenSize], hiddenSize: hiddenSize, generator: &generator)
        biasIH = bias ? Tensor.recurrentParameter([hiddenSize], hiddenSize: hiddenSize, generator: &generator) : nil
        biasHH = bias ? Tensor.recurrentParameter([hiddenSize], hiddenSize: hiddenSize, generator: &generator) : nil
        super.init()
    }

    public override class var stateKeyOverrides: [String: String] {
        ["weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh"]
    }

    /// h' from x [B, in] and h [B, H] (zeros when nil).
    public func callAsFunction(_ x: Tensor, hidden: Tensor?) -> Tensor {
        let h = hidden ?? Tensor.zeros([x.shape[0], hiddenSize])
        return activation(x.linear(weight: weightIH, bias: biasIH) + h.linear(weight: weightHH, bias: biasHH))
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input, hidden: nil) }
}
