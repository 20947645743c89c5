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
        let (g4, rows) = (4 * h, b * t)
        let gates = Tensor(uninitializedShape: [rows, g4])
        let cells = Tensor(uninitializedShape: [rows, h])
        let tanhCells = Tensor(uninitializedShape: [rows, h])
        let out = Tensor(uninitializedShape: [b, t, h])
        let (gp, cp, tp, op) = (gates.storage.pointer, cells.storage.pointer, tanhCells.storage.pointer, out.storage.pointer)
        let whh = weightHH.storage.pointer
        let h0 = initialHidden?.storage.pointer, c0 = initialCell?.storage.pointer

        fillBias(gp, rows: rows, width: g4, biasIH, biasHH)
        RecurrentKernels.gemm(transposeA: false, transposeB: true, m: rows, n: g4, k: f,
                              input.storage.pointer, lda: f, weightIH.storage.pointer, ldb: f,
                              beta: biasIH == nil && biasHH == nil ? 0 : 1, gp, ldc: g4)
        for s in 0..<t {
            let previous: UnsafePointer<Float>? = s == 0 ? h0.map { UnsafePointer($0) } : UnsafePointer(op + (s - 1) * h)
            if let previous {
                RecurrentKernels.gemm(transposeA: false, transposeB: true, m: b, n: g4, k: h,
                                      previous, lda: s == 0 ? h : t * h, whh, ldb: h, beta: 1, gp + s * g4, ldc: t * g4)
            }
            for n in 0..<b {
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
        let finalCell = Tensor(uninitializedShape: [b, h])
        for n in 0..<b { (finalCell.storage.pointer + n * h).update(from: cp + (n * t + t - 1) * h, count: h) }

        let box = FinalStateGradient()
        let x = input.detached(), wih = weightIH.detached(), whhT = weightHH.detached()
        let hInit = initialHidden?.detached(), cInit = initialCell?.detached()
        let need = (x: input.requiresGrad, wih: weightIH.requiresGrad, whh: weightHH.requiresGrad,
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
            for s in stride(from: t - 1, through: 0, by: -1) {
                for n in 0..<b {
                    let r = n * t + s
                    let row = gp + r * g4, d = dgp + r * g4
                    let (ig, fg, gg, og) = (row, row + h, row + 2 * h, row + 3 * h)
                    let (tc, dy, dh, dc) = (tp + r * h, gy + r * h, dhp + n * h, dcp + n * h)
                    // Without an initial cell, c_{−1} = 0 (a zero row keeps one loop for every step).
                    let cPrevious = s > 0 ? UnsafePointer(cp + (r - 1) * h) : c0p.map { UnsafePointer($0 + n * h) } ?? zeroRow
                    for j in 0..<h {
                        let dhj = dy[j] + dh[j]
                        let (i, fj, gj, o, tcj) = (ig[j], fg[j], gg[j], og[j], tc[j])
                        let dcj = dc[j] + dhj * o * (1 - tcj * tcj)
                        d[j] = dcj * gj * i * (1 - i)
                        d[h + j] = dcj * cPrevious[j] * fj * (1 - fj)
                        d[2 * h + j] = dcj * i * (1 - gj * gj)
                        d[3 * h + j] = dhj * tcj * o * (1 - o)
                        dc[j] = dcj * fj
                    }
                }
                if s > 0 || need.h0 {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: b, n: h, k: g4,
                                          dgp + s * g4, lda: t * g4, whhPointer, ldb: h, beta: 0, dhp, ldc: h)
                }
            }
            withExtendedLifetime(zeroTensor) {}
            var grads: [Tensor?] = []
            if need.x {
                let dx = Tensor(uninitializedShape: [b, t, f])
                RecurrentKernels.gemm(transposeA: false, transposeB: false, m: rows, n: f, k: g4,
                                      dgp, lda: g4, wih.storage.pointer, ldb: f, dx.storage.pointer, ldc: f)
                grads.append(dx)
            } else { grads.append(nil) }
            if need.wih {
                let dw = Tensor(uninitializedShape: [g4, f])
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: g4, n: f, k: rows,
                                      dgp, lda: g4, x.storage.pointer, ldb: f, dw.storage.pointer, ldc: f)
                grads.append(dw)
            } else { grads.append(nil) }
            if need.whh {
                let previous = RecurrentKernels.previousHidden(output: op, initial: hInit.map { UnsafePointer($0.storage.pointer) },
                                                               batch: b, steps: t, hidden: h)
                let dw = Tensor(uninitializedShape: [g4, h])
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: g4, n: h, k: rows,
                                      dgp, lda: g4, previous.storage.pointer, ldb: h, dw.storage.pointer, ldc: h)
                grads.append(dw)
            } else { grads.append(nil) }
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
