/// One LSTM step in ordinary tensor ops, PyTorch's `nn.LSTMCell`: the readable version of what the fused
/// `Tensor.lstm` does for a whole sequence, with the same parameter names and gate order (i, f, g, o), and the
/// tests' oracle for it.
///
/// ```swift
/// let cell = LSTMCell(inputSize: 10, hiddenSize: 20, generator: &rng)
/// var state: (hidden: Tensor, cell: Tensor)? = nil
/// for x in steps { state = cell(x, state: state) }      // x [B, 10] → hidden, cell [B, 20]
/// ```
public final class LSTMCell: RecurrentCell {

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, bias: bias, generator: &generator)
    }

    /// h' and c' from x [B, in] and (h, c) [B, H] each (zeros when nil).
    public func callAsFunction(_ x: Tensor, state: (hidden: Tensor, cell: Tensor)?) -> (hidden: Tensor, cell: Tensor) {
        let h = state?.hidden ?? Tensor.zeros([x.shape[0], hiddenSize])
        let c = state?.cell ?? Tensor.zeros([x.shape[0], hiddenSize])
        let gates = x.linear(weight: weightIH, bias: biasIH) + h.linear(weight: weightHH, bias: biasHH)   // [B, 4H]
        let chunks = gates.split(count: 4, axis: 1)
        let (i, f, g, o) = (chunks[0].sigmoid(), chunks[1].sigmoid(), chunks[2].tanh(), chunks[3].sigmoid())
        let cNext = f * c + i * g
        return (o * cNext.tanh(), cNext)
    }

    /// The new hidden state only, from a zero state.
    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input, state: nil).hidden }
}
