/// The notes' recurrent unit over a whole sequence as one autograd node: h_t = σ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
/// (PyTorch's `nn.RNN`, whose U, W, B are `weight_ih`, `weight_hh`, `bias_ih + bias_hh`). `RNNCell` (NN/Recurrent)
/// is the readable step and the tests' oracle; the shared phases are in `RecurrentSupport.swift`.
extension Tensor {
    /// Runs the recurrence over batch-first `input` [B, T, in]; returns every h_t [B, T, H] and the final one [B, H].
    ///
    /// ```swift
    /// let (h, hT) = Tensor.rnn(x, weightIH: u, weightHH: w, biasIH: b, biasHH: nil, activation: .tanh)
    /// ```
    public static func rnn(_ input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                           initialHidden: Tensor? = nil, activation: RecurrentActivation = .tanh)
        -> (output: Tensor, hidden: Tensor) {
        let (operands, sizes) = RecurrentOperands.checked(op: "rnn", gates: 1, input: input, weightIH: weightIH,
                                                          weightHH: weightHH, biasIH: biasIH, biasHH: biasHH,
                                                          initialHidden: initialHidden)
        let out = rnnForward(operands, sizes, activation: activation)
        let (saved, wanted) = (operands.detached(), operands.wanted)
        let output = Tensor.record(out, op: "rnn", inputs: operands.nodeInputs) { g in
            rnnBackward(saved, wanted: wanted, sizes, output: out, outputGrad: g, activation: activation)
        }
        return (output, RecurrentOp.lastStep(output, sizes))
    }

    /// The output buffer holds the pre-activations first and is activated in place, one step at a time.
    private static func rnnForward(_ operands: RecurrentOperands, _ sizes: RecurrentSizes,
                                   activation: RecurrentActivation) -> Tensor {
        let (t, h) = (sizes.steps, sizes.hidden)
        let out = Tensor(uninitializedShape: [sizes.batch, t, h])
        let output = out.storage.pointer
        let transposedWeight = RecurrentOp.transposedRecurrentWeight(operands.weightHH)
        let initial = operands.initialHidden.map { UnsafePointer($0.storage.pointer) }
        Parallel.perCore(sizes.batch) { _, batches in
            RecurrentOp.projectInputs(operands, sizes, batches: batches, biases: [operands.biasIH, operands.biasHH],
                                      into: output)
            for s in 0..<t {
                RecurrentOp.addPreviousHidden(step: s, batches: batches, sizes, output: output, initial: initial,
                                              transposedWeight: transposedWeight.storage.pointer, into: output,
                                              rowWidth: h)
                for n in batches { activation.apply(output + (n * t + s) * h, h) }
            }
        }
        withExtendedLifetime(transposedWeight) {}
        return out
    }

    private static func rnnBackward(_ operands: RecurrentOperands, wanted: RecurrentOperands.Wanted,
                                    _ sizes: RecurrentSizes, output: Tensor, outputGrad: Tensor,
                                    activation: RecurrentActivation) -> [Tensor?] {
        let (t, h) = (sizes.steps, sizes.hidden)
        let preActivationGrad = Tensor(uninitializedShape: [sizes.rows, h])
        let hiddenGrad = Tensor.zeros([sizes.batch, h])
        let (y, da, dh, dy) = (output.storage.pointer, preActivationGrad.storage.pointer, hiddenGrad.storage.pointer,
                               outputGrad.storage.pointer)
        let grads = RecurrentOp.backward(operands, wanted: wanted, sizes, output: output, inputSide: preActivationGrad,
                                         hiddenSide: preActivationGrad, hiddenGrad: hiddenGrad,
                                         carriesDirectPath: false) { n, s in
            let r = n * t + s
            RecurrentKernels.rnnPreActivationGradient(hidden: h, activation: activation, output: y + r * h,
                                                      outputGrad: dy + r * h, hiddenGrad: dh + n * h, into: da + r * h)
        }
        withExtendedLifetime(outputGrad) {}
        return grads
    }
}

extension RecurrentActivation {
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
