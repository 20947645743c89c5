/// The state of a `fit` run that callbacks can read. One object per run, updated in place (no per-batch allocation).
public final class TrainingContext {
    public let model: Module
    public let optimizer: Optimizer
    /// The number of epochs `fit` was asked for.
    public let epochs: Int
    /// Batches per epoch (the last one may be short).
    public let batchesPerEpoch: Int
    /// Training examples per epoch.
    public let exampleCount: Int
    /// The current epoch, counted from 1 (0 before the first).
    public internal(set) var epoch = 0
    /// The current batch within the epoch, counted from 1.
    public internal(set) var batch = 0
    /// Optimizer steps taken so far in this run, counted from 0 (the index of the step about to run in
    /// `batchWillBegin`).
    public internal(set) var globalStep = 0
    /// Examples processed so far in the current epoch.
    public internal(set) var examplesSeen = 0
    /// The records of the epochs finished so far.
    public internal(set) var history = TrainingHistory()

    init(model: Module, optimizer: Optimizer, epochs: Int, batchesPerEpoch: Int, exampleCount: Int) {
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.batchesPerEpoch = batchesPerEpoch
        self.exampleCount = exampleCount
    }
}

/// What a callback asks for at the end of an epoch.
public enum TrainingAction: Equatable, Sendable {
    case `continue`
    /// End training after this epoch; the reason is stored in `TrainingHistory.stopReason`.
    case stop(reason: String)
}

/// Hooks into `Trainer.fit`: early stopping, checkpoints, schedules and progress displays are all callbacks.
///
/// Every method has an empty default, so a callback implements only what it needs. Hooks run in the order the
/// callbacks are listed. Batch hooks run on every step: keep them cheap.
///
/// A progress display is a callback too: the library prints nothing itself. For example, a minimal log line:
///
/// ```swift
/// final class EpochLog: TrainingCallback {
///     func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction {
///         print("epoch \(record.epoch)/\(context.epochs) loss \(record.trainLoss)")
///         return .continue
///     }
/// }
/// ```
public protocol TrainingCallback: AnyObject {
    /// Before the first epoch; throw to refuse a configuration (e.g. a monitored metric that will not be measured).
    func trainingWillBegin(_ context: TrainingContext, hasValidation: Bool, hasLabels: Bool) throws
    func epochWillBegin(_ context: TrainingContext)
    /// Before the forward pass of a batch (`context.globalStep` is the step about to run).
    func batchWillBegin(_ context: TrainingContext)
    /// After the optimizer step of a batch; `loss` is that batch's loss.
    func batchDidEnd(_ context: TrainingContext, loss: Float)
    /// After the epoch's validation; the record is already in `context.history`.
    func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction
    /// After the last epoch (also after an early stop, not after an error).
    func trainingDidEnd(_ context: TrainingContext) throws
}

extension TrainingCallback {
    public func trainingWillBegin(_ context: TrainingContext, hasValidation: Bool, hasLabels: Bool) throws {}
    public func epochWillBegin(_ context: TrainingContext) {}
    public func batchWillBegin(_ context: TrainingContext) {}
    public func batchDidEnd(_ context: TrainingContext, loss: Float) {}
    public func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction { .continue }
    public func trainingDidEnd(_ context: TrainingContext) throws {}
}

extension TrainingMetric {
    /// Throws when this metric will not be measured in a run with or without validation data and labels.
    func checkMeasured(hasValidation: Bool, hasLabels: Bool) throws(TrainingError) {
        let measured: Bool
        switch self {
        case .trainLoss: measured = true
        case .trainAccuracy: measured = hasLabels
        case .validationLoss: measured = hasValidation
        case .validationAccuracy: measured = hasValidation && hasLabels
        }
        if !measured { throw TrainingError.metricNotMeasured(self) }
    }
}
