/// What the three fused recurrent ops (`lstm`, `gru`, `rnn`) share: operand checks, the forward's input projection
/// and per-step hidden product, and the whole backward through time except each cell's own gate arithmetic.
///
/// Every op runs in the same phases. Forward: (1) project the inputs of all steps into a [B·T, G·H] buffer with one
/// GEMM per batch share; (2) per step, add h_{t−1}·W_hhᵀ and let the cell's kernel activate the gates. Backward:
/// (1) per step in reverse, the cell's kernel writes ∂L/∂(pre-activations) and the hidden gradient is carried
/// through W_hh; (2) the input gradient, one GEMM per batch share; (3) the weight and bias gradients, single GEMMs
/// over all steps. The readable per-step versions are `LSTMCell`, `GRUCell` and `RNNCell` (NN/Recurrent), the tests'
/// oracles.

/// The sizes of a recurrent op: batch B, steps T, input features F (G·H for a projected input), hidden H and the
/// gate count G (LSTM 4, GRU 3, RNN 1).
struct RecurrentSizes {
    let batch: Int, steps: Int, features: Int, hidden: Int, gates: Int
    var rows: Int { batch * steps }
    var gateWidth: Int { gates * hidden }
}

/// A recurrent op's operands in the order its autograd node lists them (the absent ones skipped).
struct RecurrentOperands {
    var input: Tensor
    var weightIH: Tensor?     // nil: `input` is already W_ih·x + b_ih
    var weightHH: Tensor
    var biasIH: Tensor?
    var biasHH: Tensor?
    var initialHidden: Tensor?
    var initialCell: Tensor?

    var all: [Tensor?] { [input, weightIH, weightHH, biasIH, biasHH, initialHidden, initialCell] }
    var nodeInputs: [Tensor] { all.compactMap { $0 } }
    var isProjected: Bool { weightIH == nil }

    /// The same operands without graph history, for the backward closure to keep.
    func detached() -> RecurrentOperands {
        RecurrentOperands(input: input.detached(), weightIH: weightIH?.detached(), weightHH: weightHH.detached(),
                          biasIH: biasIH?.detached(), biasHH: biasHH?.detached(),
                          initialHidden: initialHidden?.detached(), initialCell: initialCell?.detached())
    }

    /// Which operands want a gradient, taken before detaching.
    struct Wanted {
        let input, weightIH, weightHH, biasIH, biasHH, initialHidden, initialCell: Bool
    }

    var wanted: Wanted {
        Wanted(input: input.requiresGrad, weightIH: weightIH?.requiresGrad ?? false, weightHH: weightHH.requiresGrad,
               biasIH: biasIH?.requiresGrad ?? false, biasHH: biasHH?.requiresGrad ?? false,
               initialHidden: initialHidden?.requiresGrad ?? false, initialCell: initialCell?.requiresGrad ?? false)
    }

    /// Checks the operands of a recurrent op with an unprojected input and returns its sizes.
    static func checked(op: String, gates: Int, input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?,
                        biasHH: Tensor?, initialHidden: Tensor?, initialCell: Tensor? = nil)
        -> (RecurrentOperands, RecurrentSizes) {
        precondition(input.rank == 3, "\(op): input must be batch-first [batch, steps, features], got \(input.shape)")
        let (b, t, f) = (input.shape[0], input.shape[1], input.shape[2])
        let h = checkedHidden(op: op, gates: gates, weightHH: weightHH)
        precondition(weightIH.shape == [gates * h, f],
                     "\(op): weight_ih must be [\(gates * h), \(f)] for input \(input.shape), got \(weightIH.shape)")
        precondition(t > 0, "\(op): the sequence has no time steps (input \(input.shape))")
        let operands = RecurrentOperands(input: input, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH,
                                         biasHH: biasHH, initialHidden: initialHidden, initialCell: initialCell)
        operands.checkBiasesAndStates(op: op, width: gates * h, batch: b, hidden: h)
        return (operands, RecurrentSizes(batch: b, steps: t, features: f, hidden: h, gates: gates))
    }

