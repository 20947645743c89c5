// Losses for choosing one class out of C, given integer class targets.

/// Cross-entropy from raw logits [N, C] and one class index per row, as PyTorch's `nn.CrossEntropyLoss`.
///
/// Uses the fused op (one log-softmax pass forward, softmax − one-hot backward). With `labelSmoothing` ε > 0 the
/// target distribution becomes (1 − ε)·one-hot + ε/C, as in PyTorch.
///
/// - Parameters:
///   - classWeights: a weight per class; `.mean` then divides by the summed weights of the counted rows.
///   - ignoreIndex: rows whose target equals it contribute nothing and are left out of the mean.
///
/// ```swift
/// let loss = crossEntropyLoss(logits: model(images), targets: labels)
/// loss.backward()
/// ```
public func crossEntropyLoss(logits: Tensor, targets: [Int], classWeights: [Float]? = nil, ignoreIndex: Int? = nil,
                             labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Tensor {
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropyLoss: label smoothing \(labelSmoothing) is not in [0, 1]")
    let hard = logits.crossEntropy(targets: targets, classWeights: classWeights, ignoreIndex: ignoreIndex, reduction: reduction)
    guard labelSmoothing > 0 else { return hard }
    // The uniform part: −Σ_c w_c·log p_c per counted row, normalised like the hard part.
    let classes = logits.shape[1]
    var logProbabilities = logits.logSoftmax(axis: 1)
    if let classWeights { logProbabilities = logProbabilities * Tensor(classWeights) }
    let counted = targets.map { $0 == ignoreIndex ? Float(0) : 1 }
    var smooth = -logProbabilities.sum(axis: 1) * Tensor(counted)
    switch reduction {
    case .none: break
    case .sum: smooth = smooth.sum()
    case .mean:
        let denominator = zip(targets, counted).reduce(Float(0)) { total, pair in
            total + (pair.1 == 0 ? 0 : classWeights?[pair.0] ?? 1)
        }
        smooth = smooth.sum() / denominator
    }
    return hard * (1 - labelSmoothing) + smooth * (labelSmoothing / Float(classes))
}

/// Negative log-likelihood from log-probabilities [N, C] (e.g. the output of `logSoftmax(axis: 1)`), as PyTorch's
/// `nn.NLLLoss`: −w_y·log p_y per row.
///
/// ```swift
/// let loss = nllLoss(logProbabilities: logits.logSoftmax(axis: 1), targets: labels)
/// ```
public func nllLoss(logProbabilities: Tensor, targets: [Int], classWeights: [Float]? = nil, ignoreIndex: Int? = nil,
                    reduction: Reduction = .mean) -> Tensor {
    precondition(logProbabilities.rank == 2, "nllLoss: log-probabilities must be [N, C], got \(logProbabilities.shape)")
    let (n, c) = (logProbabilities.shape[0], logProbabilities.shape[1])
    precondition(targets.count == n, "nllLoss: \(targets.count) targets for input of shape \(logProbabilities.shape)")
    if let classWeights { precondition(classWeights.count == c, "nllLoss: \(classWeights.count) class weights for \(c) classes") }
    var flatIndices = [Int](repeating: 0, count: n)
    var rowWeights = [Float](repeating: 0, count: n)
    for (row, target) in targets.enumerated() where target != ignoreIndex {
        precondition(target >= 0 && target < c, "nllLoss: target \(target) out of range for \(c) classes")
        flatIndices[row] = row * c + target
        rowWeights[row] = classWeights?[target] ?? 1
    }
    let losses = -logProbabilities.reshaped([n * c]).gather(flatIndices) * Tensor(rowWeights)
    switch reduction {
    case .none: return losses
    case .sum: return losses.sum()
    case .mean: return losses.sum() / rowWeights.reduce(0, +)
    }
}
