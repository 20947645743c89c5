/// The activation of a plain recurrent unit (σ in the notes' h_t = σ(U·x_t + W·h_{t−1} + B)).
public enum RecurrentActivation: String, CaseIterable, Sendable {
    case tanh, relu, sigmoid, identity

    /// Applies the activation to a buffer in place.
    func apply(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .tanh: VectorMath.tanh(x, x, count)
        case .sigmoid: VectorMath.sigmoid(x, x, count)
        case .relu: for j in 0..<count { x[j] = x[j] > 0 ? x[j] : 0 }
        case .identity: break
        }
    }

    /// g ⊙ σ'(a), written in terms of the output y = σ(a) (no transcendental needed).
    @inline(__always)
    func derivative(output y: Float) -> Float {
        switch self {
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .relu: return y > 0 ? 1 : 0
        case .identity: return 1
        }
    }

    /// The activation as a differentiable tensor op (for the output map O of the notes' RNN).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .relu: return x.relu()
        case .identity: return x
        }
    }
}

/// The notes' recurrent unit over a whole sequence as one autograd node: h_t = σ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
/// (PyTorch's `nn.RNN`, whose U, W, B are `weight_ih`, `weight_hh`, `bias_ih + bias_hh`).
extension Tensor {
    /// Runs the recurrence over batch-first `input` [B, T, in]; returns every h_t [B, T, H] and the final one [B, H].
    ///
    /// ```swift
    /// let (h, hT) = Tensor.rnn(x, weightIH: u, weightHH: w, biasIH: b, biasHH: nil, activation: .tanh)
    /// ```
    public static func rnn(_ input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                           initialHidden: Tensor? = nil, activation: RecurrentActivation = .tanh)
        -> (output: Tensor, hidden: Tensor) {
        let (b, t, f, h) = RecurrentKernels.checkShapes(op: "rnn", gates: 1, input: input, weightIH: weightIH,
                                                        weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                        initialStates: [initialHidden])
        let rows = b * t
        // The output buffer holds the pre-activations first and is activated in place, one step at a time.
        let out = Tensor(uninitializedShape: [b, t, h])
        let op = out.storage.pointer
        let whh = weightHH.storage.pointer
        fillBias(op, rows: rows, width: h, biasIH, biasHH)
        RecurrentKernels.gemm(transposeA: false, transposeB: true, m: rows, n: h, k: f,
                              input.storage.pointer, lda: f, weightIH.storage.pointer, ldb: f,
                              beta: biasIH == nil && biasHH == nil ? 0 : 1, op, ldc: h)
        for s in 0..<t {
            let previous: UnsafePointer<Float>? = s == 0
                ? initialHidden.map { UnsafePointer($0.storage.pointer) } : UnsafePointer(op + (s - 1) * h)
            if let previous {
                RecurrentKernels.gemm(transposeA: false, transposeB: true, m: b, n: h, k: h, previous,
                                      lda: s == 0 ? h : t * h, whh, ldb: h, beta: 1, op + s * h, ldc: t * h)
            }
            for n in 0..<b { activation.apply(op + (n * t + s) * h, h) }
        }

        let x = input.detached(), wih = weightIH.detached(), whhT = weightHH.detached()
        let hInit = initialHidden?.detached()
        let need = (x: input.requiresGrad, wih: weightIH.requiresGrad, whh: weightHH.requiresGrad,
                    bih: biasIH?.requiresGrad ?? false, bhh: biasHH?.requiresGrad ?? false,
                    h0: initialHidden?.requiresGrad ?? false)
        let operands = [input, weightIH, weightHH, biasIH, biasHH, initialHidden]
        let present = operands.map { $0 != nil }
        let output = Tensor.record(out, op: "rnn", inputs: operands.compactMap { $0 }) { g in
            let op = out.storage.pointer
            let dA = Tensor(uninitializedShape: [rows, h])   // ∂L/∂pre-activation
            let dhNext = Tensor.zeros([b, h])
            let (dap, dhp, gy) = (dA.storage.pointer, dhNext.storage.pointer, g.storage.pointer)
            for s in stride(from: t - 1, through: 0, by: -1) {
                for n in 0..<b {
                    let r = n * t + s
                    let (y, dy, dh, da) = (op + r * h, gy + r * h, dhp + n * h, dap + r * h)
                    switch activation {
                    case .tanh: for j in 0..<h { da[j] = (dy[j] + dh[j]) * (1 - y[j] * y[j]) }
                    case .sigmoid: for j in 0..<h { da[j] = (dy[j] + dh[j]) * (y[j] * (1 - y[j])) }
                    case .relu: for j in 0..<h { da[j] = y[j] > 0 ? dy[j] + dh[j] : 0 }
                    case .identity: for j in 0..<h { da[j] = dy[j] + dh[j] }
                    }
                }
                if s > 0 || need.h0 {
                    RecurrentKernels.gemm(transposeA: false, transposeB: false, m: b, n: h, k: h,
                                          dap + s * h, lda: t * h, whhT.storage.pointer, ldb: h, beta: 0, dhp, ldc: h)
                }
            }
            var grads: [Tensor?] = []
            if need.x {
                let dx = Tensor(uninitializedShape: [b, t, f])
                RecurrentKernels.gemm(transposeA: false, transposeB: false, m: rows, n: f, k: h,
                                      dap, lda: h, wih.storage.pointer, ldb: f, dx.storage.pointer, ldc: f)
                grads.append(dx)
            } else { grads.append(nil) }
            if need.wih {
                let dw = Tensor(uninitializedShape: [h, f])
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: h, n: f, k: rows,
                                      dap, lda: h, x.storage.pointer, ldb: f, dw.storage.pointer, ldc: f)
                grads.append(dw)
            } else { grads.append(nil) }
            if need.whh {
                let previous = RecurrentKernels.previousHidden(output: op, initial: hInit.map { UnsafePointer($0.storage.pointer) },
                                                               batch: b, steps: t, hidden: h)
                let dw = Tensor(uninitializedShape: [h, h])
                RecurrentKernels.gemm(transposeA: true, transposeB: false, m: h, n: h, k: rows,
                                      dap, lda: h, previous.storage.pointer, ldb: h, dw.storage.pointer, ldc: h)
                grads.append(dw)
            } else { grads.append(nil) }
            let biasGrad = need.bih || need.bhh ? RecurrentKernels.columnSums(dA, rows: rows, columns: h) : nil
            grads.append(need.bih ? biasGrad : nil)
            grads.append(need.bhh ? biasGrad : nil)
            grads.append(need.h0 ? dhNext : nil)
            return zip(grads, present).filter { $0.1 }.map { $0.0 }
        }
        return (output, output.slice(axis: 1, (t - 1)..<t).reshaped([b, h]))
    }
}
