/// Accuracy, per-class precision and recall, and the confusion matrix of a classifier's predictions.
///
/// ```swift
/// let metrics = ClassificationMetrics(predictions: [0, 1, 1], labels: [0, 1, 0], classCount: 2)
/// metrics.accuracy        // 0.667
/// metrics.recall[0]       // 0.5
/// ```
public struct ClassificationMetrics: Sendable {
    /// counts[label][prediction].
    public let confusion: [[Int]]
    public let classCount: Int

    public init(predictions: [Int], labels: [Int], classCount: Int) {
        precondition(predictions.count == labels.count,
                     "ClassificationMetrics: \(predictions.count) predictions for \(labels.count) labels")
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (p, l) in zip(predictions, labels) where (0..<classCount).contains(p) && (0..<classCount).contains(l) {
            counts[l][p] += 1
        }
        confusion = counts
        self.classCount = classCount
    }

    public var total: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classCount).reduce(0) { $0 + confusion[$1][$1] } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Of the examples predicted as class c, the fraction that are c.
    public var precision: [Double] {
        (0..<classCount).map { c in
            let predicted = (0..<classCount).reduce(0) { $0 + confusion[$1][c] }
            return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
        }
    }

    /// Of the examples of class c, the fraction predicted as c.
    public var recall: [Double] {
        (0..<classCount).map { c in
            let actual = confusion[c].reduce(0, +)
            return actual == 0 ? 0 : Double(confusion[c][c]) / Double(actual)
        }
    }
}

extension Module {
    /// Class predictions (argmax of the output) for `inputs`, in evaluation mode, batch by batch, without a graph.
    public func predictClasses(_ inputs: Tensor, batchSize: Int = 1000) -> [Int] {
        eval()
        var predictions: [Int] = []
        predictions.reserveCapacity(inputs.shape[0])
        noGrad {
            let n = inputs.shape[0]
            for start in stride(from: 0, to: n, by: batchSize) {
                predictions += self(inputs.slice(axis: 0, start..<Swift.min(n, start + batchSize))).argmaxRows()
            }
        }
        return predictions
    }
}
