import ArgumentParser
import Foundation
import Synapse

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network.",
        subcommands: [TrainMNIST.self, TrainText.self, TrainGraph.self, TrainAutoencoder.self, TrainRL.self])
}

struct TrainMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist",
        abstract: "Train a digit (or Fashion-MNIST) classifier and write a report.",
        discussion: """
            Writes to --out: model.safetensors (with its architecture in the metadata, for `synapse eval` and \
            `synapse predict`), history.csv, curves.svg, confusion.svg and weights.png (the first layer's weights, \
            one 28×28 image per neuron).
            """)

    @Option(help: "Network: \(MNISTArchitecture.allCases.map { "\($0.rawValue) (\($0))" }.joined(separator: ", ")).")
    var model: MNISTArchitecture = .mlp

    @Option(help: "Dataset: mnist (digits) or fashion (Fashion-MNIST).")
    var dataset: DatasetName = .mnist

    @Option(help: "Directory with the four IDX files (default: datasets/mnist, or /usr/share/datasets/fashion-mnist).")
    var data: String?

    @Option(help: "Passes over the training set (default: 15 for mlp, 10 for seed).")
    var epochs: Int?

    @Option(help: "Examples per gradient step: 1 is stochastic, the whole set is batch gradient descent (default: 128 for mlp, 32 for seed).")
    var batchSize: Int?

    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: adam for mlp, sgd for seed).")
    var optimizer: OptimizerKind?

    @Option(help: "Learning rate (default: 1e-3 for adam, 1.0 for sgd on the seed network).")
    var lr: Float?

    @Flag(inversion: .prefixedNo, help: "Decay the learning rate along a cosine to zero.")
    var cosine = true

    @Option(help: "Random seed (initial weights and shuffling).")
    var seed: UInt64 = 0

    @Option(help: "Directory for the model and the report.")
    var out: String = "runs/mnist"

    @Option(help: "Quantization-aware training: 'int8' fake-quantizes weights and activations while training and writes an int8 model.")
    var qat: QATTarget?

    @Option(help: "Start from this trained model (same --model) instead of random weights, e.g. to fine-tune it with --qat.")
    var from: String?

    @Flag(help: "Plain progress lines even on a terminal.")
    var plain = false

    @Option(help: "Train on the first N training images only (a quick run); the validation images are held out of those.")
    var trainLimit: Int?

    @OptionGroup var checkpoints: CheckpointOptions

    @OptionGroup var parallel: DistributedOptions

    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        if let trainLimit { try OptionLimits.check("--train-limit", trainLimit, limit: 60_000) }
        if let epochs { try OptionLimits.check("--epochs", epochs, limit: OptionLimits.epochs) }
        if let batchSize { try OptionLimits.check("--batch-size", batchSize, limit: OptionLimits.batchSize) }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
    }

    func run() throws {
        precision.apply()
        let world = try parallel.start()
        try exitingOnInterrupt { try runDistributed(world) { try train(world) } }
    }

    private func train(_ world: Communicator?) throws {
        try AtomicFile.checkWritable(directory: URL(fileURLWithPath: out))
        var options = MNISTTraining.Options(architecture: model, epochs: epochs, batchSize: batchSize,
                                            optimizer: optimizer, learningRate: lr)
        options.dataset = dataset.variant
        options.cosineSchedule = cosine
        options.seed = seed
        options.quantizationAware = qat != nil
        options.checkpoint = try checkpoints.checkpointing(in: out)
        options.trainingLimit = trainLimit
        if let from {
            let (start, info) = try ClassifierFile.load(from: URL(fileURLWithPath: from))
            guard info.architecture == model, info.metadata["synapse.quantization"] == nil else {
                throw CLIError("--from \(from) is a \(info.metadata["synapse.quantization"] ?? info.architecture.rawValue) model; it must be a Float32 \(model.rawValue) model")
            }
            options.initialStateDict = start.stateDict()
        }
        let directory = try data ?? MNIST.defaultDirectory(variant: dataset.variant)
        let mnist = try MNIST(directory: directory, variant: dataset.variant)
        print("data: \(mnist.train.count) training and \(mnist.test.count) test images from \(directory)")
        let size = world?.size ?? 1
        let batch = size > 1 ? "batch \(options.batchSize) per rank × \(size) ranks" : "batch \(options.batchSize)"
        print("model: \(model) — \(options.epochs) epochs, \(batch), \(options.optimizer.rawValue) lr \(options.learningRate)\(cosine ? " (cosine decay)" : ""), seed \(seed)")
        let lead = world?.isLead ?? true
        let run = try MNISTTraining(options: options, progress: lead ? (plain ? .plain : .automatic) : .off,
                                    communicator: world).run(on: mnist)
        if let checksum = run.parameterChecksum {
            print(String(format: "distributed: %d ranks, weights identical on every rank (checksum %016llx); %.2f s of %.1f waiting on gradient reductions",
                         size, checksum, run.communicationWaitSeconds, run.trainingSeconds))
        }
        guard lead else { return }
        print(String(format: "test accuracy%@: %.2f%% (%d/%d) after %.1f s of training", qat == nil ? "" : " (int8 export)",
                     100 * run.testMetrics.accuracy, run.testMetrics.correct, run.testMetrics.total, run.trainingSeconds))
        let files = try run.writeReport(to: URL(fileURLWithPath: out), sampleDigit: mnist.test.images[row: 0])
        print("wrote " + files.map { relative($0.path) }.joined(separator: ", "))
    }
}

/// The `--qat` targets.
enum QATTarget: String, ExpressibleByArgument, CaseIterable { case int8 }

/// The `--dataset` names.
enum DatasetName: String, ExpressibleByArgument, CaseIterable {
    case mnist, fashion
    var variant: MNIST.Variant { self == .mnist ? .digits : .fashion }
}

extension MNISTArchitecture: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// A path shown relative to the current directory when it is below it.
func relative(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath + "/"
    return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
}
