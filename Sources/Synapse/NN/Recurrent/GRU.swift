/// A gated recurrent unit layer stack with PyTorch's gate order (r, z, n), parameter names and batch-first input.
///
/// ```swift
/// let gru = GRU(inputSize: 128, hiddenSize: 256, generator: &rng)
/// let (y, state) = gru(x, state: nil)       // state.hidden [1, B, 256]; state.cell is nil
/// ```
public final class GRU: RecurrentLayer {
    override class var gateCount: Int { 3 }

    override func runLayer(_ layer: Int, _ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let r = Tensor.gru(input, weightIH: weightsIH[layer], weightHH: weightsHH[layer],
                           biasIH: hasBias ? biasesIH[layer] : nil, biasHH: hasBias ? biasesHH[layer] : nil,
                           initialHidden: hidden)
        return (r.output, r.hidden, nil)
    }
}
