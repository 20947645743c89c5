/// A language model's last two steps in one op: the output projection (logits = x·Wᵀ with a frozen W, the tied
/// embedding of a Llama) and the cross-entropy of each row's target, summed.
///
/// For a 49152-token vocabulary the logits of 1024 positions take 200 MB. `x.linear(frozen:)` followed by
/// `crossEntropy` keeps the logits, a log-softmax copy of them and then a gradient of the same size; this op keeps
/// one buffer: the logits become log-probabilities in place in the forward pass, and the gradient
/// softmax − onehot in place in the backward pass, which then multiplies it by W (∂L/∂x = G·W). The pair of ops
/// is its reference in the tests. The backward pass can run once (the buffer is consumed).
extension Tensor {
    /// Σᵢ −log softmax(xᵢ·Wᵀ)[targetᵢ] for x [N, C], a frozen W [V, C] and N targets in 0..<V.
    public func linearCrossEntropy(frozen weight: FrozenWeight, targets: [Int]) -> Tensor {
        let (vocabulary, width) = (weight.shape[0], weight.shape[1])
        precondition(rank == 2 && shape[1] == width && targets.count == shape[0],
                     "linearCrossEntropy: input \(shape) and \(targets.count) targets do not fit the weight \(weight.shape)")
        precondition(targets.allSatisfy { $0 >= 0 && $0 < vocabulary }, "linearCrossEntropy: a target is outside 0..<\(vocabulary)")
        let rows = shape[0]
        let buffer = Tensor(uninitializedShape: [rows, vocabulary])
        let (x, logp) = (detached(), buffer.storage.pointer)
        weight.forEachPanel { panel, range in
            Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: range.count, k: width, alpha: 1,
                         x.storage.pointer, lda: width, panel, ldb: width, beta: 0, logp + range.lowerBound, ldc: vocabulary)
        }
        var loss = 0.0
        Kernels.logSoftmaxRows(logp, rows: rows, width: vocabulary)
        for (i, t) in targets.enumerated() { loss -= Double(logp[i * vocabulary + t]) }
        let consumed = ConsumedFlag()
        return Tensor.record(Tensor(Float(loss)), op: "linearCrossEntropy", inputs: [self]) { g in
            precondition(!consumed.value, "linearCrossEntropy: backward ran twice; the op's buffer is used up by the first")
            consumed.value = true
            Kernels.softmaxMinusOneHotRows(logp, rows: rows, width: vocabulary, targets: targets, scale: g.item)
            let gx = Tensor(uninitializedShape: x.shape)
            weight.forEachPanel { panel, range in
                Kernels.gemm(transposeA: false, transposeB: false, m: rows, n: width, k: range.count, alpha: 1,
                             logp + range.lowerBound, lda: vocabulary, panel, ldb: width,
                             beta: range.lowerBound == 0 ? 0 : 1, gx.storage.pointer, ldc: width)
            }
            _ = buffer   // kept alive until here
            return [gx]
        }
    }
}

/// Whether a single-use backward has run.
final class ConsumedFlag: @unchecked Sendable { var value = false }
