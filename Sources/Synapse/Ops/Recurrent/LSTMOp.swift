/// A whole LSTM layer over a sequence as one autograd node: backpropagation through time is a hand-written loop
/// inside its backward, not a chain of per-step ops. `LSTMCell` (NN/Recurrent) is the same step in ordinary tensor
/// ops, and the tests' oracle for this op.
///
/// PyTorch's equations and gate order (i, f, g, o):
///
///     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
///     c' = f ⊙ c + i ⊙ g                        h' = o ⊙ tanh(c')
///
/// Forward: the input projections of all steps are one GEMM into a [B·T, 4H] buffer; each step adds h·W_hhᵀ into
/// its rows (one GEMM, strided in place) and `RecurrentKernels.lstmCell` turns them into gates, cell and hidden
/// state. The activated gates, cells and tanh(cells) stay in the buffers for the backward, so steps allocate nothing.
/// Backward: `RecurrentKernels.lstmGateGradients` per step writes ∂L/∂gates and carries ∂L/∂c; the rest is
/// `RecurrentOp.backward`.
extension Tensor {
    /// Runs an LSTM layer over batch-first `input` [B, T, in].
    ///
    /// ```swift
    /// let (y, hT, cT) = Tensor.lstm(x, weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh)
    /// y.shape    // [B, T, H]; hT, cT: [B, H]
    /// ```
    /// - Returns: every step's hidden state, and the final hidden and cell states (all differentiable).
    public static func lstm(_ input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                            initialHidden: Tensor? = nil, initialCell: Tensor? = nil)
        -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        let (operands, sizes) = RecurrentOperands.checked(op: "lstm", gates: 4, input: input, weightIH: weightIH,
                                                          weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                          initialHidden: initialHidden, initialCell: initialCell)
        return lstmLayer(operands, sizes)
    }

    /// Runs an LSTM layer whose input projection was made upstream: `projectedInput` [B, T, 4H] is W_ih·x_t + b_ih
    /// for every step, so the op adds only the recurrent part. Its gradient is the gates' gradient itself.
    ///
    /// A language model uses it when the input is an embedding: the projection of token v is row v of
    /// E·W_ihᵀ + b_ih, so projecting the [V, E] table once replaces a [B·T, E] product (and both of its gradients)
    /// whenever the vocabulary has fewer rows than the batch has tokens.
    ///
    /// ```swift
    /// let table = embedding.weight.matmul(wih.transposed()) + bih               // [V, 4H]
    /// let p = Tensor.embedding(tokens, shape: [B, T], weight: table)            // [B, T, 4H]
    /// let (y, hT, cT) = Tensor.lstm(projectedInput: p, weightHH: whh, biasHH: bhh)
    /// ```
    public static func lstm(projectedInput: Tensor, weightHH: Tensor, biasHH: Tensor?,
                            initialHidden: Tensor? = nil, initialCell: Tensor? = nil)
        -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        let (operands, sizes) = RecurrentOperands.checkedProjected(op: "lstm", gates: 4, projectedInput: projectedInput,
                                                                   weightHH: weightHH, biasHH: biasHH,
                                                                   initialHidden: initialHidden, initialCell: initialCell)
        return lstmLayer(operands, sizes)
    }

    /// The buffers an LSTM forward leaves for its backward.
    private struct LSTMBuffers {
        let gates: Tensor       // [B·T, 4H] activated i, f, g, o
        let cells: Tensor       // [B·T, H] c_t
        let tanhCells: Tensor   // [B·T, H] tanh(c_t)
        let output: Tensor      // [B, T, H] h_t
    }

    /// The op behind both entry points.
    private static func lstmLayer(_ operands: RecurrentOperands, _ sizes: RecurrentSizes)
        -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        let buffers = lstmForward(operands, sizes)
        let (b, t, h) = (sizes.batch, sizes.steps, sizes.hidden)
        let finalCell = Tensor(uninitializedShape: [b, h])
        for n in 0..<b {
            (finalCell.storage.pointer + n * h).update(from: buffers.cells.storage.pointer + (n * t + t - 1) * h, count: h)
        }
        let finalCellGradient = FinalStateGradient()
        let (saved, wanted) = (operands.detached(), operands.wanted)
        let output = Tensor.record(buffers.output, op: "lstm", inputs: operands.nodeInputs) { g in
            lstmBackward(saved, wanted: wanted, sizes, buffers, outputGrad: g, finalCellGrad: finalCellGradient.take())
        }
        let cell = finalCellGradient.record(finalCell, after: output, op: "lstm_final_cell")
        return (output, RecurrentOp.lastStep(output, sizes), cell)
    }

    private static func lstmForward(_ operands: RecurrentOperands, _ sizes: RecurrentSizes) -> LSTMBuffers {
        let (t, h, width) = (sizes.steps, sizes.hidden, sizes.gateWidth)
        let buffers = LSTMBuffers(gates: Tensor(uninitializedShape: [sizes.rows, width]),
                                  cells: Tensor(uninitializedShape: [sizes.rows, h]),
                                  tanhCells: Tensor(uninitializedShape: [sizes.rows, h]),
                                  output: Tensor(uninitializedShape: [sizes.batch, t, h]))
        let (gates, cells) = (buffers.gates.storage.pointer, buffers.cells.storage.pointer)
        let (tanhCells, output) = (buffers.tanhCells.storage.pointer, buffers.output.storage.pointer)
        let transposedWeight = RecurrentOp.transposedRecurrentWeight(operands.weightHH)
        let initialHidden = operands.initialHidden.map { UnsafePointer($0.storage.pointer) }
        let initialCell = operands.initialCell.map { UnsafePointer($0.storage.pointer) }
        let biases = operands.isProjected ? [operands.biasHH] : [operands.biasIH, operands.biasHH]
        // Each core takes a share of the batch and runs its projection and whole time loop (see `Parallel.perCore`).
        Parallel.perCore(sizes.batch) { _, batches in
            RecurrentOp.projectInputs(operands, sizes, batches: batches, biases: biases, into: gates)
            for s in 0..<t {
                RecurrentOp.addPreviousHidden(step: s, batches: batches, sizes, output: output, initial: initialHidden,
                                              transposedWeight: transposedWeight.storage.pointer, into: gates,
                                              rowWidth: width)
                for n in batches {
                    let r = n * t + s
                    let previousCell = s == 0 ? initialCell.map { $0 + n * h } : UnsafePointer(cells + (r - 1) * h)
                    RecurrentKernels.lstmCell(hidden: h, gates: gates + r * width, previousCell: previousCell,
                                              cell: cells + r * h, tanhCell: tanhCells + r * h, output: output + r * h)
                }
            }
        }
        withExtendedLifetime(transposedWeight) {}
        return buffers
    }

    private static func lstmBackward(_ operands: RecurrentOperands, wanted: RecurrentOperands.Wanted,
                                     _ sizes: RecurrentSizes, _ buffers: LSTMBuffers, outputGrad: Tensor,
                                     finalCellGrad: Tensor?) -> [Tensor?] {
        let (b, t, h, width) = (sizes.batch, sizes.steps, sizes.hidden, sizes.gateWidth)
        let gateGrads = Tensor(uninitializedShape: [sizes.rows, width])
        let hiddenGrad = Tensor.zeros([b, h])
        // ∂L/∂c carried backwards from ∂L/∂c_T (a fresh buffer: the kernel writes into it).
        let cellGrad = finalCellGrad.map { $0.detached() + Tensor.zeros([b, h]) } ?? Tensor.zeros([b, h])
        // Without an initial cell, c_{−1} = 0 (a zero row keeps one kernel call for every step).
        let zeroRow = Tensor.zeros([h])
        let (gates, cells, tanhCells) = (buffers.gates.storage.pointer, buffers.cells.storage.pointer,
                                         buffers.tanhCells.storage.pointer)
        let (d, dy, dh, dc) = (gateGrads.storage.pointer, outputGrad.storage.pointer, hiddenGrad.storage.pointer,
                               cellGrad.storage.pointer)
        let initialCell = operands.initialCell.map { UnsafePointer($0.storage.pointer) }
        let zero = UnsafePointer(zeroRow.storage.pointer)
        let grads = RecurrentOp.backward(operands, wanted: wanted, sizes, output: buffers.output, inputSide: gateGrads,
                                         hiddenSide: gateGrads, hiddenGrad: hiddenGrad, carriesDirectPath: false,
                                         cellGrad: cellGrad) { n, s in
            let r = n * t + s
            let previousCell = s > 0 ? UnsafePointer(cells + (r - 1) * h) : initialCell.map { $0 + n * h } ?? zero
            RecurrentKernels.lstmGateGradients(hidden: h, gates: gates + r * width, tanhCell: tanhCells + r * h,
                                               previousCell: previousCell, outputGrad: dy + r * h,
                                               hiddenGrad: dh + n * h, cellGrad: dc + n * h, gateGrads: d + r * width)
        }
        withExtendedLifetime((zeroRow, buffers, outputGrad)) {}
        return grads
    }
}
