/// A long short-term memory layer stack with PyTorch's gate order (i, f, g, o), parameter names and batch-first input.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let lstm = LSTM(inputSize: 128, hiddenSize: 256, layers: 2, generator: &rng)
/// let (y, state) = lstm(x, state: nil)      // x [B, T, 128] → y [B, T, 256]; state.hidden, state.cell [2, B, 256]
/// ```
public final class LSTM: RecurrentLayer {
    override class var gateCount: Int { 4 }

    override func runLayer(_ layer: Int, _ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let r = Tensor.lstm(input, weightIH: weightsIH[layer], weightHH: weightsHH[layer],
                            biasIH: hasBias ? biasesIH[layer] : nil, biasHH: hasBias ? biasesHH[layer] : nil,
                            initialHidden: hidden, initialCell: cell)
        return (r.output, r.hidden, r.cell)
    }

    override var acceptsProjectedInput: Bool { true }

    override func runLayer(_ layer: Int, projected: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        let r = Tensor.lstm(projectedInput: projected, weightHH: weightsHH[layer], biasHH: hasBias ? biasesHH[layer] : nil,
                            initialHidden: hidden, initialCell: cell)
        return (r.output, r.hidden, r.cell)
    }
}
