import Foundation

/// Trains an `Autoencoder` on MNIST-style images, as `synapse train autoencoder` does: mean squared reconstruction
/// error, Adam with a cosine decay, the best epoch kept on a held-out validation set.
///
/// With `noise > 0` it is a **denoising** autoencoder: every training batch is corrupted afresh with Gaussian noise
/// (clamped to [0, 1]) and the target is the clean image. The result then also measures, on a fixed noisy copy of the
/// test set, how far the noisy inputs are from the clean images and how far the reconstructions are.
///
/// The training set's reconstruction errors give the out-of-distribution threshold stored in the model file: the
/// `thresholdQuantile` quantile (0.99: one training image in a hundred would be flagged).
///
/// ```swift
/// let mnist = try MNIST()
/// let run = try AutoencoderTraining(options: .init(noise: 0.3)).run(on: mnist)
/// print(run.noisyInputMSE!, run.denoisedMSE!)      // e.g. 0.046 → 0.012
/// try run.writeReport(to: URL(fileURLWithPath: "runs/autoencoder"))
/// ```
public struct AutoencoderTraining {
    public struct Options: Sendable {
        /// Encoder widths from the input to the code.
        public var sizes: [Int] = [784, 256, 64, 32]
        /// Dense layers of `sizes`, or the convolutional autoencoder (`Autoencoder.Kind.convolutional`).
        public var kind: Autoencoder.Kind = .dense
        /// Standard deviation of the Gaussian corruption; 0 trains a plain autoencoder.
        public var noise: Float = 0
        public var epochs = 20
        public var batchSize = 128
        public var learningRate: Float = 1e-3
        public var seed: UInt64 = 0
        public var validationCount = 5000
        public var thresholdQuantile = 0.99
        public var dataset: MNIST.Variant = .digits
        /// Keep a training checkpoint (every N epochs and on SIGINT/SIGTERM) and resume from it; see `Checkpointing`.
        public var checkpoint: Checkpointing?

        public init(noise: Float = 0, epochs: Int = 20) {
            self.noise = noise
            self.epochs = epochs
        }
    }

    /// What a run produced.
    public struct Result {
        public var options: Options
        public var model: Autoencoder
        public var history: TrainingHistory
        /// Per-pixel MSE of the reconstructions of the clean test images.
        public var testMSE: Float
        /// Per-pixel MSE between the noisy test images and the clean ones (with noise only).
        public var noisyInputMSE: Float?
        /// Per-pixel MSE between the reconstructions of the noisy test images and the clean ones (with noise only).
        public var denoisedMSE: Float?
        /// The out-of-distribution threshold and the training errors it came from.
        public var threshold: Float
        public var trainingErrorMedian: Float
        /// The first test images, their noisy versions (equal to the clean ones without noise) and reconstructions.
        public var examples: (clean: Tensor, noisy: Tensor, reconstructed: Tensor)
        public var trainingSeconds: Double
    }

    public var options: Options
    public var progress: ProgressBar.Mode

    public init(options: Options, progress: ProgressBar.Mode = .automatic) { (self.options, self.progress) = (options, progress) }