    /// Checks the operands of a recurrent op whose input is already projected ([B, T, G·H]).
    static func checkedProjected(op: String, gates: Int, projectedInput: Tensor, weightHH: Tensor, biasHH: Tensor?,
                                 initialHidden: Tensor?, initialCell: Tensor?) -> (RecurrentOperands, RecurrentSizes) {
        let h = checkedHidden(op: op, gates: gates, weightHH: weightHH)
        precondition(projectedInput.rank == 3 && projectedInput.shape[2] == gates * h && projectedInput.shape[1] > 0,
                     "\(op): projected input must be [batch, steps, \(gates * h)] for weight_hh \(weightHH.shape), got \(projectedInput.shape)")
        let (b, t) = (projectedInput.shape[0], projectedInput.shape[1])
        let operands = RecurrentOperands(input: projectedInput, weightIH: nil, weightHH: weightHH, biasIH: nil,
                                         biasHH: biasHH, initialHidden: initialHidden, initialCell: initialCell)
        operands.checkBiasesAndStates(op: op, width: gates * h, batch: b, hidden: h)
        return (operands, RecurrentSizes(batch: b, steps: t, features: gates * h, hidden: h, gates: gates))
    }

    private static func checkedHidden(op: String, gates: Int, weightHH: Tensor) -> Int {
        precondition(weightHH.rank == 2 && weightHH.shape[0] == gates * weightHH.shape[1],
                     "\(op): weight_hh must be [\(gates)·hidden, hidden], got \(weightHH.shape)")
        return weightHH.shape[1]
    }

    private func checkBiasesAndStates(op: String, width: Int, batch b: Int, hidden h: Int) {
        for bias in [biasIH, biasHH] {
            if let bias { precondition(bias.shape == [width], "\(op): bias must be [\(width)], got \(bias.shape)") }
        }
        for state in [initialHidden, initialCell] {
            if let state { precondition(state.shape == [b, h], "\(op): initial state must be [\(b), \(h)], got \(state.shape)") }
        }
    }
}

enum RecurrentOp {
    // MARK: Forward phases

    /// Forward phase 1 for the sequences `batches`: their rows of `preActivations` [B·T, G·H] become
    /// x·W_ihᵀ + the given biases (or, for a projected input, the input plus those biases).
    static func projectInputs(_ operands: RecurrentOperands, _ sizes: RecurrentSizes, batches: Range<Int>,
                              biases: [Tensor?], into preActivations: UnsafeMutablePointer<Float>) {
        let (t, width) = (sizes.steps, sizes.gateWidth)
        let first = preActivations + batches.lowerBound * t * width
        let rows = batches.count * t
        let biasPointers = biases.compactMap { $0.map { UnsafePointer($0.storage.pointer) } }
        let input = UnsafePointer(operands.input.storage.pointer) + batches.lowerBound * t * sizes.features
        if let weightIH = operands.weightIH {
            RecurrentKernels.fillBias(first, rows: rows, width: width, biasPointers)
            RecurrentKernels.gemm(transposeA: false, transposeB: true, m: rows, n: width, k: sizes.features,
                                  input, lda: sizes.features, weightIH.storage.pointer, ldb: sizes.features,
                                  beta: biasPointers.isEmpty ? 0 : 1, first, ldc: width)
        } else {
            first.update(from: input, count: rows * width)
            for bias in biasPointers { RecurrentKernels.addBias(first, rows: rows, width: width, bias) }
        }
    }

    /// h_{t−1} of the sequences from `firstSequence` on at step `step`, with its leading dimension: the previous
    /// step's output rows, or at t = 0 the initial state (nil when there is none, meaning zeros).
    static func previousHidden(step: Int, firstSequence n0: Int, _ sizes: RecurrentSizes,
                               output: UnsafePointer<Float>, initial: UnsafePointer<Float>?) -> (UnsafePointer<Float>, Int)? {
        let (t, h) = (sizes.steps, sizes.hidden)
        if step == 0 { return initial.map { ($0 + n0 * h, h) } }
        return (output + (n0 * t + step - 1) * h, t * h)
    }

    /// W_hhᵀ [H, G·H], made once per forward: h·W_hhᵀ as an untransposed product runs faster in the small-matrix
    /// kernel than with a transposed operand.
    static func transposedRecurrentWeight(_ weightHH: Tensor) -> Tensor { weightHH.detached().transposed() }

    /// Forward phase 2's product for one step and a batch share: `into` rows (leading dimension `ldc`) get
    /// h_{t−1}·W_hhᵀ added (beta 1) or written (beta 0).
    static func addRecurrentProduct(previous: (UnsafePointer<Float>, Int), rows m: Int, _ sizes: RecurrentSizes,
                                    transposedWeight: UnsafePointer<Float>, beta: Float,
                                    into out: UnsafeMutablePointer<Float>, ldc: Int) {
        RecurrentKernels.gemm(transposeA: false, transposeB: false, m: m, n: sizes.gateWidth, k: sizes.hidden,
                              previous.0, lda: previous.1, transposedWeight, ldb: sizes.gateWidth, beta: beta, out, ldc: ldc)
    }

