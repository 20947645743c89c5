import ArgumentParser
import Foundation
import Synapse

/// `synapse lesson`: the notes' worked examples on the scalar engine, printed step by step.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Worked examples from the notes on the scalar Value engine.",
        subcommands: [Derivatives.self, Moons.self])

    /// Finite differences next to backpropagation.
    struct Derivatives: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show (L(x+h) - L(x))/h next to the autograd gradient for the notes' examples.")

        @Option(help: "The nudge h of the finite difference. Try 0.01 (visibly off) and 1e-12 (rounding noise).")
        var h: Double = 1e-6

        func validate() throws {
            guard h.isFinite, h != 0 else { throw ValidationError("--h must be a finite, nonzero number") }
        }

        func run() {
            for example in DerivativeLesson.examples(h: h) {
                print("== \(example.title)")
                for step in example.steps { print("   \(step)") }
                print("   output = \(format(example.output))")
                print("   " + pad("value", 6) + pad("data", 14) + pad("(L(x+h)-L(x))/h", 20) + pad("autograd", 14) + "difference")
                for row in example.rows {
                    print("   " + pad(row.name, 6) + pad(format(row.data), 14) + pad(format(row.finiteDifference), 20)
                          + pad(format(row.autograd), 14) + String(format: "%.1e", abs(row.finiteDifference - row.autograd)))
                }
                print("")
            }
            print("h = \(h). The finite difference is the definition of the derivative with h not quite 0; backward()")
            print("gets the exact slope of every value in one pass by the chain rule.")
        }

        private func format(_ x: Double) -> String { String(format: "%.6f", x) }
        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }

    /// The two-moons classifier trained with plain gradient descent.
    struct Moons: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a small Value MLP on two interleaved half-moons and print the loss falling.")

        @Option(help: "Number of points.") var points = 100
        @Option(help: "Standard deviation of the noise added to the points.") var noise = 0.1
        @Option(help: "Hidden layer sizes, comma separated.") var hidden = "8,8"
        @Option(help: "Gradient-descent steps (full batch).") var steps = 60
        @Option(help: "Initial learning rate (decays linearly to a tenth).") var learningRate = 1.0
        @Option(help: "L2 regularisation strength.") var l2 = 1e-4
        @Option(help: "Seed of the data and of the weights.") var seed: UInt64 = 7

        func validate() throws {
            guard points >= 2 else { throw ValidationError("--points must be at least 2") }
            guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
            guard noise >= 0, noise.isFinite else { throw ValidationError("--noise must be a non-negative number") }
            guard hiddenSizes != nil else { throw ValidationError("--hidden must be positive sizes like 8,8 (got '\(hidden)')") }
        }

        private var hiddenSizes: [Int]? {
            let sizes = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
            return sizes.map { $0! }
        }

        func run() {
            let moons = TwoMoons(count: points, noise: noise, seed: seed)
            let model = ScalarMLP(inputCount: 2, layerSizes: hiddenSizes! + [1], seed: seed &+ 1)
            print("two moons: \(points) points, MLP 2-\(hidden.replacingOccurrences(of: ",", with: "-"))-1 (\(model.parameters.count) parameters), hinge loss + L2")
            let every = max(1, steps / 20)
            ScalarTraining.fit(model, points: moons.points, labels: moons.labels, steps: steps,
                               learningRate: learningRate, l2: l2) { step in
                if step.step % every == 0 || step.step == steps - 1 {
                    print(String(format: "step %4d  loss %.4f  accuracy %5.1f%%  lr %.3f",
                                 step.step, step.loss, 100 * step.accuracy, step.learningRate))
                }
            }
            let accuracy = ScalarTraining.accuracy(model, points: moons.points, labels: moons.labels)
            print(String(format: "final accuracy %.1f%%", 100 * accuracy))
        }
    }
}
