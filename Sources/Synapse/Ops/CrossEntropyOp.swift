/// Cross-entropy from logits, fused: one log-softmax pass forward, and the closed-form gradient
/// softmax(z) − onehot(y) backward, instead of the several passes a chain of generic ops would take.
extension Tensor {
    /// How per-example losses combine into the result.
    public enum Reduction: Sendable { case mean, sum, none }

    /// −w_y · log softmax(z)_y for logits z of shape [N, C] and integer class targets.
    ///
    /// - Parameters:
    ///   - targets: one class index per row, in 0..<C (or equal to `ignoreIndex`).
    ///   - classWeights: optional weight per class (C values), as PyTorch's `weight=`.
    ///   - ignoreIndex: rows with this target contribute nothing, and are left out of the mean.
    ///   - reduction: `.mean` divides by the summed weights of the counted rows, as PyTorch does.
    public func crossEntropy(targets: [Int], classWeights: [Float]? = nil, ignoreIndex: Int? = nil,
                             reduction: Reduction = .mean) -> Tensor {
        precondition(rank == 2, "crossEntropy: logits must be [N, C], got \(shape)")
        let (n, c) = (shape[0], shape[1])
        precondition(targets.count == n, "crossEntropy: \(targets.count) targets for logits of shape \(shape)")
        if let classWeights { precondition(classWeights.count == c, "crossEntropy: \(classWeights.count) class weights for \(c) classes") }
        for t in targets where t != ignoreIndex {
            precondition(t >= 0 && t < c, "crossEntropy: target \(t) out of range for \(c) classes")
        }
        let logProbabilities = Tensor(uninitializedShape: shape)
        Kernels.softmax(storage.pointer, outer: n, axis: c, inner: 1, logProbabilities.storage.pointer, log: true)
        var rowWeights = [Float](repeating: 0, count: n)
        var losses = [Float](repeating: 0, count: n)
        let lp = logProbabilities.storage.pointer
        for i in 0..<n where targets[i] != ignoreIndex {
            rowWeights[i] = classWeights?[targets[i]] ?? 1
            losses[i] = -rowWeights[i] * lp[i * c + targets[i]]
        }
        let denominator = reduction == .mean ? rowWeights.reduce(0, +) : 1
        let out: Tensor
        switch reduction {
        case .none: out = Tensor(shape: [n], scalars: losses)
        case .sum: out = Tensor(losses.reduce(0, +))
        case .mean: out = Tensor(losses.reduce(0, +) / denominator)
        }
        return Tensor.record(out, op: "cross_entropy", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: [n, c])
            let (d, gs, lp) = (grad.storage.pointer, g.storage.pointer, logProbabilities.storage.pointer)
            for i in 0..<n {
                let row = d + i * c
                let scale = reduction == .none ? gs[i] * rowWeights[i] : gs[0] * rowWeights[i] / denominator
                if scale == 0 {
                    row.update(repeating: 0, count: c)
                    continue
                }
                VectorMath.exp(lp + i * c, row, c)  // softmax = exp(log-softmax)
                for j in 0..<c { row[j] *= scale }
                row[targets[i]] -= scale
            }
            return [grad]
        }
    }
}
