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
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
                trackRunningStatistics: Bool = true) {
        super.init(name: "BatchNorm2d", inputRanks: [4], features: features, eps: eps, momentum: momentum,
                   affine: affine, trackRunningStatistics: trackRunningStatistics)
    }
}
