/// In-memory examples for `Trainer.fit`: inputs `[N, ...]` with class labels, regression targets `[N, ...]`, or both.
///
/// ```swift
/// let train = TrainingData(inputs: images, labels: digits)          // classification
/// let curve = TrainingData(inputs: x, targets: y)                   // regression
/// ```
public struct TrainingData: Sendable {
    /// One example per row of the leading dimension.
    public let inputs: Tensor
    /// A class index per example, for cross-entropy and accuracy.
    public let labels: [Int]?
    /// A target row per example, for regression losses.
    public let targets: Tensor?

    /// Classification data. Stops if the counts differ (a programming error; data read from files is checked by
    /// the readers in Data/).
    public init(inputs: Tensor, labels: [Int]) {
        self.init(inputs: inputs, labels: labels, targets: nil)
    }

    /// Regression data.
    public init(inputs: Tensor, targets: Tensor) {
        self.init(inputs: inputs, labels: nil, targets: targets)
    }

    public init(inputs: Tensor, labels: [Int]?, targets: Tensor?) {
        precondition(inputs.rank >= 1, "TrainingData: inputs need a leading example dimension, got shape \(inputs.shape)")
        let n = inputs.shape[0]
        if let labels { precondition(labels.count == n, "TrainingData: \(labels.count) labels for \(n) input rows") }
        if let targets {
            precondition(targets.rank >= 1 && targets.shape[0] == n,
                         "TrainingData: targets of shape \(targets.shape) for \(n) input rows")
        }
        self.inputs = inputs.detached()
        self.labels = labels
        self.targets = targets?.detached()
    }

    /// The number of examples.
    public var count: Int { inputs.shape[0] }
}

/// One batch handed to the model and the loss: rows of the training data in the epoch's order.
public struct TrainingBatch {
    /// `[B, ...]` input rows.
    public let inputs: Tensor
    /// Their class labels (empty when the data has none).
    public let labels: [Int]
    /// Their target rows, when the data has targets.
    public let targets: Tensor?
    /// The number of examples, B.
    public var count: Int { inputs.shape[0] }
}

/// Assembles batches into buffers that are reused from batch to batch: once the previous step's graph is gone the
/// storage is uniquely owned again, so copy-on-write writes in place and a training step allocates no batch memory.
final class BatchAssembler {
    let data: TrainingData
    private let inputRow: Int
    private let targetRow: Int
    private var inputs: Tensor
    private var targets: Tensor?
    private var labels: [Int]

    init(data: TrainingData, batchSize: Int) {
        self.data = data
        let n = Swift.max(data.count, 1)
        inputRow = data.inputs.count / n
        targetRow = (data.targets?.count ?? 0) / n
        let rows = Swift.min(batchSize, data.count)
        inputs = Tensor.zeros([rows] + data.inputs.shape.dropFirst())
        targets = data.targets.map { Tensor.zeros([rows] + $0.shape.dropFirst()) }
        labels = data.labels == nil ? [] : [Int](repeating: 0, count: rows)
    }

    /// The examples `order[range]`, in that order.
    func batch(_ order: UnsafeBufferPointer<Int>, _ range: Range<Int>) -> TrainingBatch {
        let rows = range.count
        if inputs.shape[0] != rows {  // the short last batch: new buffers, reused by later epochs' last batches
            inputs = Tensor.zeros([rows] + data.inputs.shape.dropFirst())
            targets = data.targets.map { Tensor.zeros([rows] + $0.shape.dropFirst()) }
            if data.labels != nil { labels = [Int](repeating: 0, count: rows) }
        }
        let inputRow = self.inputRow
        data.inputs.withUnsafeBufferPointer { source in
            inputs.withUnsafeMutableBufferPointer { destination in
                for (slot, index) in range.enumerated() {
                    (destination.baseAddress! + slot * inputRow).update(from: source.baseAddress! + order[index] * inputRow,
                                                                         count: inputRow)
                }
            }
        }
        if let all = data.targets, targets != nil {
            let targetRow = self.targetRow
            all.withUnsafeBufferPointer { source in
                targets!.withUnsafeMutableBufferPointer { destination in
                    for (slot, index) in range.enumerated() {
                        (destination.baseAddress! + slot * targetRow).update(from: source.baseAddress! + order[index] * targetRow,
                                                                              count: targetRow)
                    }
                }
            }
        }
        if let all = data.labels {
            labels.withUnsafeMutableBufferPointer { destination in
                for (slot, index) in range.enumerated() { destination[slot] = all[order[index]] }
            }
        }
        return TrainingBatch(inputs: inputs, labels: labels, targets: targets)
    }
}
