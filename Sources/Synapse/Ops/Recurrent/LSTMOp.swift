/// A whole LSTM layer over a sequence as one autograd node: backpropagation through time is a hand-written loop
/// inside its backward, not a chain of per-step ops.
///
/// PyTorch's equations and gate order (i, f, g, o):
///
///     i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
///     c' = f ⊙ c + i ⊙ g                        h' = o ⊙ tanh(c')
///
/// Forward: the input projections of all steps are one GEMM into a [B·T, 4H] buffer; each step adds h·W_hhᵀ into
/// its rows (one GEMM, strided in place) and a fused kernel turns them into gates, cell and hidden state. The
/// activated gates, cells and tanh(cells) stay in the buffers for the backward, so steps allocate nothing.
/// Backward: one fused kernel per step writes ∂L/∂gates and carries ∂L/∂c; one GEMM per step carries ∂L/∂h; the
/// weight, bias and input gradients are then single GEMMs over all steps.
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
        let (b, t, f, h) = RecurrentKernels.checkShapes(op: "lstm", gates: 4, input: input, weightIH: weightIH,
                                                        weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                        initialStates: [initialHidden, initialCell])
        return lstmLayer(input, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                         initialHidden: initialHidden, initialCell: initialCell, sizes: (b, t, f, h))
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
        precondition(weightHH.rank == 2 && weightHH.shape[0] == 4 * weightHH.shape[1],
                     "lstm: weight_hh must be [4·hidden, hidden], got \(weightHH.shape)")
        let h = weightHH.shape[1]
        precondition(projectedInput.rank == 3 && projectedInput.shape[2] == 4 * h && projectedInput.shape[1] > 0,
                     "lstm: projected input must be [batch, steps, \(4 * h)] for weight_hh \(weightHH.shape), got \(projectedInput.shape)")
        let (b, t) = (projectedInput.shape[0], projectedInput.shape[1])
        if let biasHH { precondition(biasHH.shape == [4 * h], "lstm: bias must be [\(4 * h)], got \(biasHH.shape)") }
        for state in [initialHidden, initialCell] {
            if let state { precondition(state.shape == [b, h], "lstm: initial state must be [\(b), \(h)], got \(state.shape)") }
        }
        return lstmLayer(projectedInput, weightIH: nil, weightHH: weightHH, biasIH: nil, biasHH: biasHH,
                         initialHidden: initialHidden, initialCell: initialCell, sizes: (b, t, 4 * h, h))
    }

    /// The op behind both entry points; `weightIH == nil` means `input` is already projected ([B, T, 4H]).
    private static func lstmLayer(_ input: Tensor, weightIH: Tensor?, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                                  initialHidden: Tensor?, initialCell: Tensor?, sizes: (Int, Int, Int, Int))
        -> (output: Tensor, hidden: Tensor, cell: Tensor) {
        let (b, t, f, h) = sizes
        let (g4, rows) = (4 * h, b * t)
        let gates = Tensor(uninitializedShape: [rows, g4])
        let cells = Tensor(uninitializedShape: [rows, h])
        let tanhCells = Tensor(uninitializedShape: [rows, h])
        let out = Tensor(uninitializedShape: [b, t, h])
        let (gp, cp, tp, op) = (gates.storage.pointer, cells.storage.pointer, tanhCells.storage.pointer, out.storage.pointer)
        // (H, G·H): h·W_hhᵀ as an untransposed product runs ~15% faster in the small-matrix kernel (82 → 94 GFLOP/s).
        let whhTransposed = weightHH.detached().transposed()
        let whh = whhTransposed.storage.pointer
        let h0 = initialHidden?.storage.pointer, c0 = initialCell?.storage.pointer

        let (x0, wih0) = (input.storage.pointer, weightIH?.storage.pointer)
        let hasBias = biasIH != nil || biasHH != nil
        // Each core takes a share of the batch and runs its projection and whole time loop (see `Parallel.perCore`).
        Parallel.perCore(b) { _, batches in
            let (n0, m) = (batches.lowerBound, batches.count)
            if let wih0 {
                fillBias(gp + n0 * t * g4, rows: m * t, width: g4, biasIH, biasHH)
                RecurrentKernels.gemm(transposeA: false, transposeB: true, m: m * t, n: g4, k: f, x0 + n0 * t * f,
                                      lda: f, wih0, ldb: f, beta: hasBias ? 1 : 0, gp + n0 * t * g4, ldc: g4)
            } else {
                (gp + n0 * t * g4).update(from: x0 + n0 * t * g4, count: m * t * g4)
                if let bias = biasHH?.storage.pointer {
                    for r in 0..<(m * t) {
                        let row = gp + (n0 * t + r) * g4
                        for j in 0..<g4 { row[j] += bias[j] }
                    }
                }
            }
            for s in 0..<t {
                let previous: UnsafePointer<Float>? = s == 0
                    ? h0.map { UnsafePointer($0 + n0 * h) } : UnsafePointer(op + (n0 * t + s - 1) * h)
                if let previous {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: m, n: g4, k: h, previous,
                                          lda: s == 0 ? h : t * h, whh, ldb: g4, beta: 1, gp + (n0 * t + s) * g4, ldc: t * g4)
                }
                for n in batches {
                    let r = n * t + s
                    let row = gp + r * g4
                    VectorMath.sigmoid(row, row, 2 * h)
                    VectorMath.tanh(row + 2 * h, row + 2 * h, h)
                    VectorMath.sigmoid(row + 3 * h, row + 3 * h, h)
                    let c = cp + r * h
                    let (ig, fg, gg) = (row, row + h, row + 2 * h)
                    let cPrevious: UnsafeMutablePointer<Float>? = s == 0 ? c0.map { $0 + n * h } : cp + (r - 1) * h
                    if let cPrevious {
                        for j in 0..<h { c[j] = fg[j] * cPrevious[j] + ig[j] * gg[j] }
                    } else {
                        for j in 0..<h { c[j] = ig[j] * gg[j] }
                    }
                    let tc = tp + r * h
                    VectorMath.tanh(c, tc, h)
                    let (og, y) = (row + 3 * h, op + r * h)
                    for j in 0..<h { y[j] = og[j] * tc[j] }
                }
            }
        }
        withExtendedLifetime(whhTransposed) {}
        let finalCell = Tensor(uninitializedShape: [b, h])
        for n in 0..<b { (finalCell.storage.pointer + n * h).update(from: cp + (n * t + t - 1) * h, count: h) }

        let box = FinalStateGradient()
        let x = input.detached(), wih = weightIH?.detached(), whhT = weightHH.detached()
        let hInit = initialHidden?.detached(), cInit = initialCell?.detached()
        let projected = weightIH == nil
        let need = (x: input.requiresGrad, wih: weightIH?.requiresGrad ?? false, whh: weightHH.requiresGrad,
                    bih: biasIH?.requiresGrad ?? false, bhh: biasHH?.requiresGrad ?? false,
                    h0: initialHidden?.requiresGrad ?? false, c0: initialCell?.requiresGrad ?? false)
        let operands = [input, weightIH, weightHH, biasIH, biasHH, initialHidden, initialCell]
        let present = operands.map { $0 != nil }
        let output = Tensor.record(out, op: "lstm", inputs: operands.compactMap { $0 }) { g in
            // Pointers from the captured tensors: the closure must own the buffers it reads.
            let (gp, cp, tp, op) = (gates.storage.pointer, cells.storage.pointer, tanhCells.storage.pointer, out.storage.pointer)
            let dG = Tensor(uninitializedShape: [rows, g4])
            let dhNext = Tensor.zeros([b, h])
            let dcNext = box.take().map { $0.detached() + Tensor.zeros([b, h]) } ?? Tensor.zeros([b, h])
            let (dgp, dhp, dcp, gy) = (dG.storage.pointer, dhNext.storage.pointer, dcNext.storage.pointer, g.storage.pointer)
            let whhPointer = whhT.storage.pointer
            let c0p = cInit?.storage.pointer
            let zeroTensor = Tensor.zeros([h])
            let zeroRow = UnsafePointer(zeroTensor.storage.pointer)
            let dx = need.x && !projected ? Tensor(uninitializedShape: [b, t, f]) : nil
            let wihPointer = wih?.storage.pointer
            Parallel.perCore(b) { _, batches in
                let n0 = batches.lowerBound
                for s in stride(from: t - 1, through: 0, by: -1) {
                    for n in batches {
                        let r = n * t + s
                        let row = gp + r * g4, d = dgp + r * g4
                        let (tc, dy, dh, dc) = (tp + r * h, gy + r * h, dhp + n * h, dcp + n * h)
                        // Without an initial cell, c_{−1} = 0 (a zero row keeps one loop for every step).
                        let cPrevious = s > 0 ? UnsafePointer(cp + (r - 1) * h) : c0p.map { UnsafePointer($0 + n * h) } ?? zeroRow
                        gateGradients(hidden: h, gates: row, tanhCell: tc, previousCell: cPrevious, outputGrad: dy,
                                      hiddenGrad: dh, cellGrad: dc, gateGrads: d)
                    }
                    if s > 0 || need.h0 {
                        RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count, n: h, k: g4,
                                              dgp + (n0 * t + s) * g4, lda: t * g4, whhPointer, ldb: h, beta: 0,
                                              dhp + n0 * h, ldc: h)
                    }
                }
                if let dx, let wihPointer {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count * t, n: f, k: g4,
                                          dgp + n0 * t * g4, lda: g4, wihPointer, ldb: f,
                                          dx.storage.pointer + n0 * t * f, ldc: f)
                }
            }
            withExtendedLifetime(zeroTensor) {}
            // A projected input's gradient is the gates' gradient, row for row.
            var grads: [Tensor?] = [projected && need.x ? dG.reshaped([b, t, g4]) : dx]
            let previous = need.whh
                ? RecurrentKernels.previousHidden(output: op, initial: hInit.map { UnsafePointer($0.storage.pointer) },
                                                  batch: b, steps: t, hidden: h) : nil
            let dwih = need.wih ? Tensor(uninitializedShape: [g4, f]) : nil
            let dwhh = need.whh ? Tensor(uninitializedShape: [g4, h]) : nil
            // Weight gradients reduce over every (batch, step) row: split their output rows across the cores instead.
            Parallel.perCore(g4) { _, gateRows in
                let (g0, m) = (gateRows.lowerBound, gateRows.count)
                if let dwih {
                    RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: f, k: rows, dgp + g0, lda: g4,
                                          x.storage.pointer, ldb: f, dwih.storage.pointer + g0 * f, ldc: f)
                }
                if let dwhh, let previous {
                    RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: h, k: rows, dgp + g0, lda: g4,
                                          previous.storage.pointer, ldb: h, dwhh.storage.pointer + g0 * h, ldc: h)
                }
            }
            grads += [dwih, dwhh]
            let biasGrad = need.bih || need.bhh ? RecurrentKernels.columnSums(dG, rows: rows, columns: g4) : nil
            grads.append(need.bih ? biasGrad : nil)
            grads.append(need.bhh ? biasGrad : nil)
            grads.append(need.h0 ? dhNext : nil)
            grads.append(need.c0 ? dcNext : nil)
            return zip(grads, present).filter { $0.1 }.map { $0.0 }
        }
        let hidden = output.slice(axis: 1, (t - 1)..<t).reshaped([b, h])
        let cell = box.record(finalCell, after: output, op: "lstm_final_cell")
        return (output, hidden, cell)
    }

    /// One sequence's gate gradients at one step, 16 units at a time: from the activated gates (i, f, g, o), tanh c_t,
    /// c_{t−1}, ∂L/∂y_t and the ∂L/∂h, ∂L/∂c carried from step t + 1, writes ∂L/∂(pre-activations) and carries
    /// ∂L/∂c_{t−1} in `cellGrad`.
    ///
    /// Results below the normal range are flushed to zero. Saturated gates (σ of a large negative pre-activation is
    /// below 1.2e-38) make subnormal gradients, and every product that reads one — the per-step GEMMs included —
    /// takes x86's slow microcode path: char-lstm slowed from 19.8 to 21.4 ms/iteration between iterations 150 and
    /// 300 before this. No normal value changes.
    @inline(__always)
    static func gateGradients(hidden h: Int, gates: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>,
                              previousCell: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                              hiddenGrad: UnsafePointer<Float>, cellGrad: UnsafeMutablePointer<Float>,
                              gateGrads d: UnsafeMutablePointer<Float>) {
        typealias V = FusedLoop.Vector
        let flush = FusedLoop.flushingSubnormals
        FusedLoop.blocks(0..<h) { j, lanes in
            let i = FusedLoop.load(gates, j, lanes), f = FusedLoop.load(gates + h, j, lanes)
            let g = FusedLoop.load(gates + 2 * h, j, lanes), o = FusedLoop.load(gates + 3 * h, j, lanes)
            let tc = FusedLoop.load(tanhCell, j, lanes)
            let dh: V = FusedLoop.load(outputGrad, j, lanes) + FusedLoop.load(hiddenGrad, j, lanes)
            let dc: V = FusedLoop.load(cellGrad, j, lanes) + dh * o * (1 - tc * tc)
            FusedLoop.store(flush(dc * g * i * (1 - i)), d, j, lanes)
            FusedLoop.store(flush(dc * FusedLoop.load(previousCell, j, lanes) * f * (1 - f)), d + h, j, lanes)
            FusedLoop.store(flush(dc * i * (1 - g * g)), d + 2 * h, j, lanes)
            FusedLoop.store(flush(dh * tc * o * (1 - o)), d + 3 * h, j, lanes)
            FusedLoop.store(flush(dc * f), cellGrad, j, lanes)
        }
    }

    /// Starts every row of a [rows, width] gate buffer at b_ih + b_hh (sgemm then adds the products onto it).
    static func fillBias(_ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ biasIH: Tensor?, _ biasHH: Tensor?) {
        guard biasIH != nil || biasHH != nil else { return }
        var combined = [Float](repeating: 0, count: width)
        for bias in [biasIH, biasHH] {
            guard let p = bias?.storage.pointer else { continue }
            for j in 0..<width { combined[j] += p[j] }
        }
        combined.withUnsafeBufferPointer { c in
            for r in 0..<rows { (buffer + r * width).update(from: c.baseAddress!, count: width) }
        }
    }
}
