import Foundation

/// Keeps the weights of the best epoch by a metric: a copy in memory (restored into the model when training ends)
/// and, optionally, a save of your choice each time the metric improves.
///
/// ```swift
/// let best = KeepBestCheckpoint(monitor: .validationAccuracy,
///                               saveTo: URL(fileURLWithPath: "runs/mlp/best.safetensors"))
/// // or any saving code: KeepBestCheckpoint(monitor: .validationLoss) { model, record in … }
/// let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy, callbacks: [best])
/// try trainer.fit(train, validation: test, epochs: 20, batchSize: 64)
/// best.bestRecord?.epoch     // the epoch whose weights the model now holds
/// ```
public final class KeepBestCheckpoint: TrainingCallback {
    public let monitor: TrainingMetric
    /// Whether the model gets the best weights back when training ends (otherwise it keeps the last epoch's).
    public let restoreBestWeights: Bool
    private let save: ((Module, EpochRecord) throws -> Void)?
    /// The record of the best epoch so far.
    public private(set) var bestRecord: EpochRecord?
    /// The best weights (parameters and buffers), copied out of the model.
    public private(set) var bestStateDict: [String: Tensor]?

    /// - Parameter save: called with the model right after an improving epoch (e.g. to write a checkpoint file);
    ///   errors it throws end training.
    public init(monitor: TrainingMetric = .validationLoss, restoreBestWeights: Bool = true,
                save: ((Module, EpochRecord) throws -> Void)? = nil) {
        self.monitor = monitor
        self.restoreBestWeights = restoreBestWeights
        self.save = save
    }

    /// Also writes the model's state dict to a safetensors file at `url` after each improvement (atomically; the
    /// metadata records the epoch and the metric), loadable with `SafeTensorsFile(contentsOf:).floatTensors()`.
    public convenience init(monitor: TrainingMetric = .validationLoss, saveTo url: URL, restoreBestWeights: Bool = true) {
        self.init(monitor: monitor, restoreBestWeights: restoreBestWeights) { model, record in
            var metadata = ["epoch": String(record.epoch)]
            if let value = monitor.value(in: record) { metadata[monitor.rawValue] = String(value) }
            try SafeTensorsFile(floatTensors: model.stateDict(), metadata: metadata).write(to: url)
        }
    }

    public func trainingWillBegin(_ context: TrainingContext, hasValidation: Bool, hasLabels: Bool) throws {
        try monitor.checkMeasured(hasValidation: hasValidation, hasLabels: hasLabels)
        bestRecord = nil
        bestStateDict = nil
    }

    public func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction {
        guard let value = monitor.value(in: record), !value.isNaN,
              monitor.improves(value, on: bestRecord.flatMap { monitor.value(in: $0) }) else { return .continue }
        bestRecord = record
        // A deep copy: the model's tensors share storage with its parameters, which keep changing.
        bestStateDict = context.model.stateDict().mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) }
        try save?(context.model, record)
        return .continue
    }

    public func trainingDidEnd(_ context: TrainingContext) throws {
        guard restoreBestWeights, let bestStateDict else { return }
        try context.model.load(stateDict: bestStateDict)
    }

    /// Sets the best epoch so far (resuming from a checkpoint).
    func restoreBest(record: EpochRecord, stateDict: [String: Tensor]) {
        bestRecord = record
        bestStateDict = stateDict
    }
}
