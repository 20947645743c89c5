import Foundation

/// The notes' first neuron in NumPy — `z = np.dot(w, x) + b; a = relu(z)` with x = [1, 2], w = [0.4, 0.6],
/// b = −0.2 — done on Synapse's tensors, then the same neuron with the other activations, each activation's
/// derivative from autograd against its formula, and softmax turning scores into probabilities.
public enum NeuronLesson {
    /// The activations the lesson compares: name, f(z) and f′(z) in Double, and the tensor op.
    struct Activation: Sendable {
        let name: String
        let value: @Sendable (Double) -> Double
        let derivative: @Sendable (Double) -> Double
        let op: @Sendable (Tensor) -> Tensor
    }

    static let activations: [Activation] = {
        let sigmoid = { @Sendable (z: Double) in 1 / (1 + exp(-z)) }
        let phi = { @Sendable (z: Double) in 0.5 * (1 + erf(z / 2.0.squareRoot())) }       // the standard normal CDF Φ
        let density = { @Sendable (z: Double) in exp(-z * z / 2) / (2 * Double.pi).squareRoot() }
        return [
            Activation(name: "ReLU", value: { max(0, $0) }, derivative: { $0 > 0 ? 1 : 0 }, op: { $0.relu() }),
            Activation(name: "sigmoid", value: sigmoid, derivative: { sigmoid($0) * (1 - sigmoid($0)) },
                       op: { $0.sigmoid() }),
            Activation(name: "tanh", value: { Foundation.tanh($0) }, derivative: { 1 - Foundation.tanh($0) * Foundation.tanh($0) },
                       op: { $0.tanh() }),
            Activation(name: "GELU", value: { $0 * phi($0) }, derivative: { phi($0) + $0 * density($0) },
                       op: { $0.gelu() }),
        ]
    }()

    public static func run(_ log: LessonLog) throws {
        log.heading("one neuron: z = w·x + b, a = f(z)")
        let x = Tensor([1, 2])
        let w = Tensor([0.4, 0.6]).requiringGrad()
        let b = Tensor(-0.2).requiringGrad()
        let z = (w * x).sum() + b
        log.say("x = [1, 2], w = [0.4, 0.6], b = -0.2")
        log.say("z = 0.4·1 + 0.6·2 + (-0.2) = \(LessonLog.format(Double(z.item)))")
        log.check("z = w·x + b", Double(z.item), equals: 1.4, tolerance: 1e-6)
        let relu = z.relu()
        log.say("a = ReLU(z) = max(0, z) = \(LessonLog.format(Double(relu.item)))")
        log.check("ReLU(1.4)", Double(relu.item), equals: 1.4, tolerance: 1e-6)

        log.heading("the same neuron with other activations, and the slope each passes back")
        log.say("activation   f(z)       f'(z) autograd   f'(z) formula   ∂a/∂w = f'(z)·x")
        for activation in activations {
            let wi = Tensor([0.4, 0.6]).requiringGrad(), bi = Tensor(-0.2).requiringGrad()
            let zi = (wi * x).sum() + bi
            let a = activation.op(zi)
            a.backward()
            let slope = Double(bi.grad!.item)        // ∂a/∂b = f'(z)·1
            let dw = wi.grad!.scalars
            log.say(pad(activation.name, 13) + pad(LessonLog.format(Double(a.item)), 11)
                    + pad(LessonLog.format(slope), 17) + pad(LessonLog.format(activation.derivative(1.4)), 16)
                    + "[\(LessonLog.format(Double(dw[0]))), \(LessonLog.format(Double(dw[1])))]")
            log.check("\(activation.name)(1.4)", Double(a.item), equals: activation.value(1.4), tolerance: 2e-6)
            log.check("\(activation.name)'(1.4) by autograd", slope, equals: activation.derivative(1.4), tolerance: 2e-6)
            log.check("∂a/∂w₂ = f'(z)·x₂ (\(activation.name))", Double(dw[1]), equals: 2 * activation.derivative(1.4),
                      tolerance: 4e-6)
        }
        log.say("ReLU passes the gradient unchanged where z > 0; sigmoid passes at most 1/4 of it, which is why deep")
        log.say("sigmoid networks learn slowly; GELU is a smooth ReLU that lets a little through below zero.")

        log.heading("every activation and its derivative on [-4, 4]")
        let grid = (0...160).map { -4 + Double($0) * 0.05 }
        var panels: [LineChart.Panel] = []
        for activation in activations {
            let points = Tensor(grid.map(Float.init)).requiringGrad()
            let values = activation.op(points)
            values.sum().backward()                 // each output depends on its own input only: the sum's gradient is f'
            let slopes = points.grad!.scalars.map(Double.init)
            // ReLU has no derivative at 0; autograd takes 0 there, as PyTorch does. Compare away from the kink.
            let worst = zip(grid, slopes).filter { activation.name != "ReLU" || abs($0.0) > 1e-9 }
                .map { abs($0.1 - activation.derivative($0.0)) }.max() ?? 0
            log.check("\(activation.name)' on 161 points, autograd vs formula", worst <= 1e-5,
                      "largest |Δ| \(String(format: "%.1e", worst)) ≤ 1e-05")
            panels.append(LineChart.Panel(title: activation.name, xLabel: "z", yLabel: "", series: [
                LineChart.Series(name: "f(z)", x: grid, y: values.scalars.map(Double.init), markers: false),
                LineChart.Series(name: "f'(z) (autograd)", x: grid, y: slopes, dashed: true, markers: false),
            ]))
        }
        var chart = LineChart(title: "activations and their derivatives", panels: panels)
        chart.columns = 2
        try log.picture("activations.svg") { try chart.write(to: $0) }

        log.heading("softmax: scores to probabilities")
        let scores: [Float] = [2.0, 1.0, 0.1]
        let probabilities = Tensor(scores).softmax().scalars
        let exps = scores.map { exp(Double($0)) }
        let total = exps.reduce(0, +)
        log.say("scores [2, 1, 0.1] → e^s = [\(exps.map(LessonLog.format).joined(separator: ", "))], sum \(LessonLog.format(total))")
        log.say("softmax = e^s / Σ e^s = [\(probabilities.map { LessonLog.format(Double($0)) }.joined(separator: ", "))]")
        for (i, p) in probabilities.enumerated() {
            log.check("softmax[\(i)] = e^s\(i) / Σ e^s", Double(p), equals: exps[i] / total, tolerance: 1e-6)
        }
        log.check("probabilities sum to 1", Double(probabilities.reduce(0, +)), equals: 1, tolerance: 1e-6)
        let shifted = Tensor(scores.map { $0 + 1000 }).softmax().scalars
        let shiftDifference = zip(shifted, probabilities).map { abs(Double($0 - $1)) }.max() ?? 0
        log.say("adding 1000 to every score changes nothing (e^1002 alone would overflow Float; softmax subtracts the max first)")
        // 1000.1 is stored to within Float's half-ulp at 1000 (3e-5), which moves the probabilities by up to ~1e-5.
        log.check("softmax(s + 1000) = softmax(s)", shiftDifference <= 1e-4, "largest |Δ| \(String(format: "%.1e", shiftDifference))")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
