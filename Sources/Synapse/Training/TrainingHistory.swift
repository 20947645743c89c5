import Foundation

/// The metrics of one epoch.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// Counted from 1.
    public var epoch: Int
    /// Mean loss over the epoch's training examples (weighted by batch size), measured during training.
    public var trainLoss: Float
    /// Fraction of training examples classified correctly during the epoch (labels only).
    public var trainAccuracy: Float?
    /// Mean loss over the validation data after the epoch, in evaluation mode.
    public var validationLoss: Float?
    /// Validation accuracy after the epoch (labels only).
    public var validationAccuracy: Float?
    /// The first group's learning rate in effect at the end of the epoch.
    public var learningRate: Float
    /// Wall-clock time of the epoch, validation included.
    public var seconds: Double

    public init(epoch: Int, trainLoss: Float, trainAccuracy: Float? = nil, validationLoss: Float? = nil,
                validationAccuracy: Float? = nil, learningRate: Float, seconds: Double) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
    }
}

/// A quantity the callbacks watch, read from an `EpochRecord`.
public enum TrainingMetric: String, Codable, Sendable, CaseIterable {
    case trainLoss = "train_loss"
    case trainAccuracy = "train_accuracy"
    case validationLoss = "val_loss"
    case validationAccuracy = "val_accuracy"

    /// The value in `record`, or `nil` when that epoch did not measure it (no validation data, no labels).
    public func value(in record: EpochRecord) -> Float? {
        switch self {
        case .trainLoss: return record.trainLoss
        case .trainAccuracy: return record.trainAccuracy
        case .validationLoss: return record.validationLoss
        case .validationAccuracy: return record.validationAccuracy
        }
    }

    /// Accuracies improve upwards, losses downwards.
    public var higherIsBetter: Bool { self == .trainAccuracy || self == .validationAccuracy }

    /// Whether `candidate` beats `best` by more than `minDelta`.
    public func improves(_ candidate: Float, on best: Float?, minDelta: Float = 0) -> Bool {
        guard let best else { return true }
        return higherIsBetter ? candidate > best + minDelta : candidate < best - minDelta
    }
}

/// What `Trainer.fit` returns: one record per epoch, and why training ended.
///
/// Write it for later analysis or plotting:
///
/// ```swift
/// let history = try trainer.fit(train, validation: test, epochs: 10, batchSize: 64)
/// try history.writeCSV(to: URL(fileURLWithPath: "runs/mlp/history.csv"))
/// try history.writeJSON(to: URL(fileURLWithPath: "runs/mlp/history.json"))
/// try history.chart(title: "MLP").write(to: "runs/mlp/curves.svg")
/// ```
///
/// Charts: `chart(title:)` draws loss, accuracy and learning rate as an SVG `LineChart`; `series` gives the raw
/// named series for other plots.
public struct TrainingHistory: Codable, Sendable, Equatable {
    public var records: [EpochRecord] = []
    /// Set when a callback ended training before the last epoch (e.g. "early stopping: val_loss did not improve for 3 epochs").
    public var stopReason: String?

    public init(records: [EpochRecord] = [], stopReason: String? = nil) {
        self.records = records
        self.stopReason = stopReason
    }

    /// The values of `metric` per epoch (`nil` where not measured).
    public func values(of metric: TrainingMetric) -> [Float?] { records.map { metric.value(in: $0) } }

    /// The record with the best value of `metric`, the earliest on ties.
    public func best(_ metric: TrainingMetric) -> EpochRecord? {
        var best: EpochRecord?
        for record in records {
            guard let value = metric.value(in: record) else { continue }
            if metric.improves(value, on: best.flatMap { metric.value(in: $0) }) { best = record }
        }
        return best
    }

    /// Every metric that was measured in at least one epoch, plus the learning rate, as named series for a chart.
    public var series: [(name: String, values: [Float?])] {
        var result = TrainingMetric.allCases.map { ($0.rawValue, values(of: $0)) }.filter { $0.1.contains { $0 != nil } }
        result.append(("lr", records.map { $0.learningRate }))
        return result
    }

    /// The columns of `csv`.
    public static let csvHeader = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds"

    /// One line per epoch under `csvHeader`; unmeasured values are empty cells.
    public var csv: String {
        func cell(_ value: Float?) -> String { value.map { "\($0)" } ?? "" }
        var lines = [Self.csvHeader]
        for r in records {
            lines.append([String(r.epoch), cell(r.trainLoss), cell(r.trainAccuracy), cell(r.validationLoss),
                          cell(r.validationAccuracy), cell(r.learningRate), String(format: "%.4f", r.seconds)]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Pretty-printed JSON: `{"records": [{"epoch": 1, "trainLoss": …}, …], "stopReason": …}`.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes `csv` atomically (temporary file, then rename).
    public func writeCSV(to url: URL) throws(TrainingError) {
        try Self.write(Data(csv.utf8), to: url)
    }

    /// Writes `jsonData()` atomically.
    public func writeJSON(to url: URL) throws(TrainingError) {
        let data: Data
        do { data = try jsonData() } catch { throw TrainingError.cannotWrite(path: url.path, reason: "\(error)") }
        try Self.write(data, to: url)
    }

    private static func write(_ data: Data, to url: URL) throws(TrainingError) {
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicFile.WriteError {
            throw TrainingError.cannotWrite(path: error.path, reason: error.reason)
        } catch {
            throw TrainingError.cannotWrite(path: url.path, reason: "\(error)")
        }
    }
}
