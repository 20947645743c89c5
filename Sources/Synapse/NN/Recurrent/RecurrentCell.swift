/// What the readable cells (`LSTMCell`, `GRUCell`, `RNNCell`) share: PyTorch's four parameters for G gates —
/// `weight_ih` [G·H, in], `weight_hh` [G·H, H], `bias_ih` and `bias_hh` [G·H] — drawn from U(−1/√H, 1/√H) in that
/// order, as `nn.LSTMCell` and its siblings do.
public class RecurrentCell: Module {
    public var weightIH: Tensor
    public var weightHH: Tensor
    public var biasIH: Tensor?
    public var biasHH: Tensor?
    public let hiddenSize: Int

    public override class var stateKeyOverrides: [String: String] {
        ["weightIH": "weight_ih", "weightHH": "weight_hh", "biasIH": "bias_ih", "biasHH": "bias_hh"]
    }

    init(inputSize: Int, hiddenSize: Int, gates: Int, bias: Bool, generator: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0, "\(Self.self): sizes must be positive, got \(inputSize) → \(hiddenSize)")
        self.hiddenSize = hiddenSize
        func uniform(_ shape: [Int]) -> Tensor { Tensor.recurrentParameter(shape, hiddenSize: hiddenSize, generator: &generator) }
        weightIH = uniform([gates * hiddenSize, inputSize])
        weightHH = uniform([gates * hiddenSize, hiddenSize])
        biasIH = bias ? uniform([gates * hiddenSize]) : nil
        biasHH = bias ? uniform([gates * hiddenSize]) : nil
        super.init()
    }
}
