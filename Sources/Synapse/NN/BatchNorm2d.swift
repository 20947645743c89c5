/// Batch normalisation of [N, C, H, W] inputs per channel, as PyTorch's `nn.BatchNorm2d`, on the fused op
/// `Tensor.batchNorm` (one pass for the statistics, one for the output, a closed-form backward).
///
/// In training mode each channel is normalised with the mean and biased variance of the current batch over N, H
/// and W, and the running estimates move towards them: running = (1 − momentum)·running + momentum·batch (the
/// unbiased variance for `running_var`); with `momentum: nil` they are the cumulative average of all batches so far.
/// In evaluation mode the running estimates are used. The state carries PyTorch's names: `weight`, `bias`,
/// `running_mean`, `running_var`, `num_batches_tracked`.
///
/// ```swift
/// let block = Sequential(Conv2d(3, 16, kernelSize: 3, padding: 1, bias: false), BatchNorm2d(16), ReLU())
/// block.eval()          // normalise with the running statistics
/// ```
public final class BatchNorm2d: Module {
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

    public override class var stateKeyOverrides: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }

    public override class var integerStateKeys: Set<String> { ["num_batches_tracked"] }

    public init(_ features: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) {
        precondition(features > 0, "BatchNorm2d: channel count must be positive, got \(features)")
        if let momentum { precondition(momentum >= 0 && momentum <= 1, "BatchNorm2d: momentum \(momentum) not in [0, 1]") }
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
        precondition(input.rank == 4 && input.shape[1] == features,
                     "BatchNorm2d: expected input [N, \(features), H, W], got \(input.shape)")
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