    public func run(on data: MNIST) throws -> Result {
        let (train, validation) = SupervisedFit.split(data.train, validationCount: options.validationCount) {
            TrainingData(inputs: $0.images, targets: $0.images)
        }

        var rng = RandomGenerator(seed: options.seed)
        let model = options.kind == .convolutional
            ? Autoencoder(convolutionalWithNoise: options.noise, seed: options.seed, generator: &rng)
            : Autoencoder(sizes: options.sizes, noise: options.noise, seed: options.seed, generator: &rng)
        let optimizer = Adam(parameters: model.parameters(), learningRate: options.learningRate)
        let fit = SupervisedFit(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed,
                                keepBest: .validationLoss, progress: progress, checkpoint: options.checkpoint)
        let (history, seconds) = try fit.run(
            model: model, optimizer: optimizer, loss: .meanSquaredError,
            train: train, validation: validation)
        model.eval()

        let test = data.test.images
        let testMSE = mean(model.reconstructionErrors(test))
        var noisyInputMSE: Float?, denoisedMSE: Float?
        var noisyTest = test
        if options.noise > 0 {
            var noiseRNG = RandomGenerator(seed: options.seed &+ 1)
            noisyTest = GaussianNoise.corrupt(test, std: options.noise, clampTo: 0...1, generator: &noiseRNG)
            noisyInputMSE = noGrad { mseLoss(noisyTest, test) }.item
            denoisedMSE = mean(model.reconstructionErrors(noisyTest, targets: test))
        }
        let trainingErrors = model.reconstructionErrors(train.inputs)
        let shown = Swift.min(12, test.shape[0])
        let clean = test.slice(axis: 0, 0..<shown), noisy = noisyTest.slice(axis: 0, 0..<shown)
        let reconstructed = noGrad { model(noisy) }
        return Result(options: options, model: model, history: history, testMSE: testMSE, noisyInputMSE: noisyInputMSE,
                      denoisedMSE: denoisedMSE, threshold: ROC.quantile(trainingErrors, options.thresholdQuantile),
                      trainingErrorMedian: ROC.quantile(trainingErrors, 0.5),
                      examples: (clean, noisy, reconstructed), trainingSeconds: seconds)
    }

    private func mean(_ values: [Float]) -> Float {
        Float(values.reduce(0.0) { $0 + Double($1) } / Double(Swift.max(values.count, 1)))
    }
}

extension AutoencoderTraining.Result {
    /// The files of a run's report, relative to its directory.
    public enum ReportFile {
        public static let model = "model.safetensors"
        public static let history = "history.csv"
        public static let curves = "curves.svg"
        public static let reconstructions = "reconstructions.png"
    }

    /// Writes the model (threshold in its metadata), the history (CSV), the loss curves (SVG) and a grid of test
    /// images: clean inputs, noisy inputs (with noise) and reconstructions, one row each. Returns the paths written.
    @discardableResult
    public func writeReport(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = { (name: String) in directory.appendingPathComponent(name) }
        var extra = ["synapse.test_mse": String(testMSE), "synapse.epochs": String(options.epochs),
                     AutoencoderFile.thresholdQuantileKey: String(options.thresholdQuantile)]
        if let noisyInputMSE, let denoisedMSE {
            extra["synapse.test_noisy_input_mse"] = String(noisyInputMSE)
            extra["synapse.test_denoised_mse"] = String(denoisedMSE)
        }
        try AutoencoderFile.save(model, dataset: options.dataset, threshold: threshold, extraMetadata: extra,
                                 to: url(ReportFile.model))
        try history.writeCSV(to: url(ReportFile.history))
        let kind = (options.kind == .convolutional ? "convolutional " : "") +
            (options.noise > 0 ? "denoising autoencoder (noise \(options.noise))" : "autoencoder")
        let layout = options.kind == .convolutional ? "" : " " + options.sizes.map(String.init).joined(separator: "-")
        try history.chart(title: "\(kind)\(layout): reconstruction MSE")
            .write(to: url(ReportFile.curves).path)
        try reconstructionGrid().write(examplesAsTiles(), to: url(ReportFile.reconstructions).path)
        return [ReportFile.model, ReportFile.history, ReportFile.curves, ReportFile.reconstructions].map(url)
    }

    /// Rows of 28×28 tiles: clean, noisy (only with noise), reconstructed.
    func examplesAsTiles() -> [GrayImage] {
        var rows = [examples.clean]
        if options.noise > 0 { rows.append(examples.noisy) }
        rows.append(examples.reconstructed)
        return rows.flatMap { ImageGrid.tiles(from: $0, width: 28, height: 28) }
    }

    func reconstructionGrid() -> ImageGrid {
        ImageGrid(colormap: .gray, normalization: .none, columns: examples.clean.shape[0], scale: 3, padding: 3)
    }
}
