/// Finite-difference gradient checking — the notes' "nudge it by h and watch the loss move", made systematic.
public enum GradCheck {
    /// The outcome of comparing autograd's gradients with numerical estimates.
    public struct Report: CustomStringConvertible, Sendable {
        /// Largest |analytic − numeric| / max(atol-scale, |numeric|) over all checked elements.
        public var maxError: Float
        /// Where the largest error occurred: input index and flat element index.
        public var worst: (input: Int, element: Int, analytic: Float, numeric: Float)
        public var passed: Bool
        public var description: String {
            "gradCheck \(passed ? "passed" : "FAILED"): max error \(maxError) at input \(worst.input) element \(worst.element) " +
                "(analytic \(worst.analytic), numeric \(worst.numeric))"
        }
    }

    /// Compares the gradients of `function(inputs).sum()`-like scalar outputs with central differences
    /// (f(x + h) − f(x − h)) / 2h, element by element.
    ///
    /// `function` must return a one-element tensor. Computation is Float32, so use inputs of moderate size, `h` near
    /// 1e-2…1e-3 and the default tolerances. An element passes if |a − n| ≤ atol + rtol·|n|.
    ///
    /// ```swift
    /// let report = GradCheck.check([Tensor.randn([3, 4])]) { x in (x[0].tanh() * x[0]).sum() }
    /// #expect(report.passed)
    /// ```
    public static func check(_ inputs: [Tensor], h: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                             _ function: ([Tensor]) -> Tensor) -> Report {
        let leaves = inputs.map { $0.detached().requiringGrad() }
        let output = function(leaves)
        precondition(output.count == 1, "gradCheck: function must return one element, got shape \(output.shape)")
        output.backward()
        var report = Report(maxError: 0, worst: (0, 0, 0, 0), passed: true)
        for (index, leaf) in leaves.enumerated() {
            let analytic = leaf.grad?.scalars ?? [Float](repeating: 0, count: leaf.count)
            for element in 0..<leaf.count {
                func evaluate(_ delta: Float) -> Double {
                    var nudged = leaves.map { $0.detached() }
                    nudged[index].withUnsafeMutableBufferPointer { $0[element] += delta }
                    return Double(noGrad { function(nudged) }.item)
                }
                let numeric = Float((evaluate(h) - evaluate(-h)) / Double(2 * h))
                let difference = Swift.abs(analytic[element] - numeric)
                let error = difference / (atol + rtol * Swift.abs(numeric))
                if error > report.maxError {
                    report.maxError = error
                    report.worst = (index, element, analytic[element], numeric)
                }
            }
        }
        report.passed = report.maxError <= 1
        return report
    }
}
