/// One step of the notes' recurrent unit in ordinary tensor ops, PyTorch's `nn.RNNCell`:
/// h' = σ(W_ih·x + b_ih + W_hh·h + b_hh), with W_ih the notes' U, W_hh their W and b_ih + b_hh their B. The
/// readable version of the fused `Tensor.rnn`, and the tests' oracle.
///
/// ```swift
/// let cell = RNNCell(inputSize: 10, hiddenSize: 20, activation: .tanh, generator: &rng)
/// var h: Tensor? = nil
/// for x in steps { h = cell(x, hidden: h) }               // x [B, 10] → h [B, 20]
/// ```
public final class RNNCell: RecurrentCell {
    public let activation: RecurrentActivation

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, activation: RecurrentActivation = .tanh,
                generator: inout RandomGenerator) {
        self.activation = activation
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 1, bias: bias, generator: &generator)
    }

    /// h' from x [B, in] and h [B, H] (zeros when nil).
    public func callAsFunction(_ x: Tensor, hidden: Tensor?) -> Tensor {
        let h = hidden ?? Tensor.zeros([x.shape[0], hiddenSize])
        return activation(x.linear(weight: weightIH, bias: biasIH) + h.linear(weight: weightHH, bias: biasHH))
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input, hidden: nil) }
}
