import ArgumentParser
import Foundation
import Synapse

struct TrainAutoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Train a dense autoencoder on MNIST-style images (a denoising one with --noise).",
        discussion: """
            Writes to --out: model.safetensors (its layer widths, noise level and out-of-distribution threshold in the \
            metadata, for `synapse anomaly` and `synapse predict --check`), history.csv, curves.svg and \
            reconstructions.png (rows: test images, their noisy versions with --noise, the reconstructions).
            """)

    @Option(help: "Dataset: mnist (digits) or fashion (Fashion-MNIST).")
    var data: DatasetName = .mnist

    @Option(help: "Directory with the four IDX files (default: datasets/mnist, or /usr/share/datasets/fashion-mnist).")
    var dataDir: String?

    @Option(help: "Standard deviation of the Gaussian noise added to training inputs (0: plain autoencoder).")
    var noise: Float = 0

    @Option(help: "Encoder widths from the input to the code; the decoder mirrors them.")
    var sizes: String = "784,256,64,32"

    @Flag(help: "Convolutional autoencoder (conv-pool ×2 to an 8×7×7 code, upsample+conv ×2 back) instead of dense layers.")
    var conv = false

    @Option(help: "Passes over the training set.") var epochs: Int = 20
    @Option(help: "Examples per gradient step.") var batchSize: Int = 128
    @Option(help: "Adam learning rate (decayed along a cosine).") var lr: Float = 1e-3
    @Option(help: "Random seed (initial weights, shuffling, noise).") var seed: UInt64 = 0
    @Option(help: "Directory for the model and the report.") var out: String = "runs/autoencoder"
    @OptionGroup var checkpoints: CheckpointOptions
    @Flag(help: "Plain progress lines even on a terminal.") var plain = false

    func validate() throws {
        try OptionLimits.check("--epochs", epochs, limit: OptionLimits.epochs)
        try OptionLimits.check("--batch-size", batchSize, limit: OptionLimits.batchSize)
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard noise >= 0 && noise.isFinite else { throw ValidationError("--noise must be a number ≥ 0, got \(noise)") }
        let widths = try parseSizes(sizes)
        guard widths.count >= 2, widths[0] == 784 else {
            throw ValidationError("--sizes must start with 784 (28×28 pixels) and name at least a code width, got '\(sizes)'")
        }
    }

    func run() throws {
        try AtomicFile.checkWritable(directory: URL(fileURLWithPath: out))
        var options = AutoencoderTraining.Options(noise: noise, epochs: epochs)
        options.sizes = try parseSizes(sizes)
        if conv { options.kind = .convolutional }
        options.batchSize = batchSize
        options.learningRate = lr
        options.seed = seed
        options.dataset = data.variant
        let directory = try dataDir ?? defaultDataDirectory(data.variant)
        let mnist = try MNIST(directory: directory, variant: data.variant)
        print("data: \(mnist.train.count) training and \(mnist.test.count) test images from \(directory)")
        print("model: " + (conv ? "convolutional autoencoder (code 8×7×7)" : "\(options.sizes.map(String.init).joined(separator: "-"))-…-784 autoencoder") +
              (noise > 0 ? ", denoising (Gaussian noise σ = \(noise))" : "") + ", \(epochs) epochs, batch \(batchSize), adam lr \(lr)")
        options.checkpoint = try checkpoints.checkpointing(in: out)
        let run = try exitingOnInterrupt {
            try AutoencoderTraining(options: options, progress: plain ? .plain : .automatic).run(on: mnist)
        }
        print(String(format: "test reconstruction MSE (clean inputs): %.5f after %.1f s of training", run.testMSE, run.trainingSeconds))
        if let noisy = run.noisyInputMSE, let denoised = run.denoisedMSE {
            print(String(format: "noisy test inputs: MSE to the clean images %.5f; reconstructions %.5f (%.1f× lower)",
                         noisy, denoised, noisy / denoised))
        }
        print(String(format: "training reconstruction error: median %.5f, %g%% quantile %.5f (the out-of-distribution threshold)",
                     run.trainingErrorMedian, 100 * options.thresholdQuantile, run.threshold))
        let files = try run.writeReport(to: URL(fileURLWithPath: out))
        print("wrote " + files.map { relative($0.path) }.joined(separator: ", "))
    }
}

/// The default directory of a dataset, with the install hint for Fashion-MNIST when it is missing.
func defaultDataDirectory(_ variant: MNIST.Variant) throws -> String {
    do {
        return try MNIST.defaultDirectory(variant: variant)
    } catch {
        if variant == .fashion {
            throw ValidationError("Fashion-MNIST not found: install it with `apt-get install dataset-fashion-mnist` (into /usr/share/datasets/fashion-mnist) or pass its directory")
        }
        throw error
    }
}
