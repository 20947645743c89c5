/// Layer normalisation over the trailing `normalizedShape` dimensions of each example (transformers, RNNs).
///
/// Each slice is shifted to mean 0 and scaled to variance 1 (biased variance, plus `eps`), then mapped by the learned
/// elementwise `weight` (γ, starts at 1) and `bias` (β, starts at 0). Forward and backward are one fused kernel each
/// (`Tensor.layerNorm`).
///
/// ```swift
/// let norm = LayerNorm(64)                       // normalises the last dimension of [batch, tokens, 64]
/// let noBias = LayerNorm([64], bias: false)
/// ```
public final class LayerNorm: Module {
    public let normalizedShape: [Int]
    public let eps: Float
    public var weight: Tensor?
    public var bias: Tensor?

    public init(_ normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "LayerNorm: normalized shape \(normalizedShape) must be non-empty and positive")
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Tensor.ones(normalizedShape).requiringGrad() : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape).requiringGrad() : nil
        super.init()
    }

    public convenience init(_ features: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init([features], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(tensors: [("weight", weight), ("bias", bias)].compactMap { name, t in t.map { (name, $0) } })
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        input.layerNorm(normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

/// Batch normalisation over the batch (and length) of [N, C] or [N, C, L] inputs, as PyTorch's `nn.BatchNorm1d`.
///
/// In training mode each channel is normalised with the statistics of the current batch (biased variance), and the
/// running estimates move towards them: running = (1 − momentum)·running + momentum·batch, using the unbiased
/// variance for `running_var`. In evaluation mode the running estimates are used instead, so outputs no longer depend
/// on the rest of the batch. The buffers carry PyTorch's names: `running_mean`, `running_var`, `num_batches_tracked`.
///
/// ```swift
/// let model = Sequential(Linear(20, 64), BatchNorm1d(64), ReLU(), Linear(64, 2))
/// model.eval()           // use running statistics
/// ```
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) {
        super.init(name: "BatchNorm1d", inputRanks: [2, 3], features: features, eps: eps, momentum: momentum,
                   affine: affine, trackRunningStatistics: trackRunningStatistics)
    }
}

/// What `BatchNorm1d` and `BatchNorm2d` share: the per-channel state with PyTorch's names, and the forward pass on the
/// fused op `Tensor.batchNorm` (one pass for the statistics, one for the output, a closed-form backward).
///
/// With `momentum: nil` the running estimates are the cumulative average of all batches so far, as in PyTorch.
open class BatchNorm: Module {
    public let features: Int
    public let eps: Float
    /// Weight of the current batch in the running statistics; `nil` for a cumulative average.
    public let momentum: Float?
    public var weight: Tensor?
    public var bias: Tensor?
    public private(set) var runningMean: Tensor?
    public private(set) var runningVar: Tensor?
    /// Counted as a Float tensor of shape [] (PyTorch stores an int64 scalar under the same key).
    public private(set) var numBatchesTracked: Tensor?
    private let name: String
    private let inputRanks: Set<Int>

    public override class var stateKeyOverrides: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }

    public override class var integerStateKeys: Set<String> { ["num_batches_tracked"] }

    init(name: String, inputRanks: Set<Int>, features: Int, eps: Float, momentum: Float?, affine: Bool,
         trackRunningStatistics: Bool) {
        precondition(features > 0, "\(name): channel count must be positive, got \(features)")
        if let momentum { precondition(momentum >= 0 && momentum <= 1, "\(name): momentum \(momentum) not in [0, 1]") }
        self.name = name
        self.inputRanks = inputRanks
        self.features = features
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Tensor.ones([features]).requiringGrad() : nil
        bias = affine ? Tensor.zeros([features]).requiringGrad() : nil
        if trackRunningStatistics {
            runningMean = Tensor.zeros([features])
            runningVar = Tensor.ones([features])
            numBatchesTracked = Tensor(0)
        }
        super.init()
    }

    public override func members() -> ModuleMembers {
        let state = [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
                     ("num_batches_tracked", numBatchesTracked)]
        return ModuleMembers(tensors: state.compactMap { name, t in t.map { (name, $0) } })
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(inputRanks.contains(input.rank) && input.shape[1] == features,
                     "\(name): expected \(inputRanks.sorted().map { "\($0)-D" }.joined(separator: " or ")) input with \(features) channels [N, \(features), …], got \(input.shape)")
        // Without running statistics PyTorch normalises with the batch's statistics in both modes.
        let useBatchStatistics = isTraining || runningMean == nil
        var factor = momentum ?? 0
        if isTraining, let numBatchesTracked {
            let count = numBatchesTracked.withSharedMutableStorage { counter -> Float in
                counter[0] += 1
                return counter[0]
            }
            if momentum == nil { factor = 1 / count }
        }
        return input.batchNorm(runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                               training: useBatchStatistics, momentum: factor, epsilon: eps)
    }
}
