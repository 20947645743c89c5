/// One LSTM step in ordinary tensor ops, PyTorch's `nn.LSTMCell`: the readable version of what the fused
/// `Tensor.lstm` does for a whole sequence, with the same parameter names and gate order (i, f, g, o), and the
/// tests' oracle for it.
///
/// ```swift
/// let cell = LSTMCell(inputSize: 10, hiddenSize: 20, generator: &rng)
/// var state: (hidden: Tensor, cell: Tensor)? = nil
/// for x in steps { state = cell(x, state: state) }      // x [B, 10] → hidden, cell [B, 20]
/// ```
public final class LSTMCell: Module {
    public var weightIH: Tensor   // [4H, in]
    public var weightHH: Tensor   // [4H, H]
    public var biasIH: Tensor?    // [4H]
    public var biasHH: Tensor?    // [4H]
    public let hiddenSize: Int

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        self.hiddenSize = hiddenSize
        weightIH = Tensor.recurrentParameter([4 * hiddenSize, inputSize], hiddenSize: hiddenSize, generator: &generator)
        weightHH = Tensor.recurrentParameter([4 * hiddenSize, hiddenSize], hiddenSize: hiddenSize, generator: &generator)
        biasIH = bias ? Tensor.recurrentParameter([4 * hiddenSize], hiddenSize: hiddenSize, generator: &generator) : nil
        biasHH = bias ? Tensor.recurrentParameter([4 * hiddenSize], hiddenSize: hiddenSize, generator: &generator) : nil
        super.init()
    }

    public override class var stateKeyOverrides: [String: String] {
        ["weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh"]
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
