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
public final class BatchNorm1d: Module {
    public let features: Int
    public let eps: Float
    public let momentum: Float
    public var weight: Tensor?
    public var bias: Tensor?
    public private(set) var runningMean: Tensor?
    public private(set) var runningVar: Tensor?
    /// Counted as a Float tensor of shape [] (PyTorch stores an int64 scalar under the same key).
    public private(set) var numBatchesTracked: Tensor?

    public override class var stateKeyOverrides: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }

    public override class var integerStateKeys: Set<String> { ["num_batches_tracked"] }

    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) {
        precondition(features > 0, "BatchNorm1d: feature count must be positive, got \(features)")
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
        precondition((input.rank == 2 || input.rank == 3) && input.shape[1] == features,
                     "BatchNorm1d: expected [N, \(features)] or [N, \(features), L], got \(input.shape)")
        // Broadcast shape of per-channel values against the input, and the axes statistics are taken over.
        let channelShape = input.rank == 2 ? [features] : [features, 1]
        let axes = input.rank == 2 ? [0] : [0, 2]
        let mean: Tensor, variance: Tensor
        if isTraining || runningMean == nil {
            let n = input.count / features
            precondition(!isTraining || n > 1, "BatchNorm1d: training needs more than one value per channel, got \(input.shape)")
            mean = input.mean(axes: axes, keepDims: true)
            let centered = input - mean
            variance = (centered * centered).mean(axes: axes, keepDims: true)
            if isTraining, let runningMean, let runningVar, let numBatchesTracked {
                let batchMean = mean.detached().scalars, batchVar = variance.detached().scalars
                let unbiased = Float(n) / Float(n - 1)
                let m = momentum
                runningMean.withSharedMutableStorage { rm in
                    for c in 0..<features { rm[c] = (1 - m) * rm[c] + m * batchMean[c] }
                }
                runningVar.withSharedMutableStorage { rv in
                    for c in 0..<features { rv[c] = (1 - m) * rv[c] + m * batchVar[c] * unbiased }
                }
                numBatchesTracked.withSharedMutableStorage { $0[0] += 1 }
            }
            var y = centered / (variance + eps).sqrt()
            if let weight { y = y * weight.reshaped(channelShape) }
            if let bias { y = y + bias.reshaped(channelShape) }
            return y
        }
        mean = runningMean!.reshaped(channelShape)
        variance = runningVar!.reshaped(channelShape)
        // Evaluation: a per-channel affine map, folded into one scale and one shift.
        var scale = 1 / (variance + eps).sqrt()
        if let weight { scale = scale * weight.reshaped(channelShape) }
        var y = (input - mean) * scale
        if let bias { y = y + bias.reshaped(channelShape) }
        return y
    }
}