    /// Forward phase 2 for one step of a core's sequences `batches`: their gate rows at `step` (in `gates`, rows of
    /// `rowWidth` floats, T per sequence) get h_{t−1}·W_hhᵀ added, h_{t−1} read from `output` or the initial state;
    /// nothing happens at step 0 without one.
    static func addPreviousHidden(step: Int, batches: Range<Int>, _ sizes: RecurrentSizes, output: UnsafePointer<Float>,
                                  initial: UnsafePointer<Float>?, transposedWeight: UnsafePointer<Float>,
                                  into gates: UnsafeMutablePointer<Float>, rowWidth: Int) {
        guard let previous = previousHidden(step: step, firstSequence: batches.lowerBound, sizes, output: output,
                                            initial: initial) else { return }
        let t = sizes.steps
        addRecurrentProduct(previous: previous, rows: batches.count, sizes, transposedWeight: transposedWeight, beta: 1,
                            into: gates + (batches.lowerBound * t + step) * rowWidth, ldc: t * rowWidth)
    }

    /// The last step of every sequence of `output` [B, T, H], as [B, H] (differentiable).
    static func lastStep(_ output: Tensor, _ sizes: RecurrentSizes) -> Tensor {
        output.slice(axis: 1, (sizes.steps - 1)..<sizes.steps).reshaped([sizes.batch, sizes.hidden])
    }

    // MARK: The shared backward

