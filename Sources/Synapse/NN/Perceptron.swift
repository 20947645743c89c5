/// Rosenblatt's perceptron: a neuron with a step activation, trained by the perceptron learning rule.
///
/// It outputs 1 when the weighted sum of its inputs exceeds its threshold (w·x + b > 0 with bias b = −threshold),
/// and 0 otherwise. Learning nudges the weights towards each misclassified example:
/// w ← w + η·(y − ŷ)·x, b ← b + η·(y − ŷ). Correct answers leave the weights alone.
///
/// The rule converges whenever the two classes can be separated by a line (a hyperplane): AND and OR can, so the
/// perceptron learns them in a few epochs. XOR cannot be learned, however long it trains: the decision boundary
/// w·x + b = 0 is a single line, and no line puts (0, 1) and (1, 0) on one side with (0, 0) and (1, 1) on the other
/// — adding the inequalities for the two positive points gives w₁ + w₂ + 2b > 0, those for the negative points
/// give w₁ + w₂ + 2b ≤ 0. XOR is not linearly separable, so at least one of the four points is always
/// misclassified. A hidden layer of differentiable (sigmoid) neurons trained by backpropagation removes the limit.
///
/// ```swift
/// let and = Perceptron(inputCount: 2)
/// and.learn(inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [0, 0, 0, 1])
/// and.predict([1, 1])                                   // 1
/// let sweets = Perceptron(weights: [2, 6, 2], threshold: 5)
/// sweets.predict([0, 1, 0])                             // 1: the favourite alone is enough
/// ```
public final class Perceptron: Module {
    /// The input weights, shape [inputs] (a buffer: it is trained by the perceptron rule, not by gradients).
    public private(set) var weight: Tensor
    /// The bias b = −threshold, shape [].
    public private(set) var bias: Tensor

    /// A perceptron with all weights and the bias at zero.
    public init(inputCount: Int) {
        precondition(inputCount > 0, "Perceptron: input count must be positive, got \(inputCount)")
        weight = Tensor.zeros([inputCount])
        bias = Tensor(0)
        super.init()
    }

    /// A perceptron that fires when Σ wᵢxᵢ > `threshold`.
    public init(weights: [Float], threshold: Float) {
        precondition(!weights.isEmpty, "Perceptron: needs at least one weight")
        weight = Tensor(weights)
        bias = Tensor(-threshold)
        super.init()
    }

    /// The decision threshold, −bias.
    public var threshold: Float { -bias.item }

    /// The step output, 1 or 0, for one example.
    public func predict(_ input: [Float]) -> Float {
        precondition(input.count == weight.count, "Perceptron: \(input.count) inputs for \(weight.count) weights")
        let w = weight.scalars
        var z = bias.item
        for i in 0..<input.count { z += w[i] * input[i] }
        return z > 0 ? 1 : 0
    }

    public override func members() -> ModuleMembers { ModuleMembers(tensors: [("weight", weight), ("bias", bias)]) }

    /// The step outputs for a batch [N, inputs] → [N].
    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == weight.count,
                     "Perceptron: expected input [N, \(weight.count)], got \(input.shape)")
        return (input.detached().matmul(weight) + bias) .> 0
    }

    /// Applies the perceptron rule for up to `epochs` passes over the examples (targets 0 or 1), stopping early after
    /// an epoch without mistakes. Returns the number of misclassified examples in each epoch run.
    @discardableResult
    public func learn(inputs: [[Float]], targets: [Float], epochs: Int = 100, learningRate: Float = 1) -> [Int] {
        precondition(inputs.count == targets.count, "Perceptron.learn: \(inputs.count) inputs for \(targets.count) targets")
        var w = weight.scalars
        var b = bias.item
        var mistakesPerEpoch: [Int] = []
        for _ in 0..<epochs {
            var mistakes = 0
            for (x, y) in zip(inputs, targets) {
                precondition(x.count == w.count, "Perceptron.learn: example of \(x.count) values for \(w.count) weights")
                var z = b
                for i in 0..<x.count { z += w[i] * x[i] }
                let error = y - (z > 0 ? 1 : 0)
                guard error != 0 else { continue }
                mistakes += 1
                for i in 0..<x.count { w[i] += learningRate * error * x[i] }
                b += learningRate * error
            }
            mistakesPerEpoch.append(mistakes)
            if mistakes == 0 { break }
        }
        weight = Tensor(w)
        bias = Tensor(b)
        return mistakesPerEpoch
    }
}
