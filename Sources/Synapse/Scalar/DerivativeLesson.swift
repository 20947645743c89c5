/// The notes' first lesson on derivatives: nudge one number by a small h, see how much the output moves, and
/// compare that slope (L(x+h) − L(x))/h with the gradient backpropagation computes — for every leaf and every
/// intermediate value of a small graph.
///
/// ```swift
/// let lesson = DerivativeLesson.lossExample()
/// for row in lesson.rows { print(row.name, row.finiteDifference, row.autograd) }   // a  6.0000…  6.0
/// ```
public enum DerivativeLesson {
    /// One derivative estimated both ways.
    public struct Row: Sendable {
        /// The value we differentiate with respect to (`"a"`, `"d"`, …).
        public let name: String
        /// Its value in the forward pass.
        public let data: Double
        /// (L(x+h) − L(x))/h: the definition of the derivative with a small but finite h.
        public let finiteDifference: Double
        /// ∂L/∂x from `backward()`.
        public let autograd: Double
    }

    /// A worked example: its formula, its output and one row per named value.
    public struct Example: Sendable {
        public let title: String
        /// The forward computation, one step per line, as in the notes.
        public let steps: [String]
        public let output: Double
        public let rows: [Row]
        public let h: Double
    }

    /// Builds a graph while naming its values; when `nudged` names one of them, that value is replaced by
    /// value + h, which is how the lecture bumps `a.data += h` (or an intermediate `d`) and re-runs the forward pass.
    private final class Recorder {
        let nudged: String?
        let h: Double
        var named: [(name: String, value: Value)] = []

        init(nudged: String?, h: Double) { self.nudged = nudged; self.h = h }

        func name(_ value: Value, _ name: String) -> Value {
            value.label = name
            named.append((name, value))
            guard name == nudged else { return value }
            let bumped = value + h
            bumped.label = name
            return bumped
        }
    }

    /// Runs `build` once for autograd and once per named value with that value nudged by `h`.
    private static func compare(title: String, steps: [String], h: Double,
                                _ build: (Recorder) -> Value) -> Example {
        let base = Recorder(nudged: nil, h: h)
        let output = build(base)
        output.backward()
        let rows = base.named.map { name, value in
            let nudged = build(Recorder(nudged: name, h: h)).data
            return Row(name: name, data: value.data, finiteDifference: (nudged - output.data) / h, autograd: value.grad)
        }
        return Example(title: title, steps: steps, output: output.data, rows: rows, h: h)
    }

    /// The lecture's first graph: a = 2, b = −3, c = 10, e = a·b, d = e + c, f = −2, L = d·f = −8, where
    /// ∂L/∂a = 6, ∂L/∂b = −4, ∂L/∂c = −2, ∂L/∂e = −2, ∂L/∂d = −2, ∂L/∂f = 4.
    public static func lossExample(h: Double = 1e-6) -> Example {
        compare(title: "L = d·f", steps: ["a = 2, b = -3, c = 10", "e = a*b", "d = e + c", "f = -2", "L = d*f"],
                h: h) { r in
            let a = r.name(Value(2), "a"), b = r.name(Value(-3), "b"), c = r.name(Value(10), "c")
            let e = r.name(a * b, "e")
            let d = r.name(e + c, "d")
            let f = r.name(Value(-2), "f")
            return r.name(d * f, "L")
        }
    }

    /// The chain rule through a nonlinearity: the notes' neuron o = tanh(x1·w1 + x2·w2 + b). ∂o/∂n = 1 − o² = 0.5
    /// multiplies every gradient below n; x2 = 0 makes ∂o/∂w2 = 0 however large w2's effect could be.
    public static func chainRuleExample(h: Double = 1e-6) -> Example {
        compare(title: "chain rule: o = tanh(n), n = x1·w1 + x2·w2 + b",
                steps: ["x1 = 2, x2 = 0, w1 = -3, w2 = 1, b = 6.8813735870195432",
                        "n = x1*w1 + x2*w2 + b", "o = tanh(n)",
                        "do/dx1 = do/dn · dn/dx1 = (1 - o²) · w1"], h: h) { r in
            let x1 = r.name(Value(2), "x1"), x2 = r.name(Value(0), "x2")
            let w1 = r.name(Value(-3), "w1"), w2 = r.name(Value(1), "w2")
            let b = r.name(Value(6.8813735870195432), "b")
            let n = r.name(x1 * w1 + x2 * w2 + b, "n")
            return r.name(n.tanh(), "o")
        }
    }

    /// The opening example of the lecture: f(x) = 3x² − 4x + 5 at x = 3, where f'(x) = 6x − 4 = 14.
    public static func polynomialExample(h: Double = 1e-6) -> Example {
        compare(title: "f(x) = 3x² - 4x + 5", steps: ["x = 3", "f = 3*x^2 - 4*x + 5", "f'(x) = 6x - 4"], h: h) { r in
            let x = r.name(Value(3), "x")
            return r.name(3 * x.pow(2) - 4 * x + 5, "f")
        }
    }

    /// All three, simplest first.
    public static func examples(h: Double = 1e-6) -> [Example] {
        [polynomialExample(h: h), lossExample(h: h), chainRuleExample(h: h)]
    }
}