    /// The backward through time every recurrent op shares. Per batch share and per step in reverse,
    /// `cellGradients(sequence, step)` writes that row's ∂L/∂(input-side) and ∂L/∂(hidden-side pre-activations)
    /// into `inputSide` and `hiddenSide` ([B·T, G·H]; the same tensor for LSTM and RNN) and updates the carried
    /// ∂L/∂h in `hiddenGrad` [B, H]; the share's hidden gradient is then carried through W_hh (added when
    /// `carriesDirectPath`, as GRU's z ⊙ ∂L/∂h_t stays in it). Then the input gradient, the weight and bias
    /// gradients. Returns the gradients in the node's operand order.
    static func backward(_ operands: RecurrentOperands, wanted: RecurrentOperands.Wanted, _ sizes: RecurrentSizes,
                         output: Tensor, inputSide: Tensor, hiddenSide: Tensor, hiddenGrad: Tensor,
                         carriesDirectPath: Bool, cellGrad: Tensor? = nil,
                         cellGradients: (_ sequence: Int, _ step: Int) -> Void) -> [Tensor?] {
        let (b, t, f, width) = (sizes.batch, sizes.steps, sizes.features, sizes.gateWidth)
        let inputSidePointer = UnsafePointer(inputSide.storage.pointer)
        let hiddenSidePointer = UnsafePointer(hiddenSide.storage.pointer)
        let hiddenGradPointer = hiddenGrad.storage.pointer
        let weightHH = UnsafePointer(operands.weightHH.storage.pointer)
        let inputGrad = wanted.input && !operands.isProjected ? Tensor(uninitializedShape: [b, t, f]) : nil
        Parallel.perCore(b) { _, batches in
            let n0 = batches.lowerBound
            for s in stride(from: t - 1, through: 0, by: -1) {
                for n in batches { cellGradients(n, s) }
                if s > 0 || wanted.initialHidden {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count, n: sizes.hidden,
                                          k: width, hiddenSidePointer + (n0 * t + s) * width, lda: t * width,
                                          weightHH, ldb: sizes.hidden, beta: carriesDirectPath ? 1 : 0,
                                          hiddenGradPointer + n0 * sizes.hidden, ldc: sizes.hidden)
                }
            }
            if let inputGrad, let weightIH = operands.weightIH {
                RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count * t, n: f, k: width,
                                      inputSidePointer + n0 * t * width, lda: width, weightIH.storage.pointer, ldb: f,
                                      inputGrad.storage.pointer + n0 * t * f, ldc: f)
            }
        }
        // A projected input's gradient is the input side's gradient, row for row.
        let dInput = operands.isProjected && wanted.input ? inputSide.reshaped([b, t, width]) : inputGrad
        let (dWeightIH, dWeightHH) = weightGradients(operands, wanted: wanted, sizes, output: output,
                                                     inputSide: inputSide, hiddenSide: hiddenSide)
        let sameSides = inputSide.storage === hiddenSide.storage
        let dBiasIH = wanted.biasIH || (sameSides && wanted.biasHH) ? columnSums(inputSide, sizes) : nil
        let dBiasHH = sameSides ? dBiasIH : wanted.biasHH ? columnSums(hiddenSide, sizes) : nil
        let grads: [Tensor?] = [dInput, dWeightIH, dWeightHH, wanted.biasIH ? dBiasIH : nil, wanted.biasHH ? dBiasHH : nil,
                                wanted.initialHidden ? hiddenGrad : nil, wanted.initialCell ? cellGrad : nil]
        return zip(grads, operands.all).filter { $0.1 != nil }.map { $0.0 }
    }

    /// Backward phase 3: ∂L/∂W_ih = (∂L/∂input side)ᵀ·x and ∂L/∂W_hh = (∂L/∂hidden side)ᵀ·h_{t−1}, each one GEMM
    /// over every (batch, step) row, their output rows split across the cores.
    private static func weightGradients(_ operands: RecurrentOperands, wanted: RecurrentOperands.Wanted,
                                        _ sizes: RecurrentSizes, output: Tensor, inputSide: Tensor,
                                        hiddenSide: Tensor) -> (Tensor?, Tensor?) {
        let (f, h, width, rows) = (sizes.features, sizes.hidden, sizes.gateWidth, sizes.rows)
        var previous: Tensor? = nil
        if wanted.weightHH {
            let result = Tensor(uninitializedShape: [rows, h])
            RecurrentKernels.previousHidden(output: output.storage.pointer,
                                            initial: operands.initialHidden.map { UnsafePointer($0.storage.pointer) },
                                            batch: sizes.batch, steps: sizes.steps, hidden: h, into: result.storage.pointer)
            previous = result
        }
        let dWeightIH = wanted.weightIH ? Tensor(uninitializedShape: [width, f]) : nil
        let dWeightHH = wanted.weightHH ? Tensor(uninitializedShape: [width, h]) : nil
        let (inputSidePointer, hiddenSidePointer) = (inputSide.storage.pointer, hiddenSide.storage.pointer)
        Parallel.perCore(width) { _, gateRows in
            let (g0, m) = (gateRows.lowerBound, gateRows.count)
            if let dWeightIH {
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: f, k: rows, inputSidePointer + g0,
                                      lda: width, operands.input.storage.pointer, ldb: f,
                                      dWeightIH.storage.pointer + g0 * f, ldc: f)
            }
            if let dWeightHH, let previous {
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: h, k: rows, hiddenSidePointer + g0,
                                      lda: width, previous.storage.pointer, ldb: h, dWeightHH.storage.pointer + g0 * h, ldc: h)
            }
        }
        return (dWeightIH, dWeightHH)
    }

    private static func columnSums(_ gradient: Tensor, _ sizes: RecurrentSizes) -> Tensor {
        let out = Tensor(uninitializedShape: [sizes.gateWidth])
        RecurrentKernels.parallelColumnSums(gradient.storage.pointer, rows: sizes.rows, columns: sizes.gateWidth,
                                            into: out.storage.pointer)
        return out
    }
}

/// The gradient that reaches a recurrent op's final cell state (LSTM's c_T), handed to the op's backward.
///
/// c_T is returned as its own graph node whose input is the op's output sequence: the reverse topological order
/// then runs c_T's backward (which parks ∂L/∂c_T here) before the op's backward (which starts its time loop from it).
/// `@unchecked Sendable`: it is written and read only inside one `backward()` call, on one thread, in that order.
final class FinalStateGradient: @unchecked Sendable {
    var value: Tensor?

    /// `state` as a graph node fed by `sequence` whose gradient is parked here.
    func record(_ state: Tensor, after sequence: Tensor, op: String) -> Tensor {
        let sequenceShape = sequence.shape
        return Tensor.record(state, op: op, inputs: [sequence]) { [self] g in
            value = value.map { $0 + g } ?? g
            // A zero gradient keeps the sequence's node alive in the walk when c_T is the only thing used.
            return [Tensor.zeros(sequenceShape)]
        }
    }

    /// Takes the parked gradient (once per backward pass).
    func take() -> Tensor? {
        defer { value = nil }
        return value
    }
}
