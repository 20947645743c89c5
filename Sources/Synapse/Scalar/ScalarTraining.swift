/// Training a `ScalarMLP` as a binary classifier with plain gradient descent, the way micrograd's demo does:
/// a max-margin (hinge) loss on labels ±1 plus L2 regularisation, the whole data set every step.
///
/// ```swift
/// let moons = TwoMoons(count: 100, noise: 0.1, seed: 1)
/// let model = ScalarMLP(inputCount: 2, layerSizes: [8, 8, 1], seed: 2)
/// let history = ScalarTraining.fit(model, points: moons.points, labels: moons.labels, steps: 60) { step in
///     print(step.step, step.loss, step.accuracy)
/// }
/// ```
public enum ScalarTraining {
    /// What one step of gradient descent saw before it updated the weights.
    public struct Step: Sendable {
        public let step: Int
        public let loss: Double
        /// Fraction of points whose score has the label's sign.
        public let accuracy: Double
        public let learningRate: Double
    }

    /// mean(relu(1 − yᵢ·scoreᵢ)) + l2·Σ p², and the accuracy of the scores' signs.
    ///
    /// The hinge term is zero for points classified with a margin of at least 1, so only the near or wrong ones
    /// push the boundary.
    public static func hingeLoss(_ model: ScalarMLP, points: [[Double]], labels: [Double],
                                 l2: Double) -> (loss: Value, accuracy: Double) {
        precondition(points.count == labels.count && !points.isEmpty,
                     "ScalarTraining.hingeLoss: \(points.count) points but \(labels.count) labels")
        var total = Value(0)
        var correct = 0
        for (point, label) in zip(points, labels) {
            let score = model(point)[0]
            total = total + (1 - label * score).relu()
            if (score.data > 0) == (label > 0) { correct += 1 }
        }
        let dataLoss = total / Double(points.count)
        var penalty = Value(0)
        for p in model.parameters { penalty = penalty + p * p }
        return (dataLoss + l2 * penalty, Double(correct) / Double(points.count))
    }

    /// Runs `steps` full-batch gradient-descent steps; the learning rate decays linearly from `learningRate` to a
    /// tenth of it, which settles the boundary at the end. Calls `onStep` after each step's forward pass.
    @discardableResult
    public static func fit(_ model: ScalarMLP, points: [[Double]], labels: [Double], steps: Int,
                           learningRate: Double = 1.0, l2: Double = 1e-4,
                           onStep: (Step) -> Void = { _ in }) -> [Step] {
        var history: [Step] = []
        let parameters = model.parameters
        for step in 0..<steps {
            let (loss, accuracy) = hingeLoss(model, points: points, labels: labels, l2: l2)
            for p in parameters { p.grad = 0 }
            loss.backward()
            let rate = learningRate * (1 - 0.9 * Double(step) / Double(max(steps, 1)))
            for p in parameters { p.data -= rate * p.grad }
            let record = Step(step: step, loss: loss.data, accuracy: accuracy, learningRate: rate)
            history.append(record)
            onStep(record)
        }
        return history
    }

    /// Fraction of `points` whose model score has the sign of their label.
    public static func accuracy(_ model: ScalarMLP, points: [[Double]], labels: [Double]) -> Double {
        let correct = zip(points, labels).filter { point, label in (model(point)[0].data > 0) == (label > 0) }.count
        return Double(correct) / Double(max(points.count, 1))
    }
}
