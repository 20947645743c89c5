/// Ends training when a metric has not improved for `patience` epochs (Keras' `EarlyStopping`).
///
/// An epoch improves when the metric beats the best so far by more than `minDelta` (downwards for losses, upwards
/// for accuracies). Pair it with `KeepBestCheckpoint` to end with the best weights rather than the last.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy,
///                       callbacks: [EarlyStopping(monitor: .validationLoss, patience: 3)])
/// ```
public final class EarlyStopping: TrainingCallback {
    public let monitor: TrainingMetric
    public let patience: Int
    public let minDelta: Float
    /// The best value seen so far.
    public private(set) var best: Float?
    /// Epochs since the last improvement.
    public private(set) var epochsWithoutImprovement = 0
    /// The epoch after which training was stopped, if it was.
    public private(set) var stoppedEpoch: Int?

    public init(monitor: TrainingMetric = .validationLoss, patience: Int = 5, minDelta: Float = 0) {
        precondition(patience >= 1, "EarlyStopping: patience must be at least 1, got \(patience)")
        precondition(minDelta >= 0, "EarlyStopping: minDelta must not be negative, got \(minDelta)")
        self.monitor = monitor
        self.patience = patience
        self.minDelta = minDelta
    }

    public func trainingWillBegin(_ context: TrainingContext, hasValidation: Bool, hasLabels: Bool) throws {
        try monitor.checkMeasured(hasValidation: hasValidation, hasLabels: hasLabels)
        best = nil
        epochsWithoutImprovement = 0
        stoppedEpoch = nil
    }

    public func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction {
        guard let value = monitor.value(in: record) else { return .continue }
        if !value.isNaN && monitor.improves(value, on: best, minDelta: minDelta) {
            best = value
            epochsWithoutImprovement = 0
            return .continue
        }
        epochsWithoutImprovement += 1
        guard epochsWithoutImprovement >= patience else { return .continue }
        stoppedEpoch = record.epoch
        return .stop(reason: "early stopping: \(monitor.rawValue) did not improve for \(patience) epoch\(patience == 1 ? "" : "s") "
            + "(best \(best.map { "\($0)" } ?? "none"))")
    }

    /// Sets the best value and the patience counter (resuming from a checkpoint).
    func restoreProgress(best: Float?, epochsWithoutImprovement: Int) {
        self.best = best
        self.epochsWithoutImprovement = epochsWithoutImprovement
    }
}
