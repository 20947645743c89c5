/// The worked examples of the notes, built as labelled `Value` graphs ready to backpropagate and draw.
///
/// ```swift
/// let neuron = ScalarExamples.neuron()
/// neuron.output.backward()
/// print(neuron.output.data, neuron.x1.grad, neuron.w1.grad)   // 0.7071…, -1.5, 1.0
/// ```
public enum ScalarExamples {
    /// The two-input tanh neuron of the notes and the handles a reader wants to inspect.
    public struct Neuron {
        public let x1: Value, x2: Value, w1: Value, w2: Value, b: Value
        /// The pre-activation x1·w1 + x2·w2 + b (≈ 0.8814, chosen so that tanh(n) = 1/√2).
        public let n: Value
        /// tanh(n) ≈ 0.7071.
        public let output: Value
    }

    /// o = tanh(x1·w1 + x2·w2 + b) with x1 = 2, x2 = 0, w1 = −3, w2 = 1, b = 6.8813735870195432.
    ///
    /// With `tanhAsExp` the activation is spelled out as (e^{2n} − 1)/(e^{2n} + 1): a bigger graph of exp, +, −,
    /// / and × that must produce the same output and the same gradients, since the chain rule does not care how
    /// finely a function is split into ops.
    public static func neuron(tanhAsExp: Bool = false) -> Neuron {
        let x1 = Value(2, label: "x1"), x2 = Value(0, label: "x2")
        let w1 = Value(-3, label: "w1"), w2 = Value(1, label: "w2")
        let b = Value(6.8813735870195432, label: "b")
        let x1w1 = x1 * w1; x1w1.label = "x1*w1"
        let x2w2 = x2 * w2; x2w2.label = "x2*w2"
        let sum = x1w1 + x2w2; sum.label = "x1*w1 + x2*w2"
        let n = sum + b; n.label = "n"
        let o: Value
        if tanhAsExp {
            let twoN = 2 * n; twoN.label = "2n"
            let e = twoN.exp(); e.label = "e"
            let numerator = e - 1; numerator.label = "e - 1"
            let denominator = e + 1; denominator.label = "e + 1"
            o = numerator / denominator
        } else {
            o = n.tanh()
        }
        o.label = "o"
        return Neuron(x1: x1, x2: x2, w1: w1, w2: w2, b: b, n: n, output: o)
    }
}
