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

/// One batch handed to the model and the loss: `Trainer` batches through a `DataLoader`, so this is its batch type
/// (`inputs`, `labels`, `targets`, `indices`, `count`).
public typealias TrainingBatch = DataLoader.Batch
