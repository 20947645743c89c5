import ArgumentParser
import Foundation
import Synapse

/// `synapse lesson`: the notes' worked examples, each printing its numbers, checking them and drawing its pictures.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "The notes' worked examples: numbers, checks and pictures (run without a name to list them).",
        subcommands: [Neuron.self, PerceptronLessonCommand.self, MNISTNetwork.self, CostSurface.self, GradientDescent.self,
                      BackpropCalculus.self, Derivatives.self, Moons.self, FloatFormats.self, Cons.self, LearningKinds.self])

    func run() {
        print("lessons, in the order of the notes (synapse lesson NAME; pictures go to runs/lessons/NAME/):")
        let width = LessonCatalog.entries.map(\.name.count).max() ?? 0
        for entry in LessonCatalog.entries {
            print("  " + entry.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + entry.summary
                  + (entry.usesMNIST ? " (MNIST)" : ""))
        }
        print("docs/lessons.md is the guided tour.")
    }

    /// Options every picture-drawing lesson takes.
    struct Output: ParsableArguments {
        @Option(help: "Directory for the pictures (default: runs/lessons/NAME).") var out: String?
        @Option(help: "Seed of the data and of the weights.") var seed: UInt64 = 0
    }

    /// Options of the lessons that train on MNIST.
    struct MNISTData: ParsableArguments {
        @Option(help: "Directory with the four MNIST IDX files (default: datasets/mnist).") var data: String?
        @Option(help: "Use only the first N training images (default: all 60,000).") var trainCount: Int?

        func validate() throws {
            if let trainCount, trainCount < 100 { throw ValidationError("--train-count must be at least 100, got \(trainCount)") }
        }

        func load() throws -> MNIST {
            let mnist = try MNIST(directory: data)
            guard let trainCount else { return mnist }
            return MNIST(variant: mnist.variant, directory: mnist.directory, train: mnist.train.prefix(trainCount), test: mnist.test)
        }
    }

    /// Runs one lesson with its output printed as it comes; fails (exit 1) when any of its checks fails.
    static func run(_ name: String, _ output: Output, _ body: (LessonLog) throws -> Void) throws {
        let directory = output.out ?? "runs/lessons/\(name)"
        try AtomicFile.checkWritable(directory: URL(fileURLWithPath: directory))
        let log = try LessonLog(directory: URL(fileURLWithPath: directory), echo: { print($0) })
        try body(log)
        let failed = log.failedChecks
        print("")
        print("\(log.checks.count - failed.count) of \(log.checks.count) checks passed; \(log.pictures.count) picture\(log.pictures.count == 1 ? "" : "s") in \(directory)/")
        if !failed.isEmpty {
            FileHandle.standardError.write(Data("lesson \(name): \(failed.count) check\(failed.count == 1 ? "" : "s") failed: \(failed.map(\.name).joined(separator: "; "))\n".utf8))
            throw ExitCode.failure
        }
    }

    struct Neuron: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The notes' NumPy neuron, four activations and their derivatives, softmax.")
        @OptionGroup var output: Output
        func run() throws { try LessonCommand.run("neuron", output) { try NeuronLesson.run($0) } }
    }

    struct PerceptronLessonCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "perceptron",
            abstract: "The sweets perceptron, the perceptron rule on AND, OR and XOR, and why networks use sigmoid neurons.")
        @OptionGroup var output: Output
        func run() throws { try LessonCommand.run("perceptron", output) { try PerceptronLesson.run($0, seed: output.seed) } }
    }

    struct MNISTNetwork: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mnist-network",
            abstract: "The 784-16-16-10 network: its parameters, a short training, its neurons' weights, one digit through it.")
        @OptionGroup var output: Output
        @OptionGroup var mnist: MNISTData
        @Option(help: "Training epochs.") var epochs = 3
        func validate() throws { guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") } }
        func run() throws {
            let data = try mnist.load()
            try LessonCommand.run("mnist-network", output) { try MNISTNetworkLesson.run($0, data: data, epochs: epochs, seed: output.seed) }
        }
    }

    struct CostSurface: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cost-surface",
            abstract: "Linear regression's J(w, b) as a contour map with six gradient-descent walks, checked against the normal equations.")
        @OptionGroup var output: Output
        func run() throws { try LessonCommand.run("cost-surface", output) { try CostSurfaceLesson.run($0, seed: output.seed) } }
    }

    struct GradientDescent: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gradient-descent",
            abstract: "Batch, stochastic and mini-batch gradient descent, with and without momentum, on the notes' MNIST network.")
        @OptionGroup var output: Output
        @OptionGroup var mnist: MNISTData
        @Option(help: "Training images every variant learns from.") var examples = 2000
        @Option(help: "Epochs (passes over those images).") var epochs = 20
        func validate() throws {
            guard examples >= 32 else { throw ValidationError("--examples must be at least 32, got \(examples)") }
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        }
        func run() throws {
            let data = try mnist.load()
            try LessonCommand.run("gradient-descent", output) {
                try GradientDescentLesson.run($0, data: data, trainCount: examples, epochs: epochs, seed: output.seed)
            }
        }
    }

    struct BackpropCalculus: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "backprop-calculus",
            abstract: "The chain rule on a chain of three neurons, factor by factor, against autograd and finite differences.")
        @OptionGroup var output: Output
        func run() throws { try LessonCommand.run("backprop-calculus", output) { try BackpropCalculusLesson.run($0) } }
    }

    struct FloatFormats: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "float-formats",
            abstract: "FP32, FP16 and BF16 bit by bit, their range and epsilon, absmax and zero-point quantization.")
        @OptionGroup var output: Output
        @Option(help: "The number to take apart.") var value: Float = 0.1
        func validate() throws { guard value.isFinite else { throw ValidationError("--value must be a finite number") } }
        func run() throws { try LessonCommand.run("float-formats", output) { try FloatFormatsLesson.run($0, value: value) } }
    }

    struct Cons: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a trained network cannot do: nonsense inputs, drawing digits, telling learning from memorising.")
        @OptionGroup var output: Output
        @OptionGroup var mnist: MNISTData
        @Option(help: "Epochs of the classifier.") var epochs = 2
        @Option(help: "Images whose labels are shuffled and memorised.") var memorize = 2000
        @Option(help: "Epochs of the memorising run.") var memorizeEpochs = 60
        func validate() throws {
            guard epochs >= 1, memorizeEpochs >= 1 else { throw ValidationError("--epochs and --memorize-epochs must be at least 1") }
            guard memorize >= 64 else { throw ValidationError("--memorize must be at least 64, got \(memorize)") }
        }
        func run() throws {
            let data = try mnist.load()
            try LessonCommand.run("cons", output) {
                try ConsLesson.run($0, data: data, epochs: epochs, memorizeCount: memorize, memorizeEpochs: memorizeEpochs, seed: output.seed)
            }
        }
    }

    struct LearningKinds: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "learning-kinds",
            abstract: "Supervised, unsupervised, semi-supervised and reinforcement learning, each run at a small size.")
        @OptionGroup var output: Output
        @OptionGroup var mnist: MNISTData
        @Option(help: "Directory with the karate club's nodes.csv and edges.csv (default: datasets/karate-club).") var graph: String?
        func run() throws {
            let data = try mnist.load()
            let club = try Graph(directory: graph ?? defaultGraphDirectory())
            try LessonCommand.run("learning-kinds", output) { try LearningKindsLesson.run($0, data: data, karateClub: club, seed: output.seed) }
        }
    }

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
