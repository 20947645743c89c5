/// A whole GRU layer over a sequence as one autograd node (see `Tensor.lstm` for the scheme and
/// `RecurrentSupport.swift` for the shared phases). `GRUCell` (NN/Recurrent) is the readable step and the tests'
/// oracle.
///
/// PyTorch's equations and gate order (r, z, n):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// b_hn sits inside the reset product, so the hidden projection (with b_hh) goes to a per-layer scratch buffer each
/// step instead of being added onto the input projection as the LSTM does; its gradient differs from the input
/// side's in the candidate's third, so the backward keeps both.
extension Tensor {
    /// Runs a GRU layer over batch-first `input` [B, T, in]; returns every step's hidden state [B, T, H] and the
    /// final one [B, H].
    ///
    /// ```swift
    /// let (y, hT) = Tensor.gru(x, weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh)
    /// ```
    public static func gru(_ input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                           initialHidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let (operands, sizes) = RecurrentOperands.checked(op: "gru", gates: 3, input: input, weightIH: weightIH,
                                                          weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                          initialHidden: initialHidden)
        let buffers = gruForward(operands, sizes)
        let (saved, wanted) = (operands.detached(), operands.wanted)
        let output = Tensor.record(buffers.output, op: "gru", inputs: operands.nodeInputs) { g in
            gruBackward(saved, wanted: wanted, sizes, buffers, outputGrad: g)
        }
        return (output, RecurrentOp.lastStep(output, sizes))
    }

    /// The buffers a GRU forward leaves for its backward.
    private struct GRUBuffers {
        let gates: Tensor             // [B·T, 3H] x-projections, then activated r, z, n
        let candidateHidden: Tensor   // [B·T, H] W_hn h + b_hn
        let output: Tensor            // [B, T, H]
    }

    private static func gruForward(_ operands: RecurrentOperands, _ sizes: RecurrentSizes) -> GRUBuffers {
        let (b, t, h, width) = (sizes.batch, sizes.steps, sizes.hidden, sizes.gateWidth)
        let buffers = GRUBuffers(gates: Tensor(uninitializedShape: [sizes.rows, width]),
                                 candidateHidden: Tensor(uninitializedShape: [sizes.rows, h]),
                                 output: Tensor(uninitializedShape: [b, t, h]))
        let hiddenProjection = Tensor(uninitializedShape: [b, width])   // h·W_hhᵀ + b_hh of one step
        let zeroState = Tensor.zeros([b, h])
        let (gates, candidateHidden) = (buffers.gates.storage.pointer, buffers.candidateHidden.storage.pointer)
        let (output, projection) = (buffers.output.storage.pointer, hiddenProjection.storage.pointer)
        let transposedWeight = RecurrentOp.transposedRecurrentWeight(operands.weightHH)
        // The cell formula reads h_{t−1} at every step, so a missing initial state is a zero one here.
        let initial = UnsafePointer((operands.initialHidden ?? zeroState).storage.pointer)
        let hiddenBias = operands.biasHH.map { [UnsafePointer($0.storage.pointer)] } ?? []
        Parallel.perCore(b) { _, batches in
            let (n0, m) = (batches.lowerBound, batches.count)
            RecurrentOp.projectInputs(operands, sizes, batches: batches, biases: [operands.biasIH], into: gates)
            for s in 0..<t {
                let previous = RecurrentOp.previousHidden(step: s, firstSequence: n0, sizes, output: output, initial: initial)!
                RecurrentKernels.fillBias(projection + n0 * width, rows: m, width: width, hiddenBias)
                RecurrentOp.addRecurrentProduct(previous: previous, rows: m, sizes,
                                                transposedWeight: transposedWeight.storage.pointer,
                                                beta: hiddenBias.isEmpty ? 0 : 1, into: projection + n0 * width, ldc: width)
                for n in batches {
                    let r = n * t + s
                    RecurrentKernels.gruCell(hidden: h, gates: gates + r * width, hiddenProjection: projection + n * width,
                                             previousHidden: previous.0 + (n - n0) * previous.1,
                                             candidateHidden: candidateHidden + r * h, output: output + r * h)
                }
            }
        }
        withExtendedLifetime((transposedWeight, zeroState, hiddenProjection)) {}
        return buffers
    }

    private static func gruBackward(_ operands: RecurrentOperands, wanted: RecurrentOperands.Wanted,
                                    _ sizes: RecurrentSizes, _ buffers: GRUBuffers, outputGrad: Tensor) -> [Tensor?] {
        let (b, t, h, width) = (sizes.batch, sizes.steps, sizes.hidden, sizes.gateWidth)
        let inputSide = Tensor(uninitializedShape: [sizes.rows, width])    // ∂L/∂(input projection + b_ih)
        let hiddenSide = Tensor(uninitializedShape: [sizes.rows, width])   // ∂L/∂(hidden projection + b_hh)
        let hiddenGrad = Tensor.zeros([b, h])
        let zeroState = Tensor.zeros([b, h])
        let (gates, candidateHidden, output) = (buffers.gates.storage.pointer, buffers.candidateHidden.storage.pointer,
                                                buffers.output.storage.pointer)
        let (dx, dhh, dh, dy) = (inputSide.storage.pointer, hiddenSide.storage.pointer, hiddenGrad.storage.pointer,
                                 outputGrad.storage.pointer)
        let initial = UnsafePointer((operands.initialHidden ?? zeroState).storage.pointer)
        let grads = RecurrentOp.backward(operands, wanted: wanted, sizes, output: buffers.output, inputSide: inputSide,
                                         hiddenSide: hiddenSide, hiddenGrad: hiddenGrad, carriesDirectPath: true) { n, s in
            let r = n * t + s
            let previous = s > 0 ? UnsafePointer(output + (r - 1) * h) : initial + n * h
            RecurrentKernels.gruGateGradients(hidden: h, gates: gates + r * width, candidateHidden: candidateHidden + r * h,
                                              previousHidden: previous, outputGrad: dy + r * h, hiddenGrad: dh + n * h,
                                              inputSideGrads: dx + r * width, hiddenSideGrads: dhh + r * width)
        }
        withExtendedLifetime((zeroState, buffers, outputGrad)) {}
        return grads
    }
}
