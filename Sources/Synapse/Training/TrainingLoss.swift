/// The objective `Trainer` minimises: a function of the model's output and the batch.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy)
/// let huber = TrainingLoss(name: "l1", needs: .targets) { output, batch in l1Loss(output, batch.targets!) }
/// ```
public struct TrainingLoss {
    /// What the loss reads from the batch; `fit` checks the data provides it before starting.
    public enum Requirement: Sendable { case labels, targets, nothing }

    /// A short name for logs.
    public let name: String
    public let requirement: Requirement
    let compute: (_ output: Tensor, _ batch: TrainingBatch) -> Tensor

    /// A custom loss; `compute` returns a one-element tensor (mean over the batch, so the gradient scale does not depend
    /// on the batch size).
    public init(name: String, needs requirement: Requirement,
                _ compute: @escaping (_ output: Tensor, _ batch: TrainingBatch) -> Tensor) {
        self.name = name
        self.requirement = requirement
        self.compute = compute
    }

    /// Cross-entropy of logits `[B, C]` against the class labels (fused log-softmax).
    public static var crossEntropy: TrainingLoss {
        TrainingLoss(name: "cross_entropy", needs: .labels) { output, batch in
            crossEntropyLoss(logits: output, targets: batch.labels)
        }
    }

    /// Mean squared error against the targets.
    public static var meanSquaredError: TrainingLoss {
        TrainingLoss(name: "mse", needs: .targets) { output, batch in mseLoss(output, batch.targets!) }
    }
}
