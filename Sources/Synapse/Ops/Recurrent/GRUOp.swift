/// A whole GRU layer over a sequence as one autograd node (see `Tensor.lstm` for the scheme).
///
/// PyTorch's equations and gate order (r, z, n):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// b_hn sits inside the reset product, so the hidden projection (with b_hh) goes to a per-layer scratch buffer each
/// step instead of being added onto the input projection as the LSTM does.
extension Tensor {
    /// Runs a GRU layer over batch-first `input` [B, T, in]; returns every step's hidden state [B, T, H] and the
    /// final one [B, H].
    ///
    /// ```swift
    /// let (y, hT) = Tensor.gru(x, weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh)
    /// ```
    public static func gru(_ input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                           initialHidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let (b, t, f, h) = RecurrentKernels.checkShapes(op: "gru", gates: 3, input: input, weightIH: weightIH,
                                                        weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                        initialStates: [initialHidden])
        let (g3, rows) = (3 * h, b * t)
        let gates = Tensor(uninitializedShape: [rows, g3])      // x-projections, then activated r, z, n
        let hiddenNew = Tensor(uninitializedShape: [rows, h])   // W_hn h + b_hn, needed by the backward
        let out = Tensor(uninitializedShape: [b, t, h])
        let scratch = Tensor(uninitializedShape: [b, g3])       // h·W_hhᵀ + b_hh of one step
        let zeroState = Tensor.zeros([b, h])
        let (gp, np, op, sp) = (gates.storage.pointer, hiddenNew.storage.pointer, out.storage.pointer, scratch.storage.pointer)
        // (H, G·H): h·W_hhᵀ as an untransposed product runs ~15% faster in the small-matrix kernel (82 → 94 GFLOP/s).
        let whhTransposed = weightHH.detached().transposed()
        let whh = whhTransposed.storage.pointer

        let (x0, wih0) = (input.storage.pointer, weightIH.storage.pointer)
        let h0 = UnsafePointer((initialHidden ?? zeroState).storage.pointer)
        // Each core takes a share of the batch and runs its projection and whole time loop (see `Parallel.perCore`).
        Parallel.perCore(b) { _, batches in
            let (n0, m) = (batches.lowerBound, batches.count)
            fillBias(gp + n0 * t * g3, rows: m * t, width: g3, biasIH, nil)
            RecurrentKernels.gemm(transposeA: false, transposeB: true, m: m * t, n: g3, k: f, x0 + n0 * t * f, lda: f,
                                  wih0, ldb: f, beta: biasIH == nil ? 0 : 1, gp + n0 * t * g3, ldc: g3)
            for s in 0..<t {
                let (previous, ldp): (UnsafePointer<Float>, Int) = s == 0
                    ? (h0, h) : (UnsafePointer(op + (s - 1) * h), t * h)
                let first = s == 0 ? previous + n0 * h : previous + n0 * t * h
                fillBias(sp + n0 * g3, rows: m, width: g3, biasHH, nil)
                RecurrentKernels.gemm(transposeA: false, transposeB: false, m: m, n: g3, k: h, first, lda: ldp,
                                      whh, ldb: g3, beta: biasHH == nil ? 0 : 1, sp + n0 * g3, ldc: g3)
                for n in batches {
                    let r = n * t + s
                    let (row, hh) = (gp + r * g3, sp + n * g3)
                    let hp = s == 0 ? previous + n * h : previous + n * t * h
                    for j in 0..<(2 * h) { row[j] += hh[j] }
                    VectorMath.sigmoid(row, row, 2 * h)
                    let (rg, zg, ng, hn, y) = (row, row + h, row + 2 * h, np + r * h, op + r * h)
                    for j in 0..<h {
                        hn[j] = hh[2 * h + j]
                        ng[j] += rg[j] * hn[j]
                    }
                    VectorMath.tanh(ng, ng, h)
                    for j in 0..<h { y[j] = (1 - zg[j]) * ng[j] + zg[j] * hp[j] }
                }
            }
        }
        withExtendedLifetime(whhTransposed) {}
        withExtendedLifetime(zeroState) {}

        let x = input.detached(), wih = weightIH.detached(), whhT = weightHH.detached()
        let hInit = initialHidden?.detached()
        let need = (x: input.requiresGrad, wih: weightIH.requiresGrad, whh: weightHH.requiresGrad,
                    bih: biasIH?.requiresGrad ?? false, bhh: biasHH?.requiresGrad ?? false,
                    h0: initialHidden?.requiresGrad ?? false)
        let operands = [input, weightIH, weightHH, biasIH, biasHH, initialHidden]
        let present = operands.map { $0 != nil }
        let output = Tensor.record(out, op: "gru", inputs: operands.compactMap { $0 }) { g in
            let (gp, np, op) = (gates.storage.pointer, hiddenNew.storage.pointer, out.storage.pointer)
            let dX = Tensor(uninitializedShape: [rows, g3])   // ∂L/∂(input projection + b_ih)
            let dH = Tensor(uninitializedShape: [rows, g3])   // ∂L/∂(hidden projection + b_hh)
            let dhNext = Tensor.zeros([b, h])
            let zeros = Tensor.zeros([b, h])
            let (dxp, dhhp, dhp, gy) = (dX.storage.pointer, dH.storage.pointer, dhNext.storage.pointer, g.storage.pointer)
            let h0p = UnsafePointer((hInit ?? zeros).storage.pointer)
            let dx = need.x ? Tensor(uninitializedShape: [b, t, f]) : nil
            let (wihPointer, whhPointer) = (wih.storage.pointer, whhT.storage.pointer)
            Parallel.perCore(b) { _, batches in
                let n0 = batches.lowerBound
                for s in stride(from: t - 1, through: 0, by: -1) {
                    for n in batches {
                        let r = n * t + s
                        let row = gp + r * g3
                        let (rg, zg, ng, hn) = (row, row + h, row + 2 * h, np + r * h)
                        let (dxr, dhr, dy, dh) = (dxp + r * g3, dhhp + r * g3, gy + r * h, dhp + n * h)
                        let hp = s > 0 ? UnsafePointer(op + (r - 1) * h) : h0p + n * h
                        for j in 0..<h {
                            let dhj = dy[j] + dh[j]
                            let (rj, zj, nj) = (rg[j], zg[j], ng[j])
                            let dnPre = dhj * (1 - zj) * (1 - nj * nj)
                            let drPre = dnPre * hn[j] * rj * (1 - rj)
                            let dzPre = dhj * (hp[j] - nj) * zj * (1 - zj)
                            dxr[j] = drPre; dxr[h + j] = dzPre; dxr[2 * h + j] = dnPre
                            dhr[j] = drPre; dhr[h + j] = dzPre; dhr[2 * h + j] = dnPre * rj
                            dh[j] = dhj * zj   // the direct path; the GEMM below adds the gated paths
                        }
                    }
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count, n: h, k: g3,
                                          dhhp + (n0 * t + s) * g3, lda: t * g3, whhPointer, ldb: h, beta: 1,
                                          dhp + n0 * h, ldc: h)
                }
                if let dx {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: batches.count * t, n: f, k: g3,
                                          dxp + n0 * t * g3, lda: g3, wihPointer, ldb: f,
                                          dx.storage.pointer + n0 * t * f, ldc: f)
                }
            }
            var grads: [Tensor?] = [dx]
            let previous = need.whh
                ? RecurrentKernels.previousHidden(output: op, initial: hInit.map { UnsafePointer($0.storage.pointer) },
                                                  batch: b, steps: t, hidden: h) : nil
            let dwih = need.wih ? Tensor(uninitializedShape: [g3, f]) : nil
            let dwhh = need.whh ? Tensor(uninitializedShape: [g3, h]) : nil
            Parallel.perCore(g3) { _, gateRows in
                let (g0, m) = (gateRows.lowerBound, gateRows.count)
                if let dwih {
                    RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: f, k: rows, dxp + g0, lda: g3,
                                          x.storage.pointer, ldb: f, dwih.storage.pointer + g0 * f, ldc: f)
                }
                if let dwhh, let previous {
                    RecurrentKernels.gemm(transposeA: true, transposeB: false, m: m, n: h, k: rows, dhhp + g0, lda: g3,
                                          previous.storage.pointer, ldb: h, dwhh.storage.pointer + g0 * h, ldc: h)
                }
            }
            grads += [dwih, dwhh]
            grads.append(need.bih ? RecurrentKernels.columnSums(dX, rows: rows, columns: g3) : nil)
            grads.append(need.bhh ? RecurrentKernels.columnSums(dH, rows: rows, columns: g3) : nil)
            grads.append(need.h0 ? dhNext : nil)
            withExtendedLifetime(zeros) {}
            return zip(grads, present).filter { $0.1 }.map { $0.0 }
        }
        return (output, output.slice(axis: 1, (t - 1)..<t).reshaped([b, h]))
    }
}
