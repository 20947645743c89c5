/// One GRU step in ordinary tensor ops, PyTorch's `nn.GRUCell`: the readable version of the fused `Tensor.gru`,
/// with the same parameter names and gate order (r, z, n), and the tests' oracle for it.
///
/// ```swift
/// let cell = GRUCell(inputSize: 10, hiddenSize: 20, generator: &rng)
/// var h: Tensor? = nil
/// for x in steps { h = cell(x, hidden: h) }               // x [B, 10] → h [B, 20]
/// ```
public final class GRUCell: RecurrentCell {

    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, bias: bias, generator: &generator)
    }

    /// h' from x [B, in] and h [B, H] (zeros when nil).
    public func callAsFunction(_ x: Tensor, hidden: Tensor?) -> Tensor {
        let h = hidden ?? Tensor.zeros([x.shape[0], hiddenSize])
        let inputSide = x.linear(weight: weightIH, bias: biasIH).split(count: 3, axis: 1)    // W_i· x + b_i·
        let hiddenSide = h.linear(weight: weightHH, bias: biasHH).split(count: 3, axis: 1)   // W_h· h + b_h·
        let r = (inputSide[0] + hiddenSide[0]).sigmoid()
        let z = (inputSide[1] + hiddenSide[1]).sigmoid()
        let n = (inputSide[2] + r * hiddenSide[2]).tanh()     // b_hn stays inside the reset product
        return (1 - z) * n + z * h
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input, hidden: nil) }
}
