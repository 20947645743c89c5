import Foundation

/// The MNIST main job as a library call: build the network, train it with a progress display, keep the best epoch
/// on a held-out validation set, and measure it on the test set. `synapse train mnist` is a thin wrapper.
///
/// ```swift
/// let data = try MNIST()                                   // datasets/mnist
/// let run = try MNISTTraining(options: .init(architecture: .mlp, epochs: 10)).run(on: data)
/// print(run.testMetrics.accuracy)                          // ≈ 0.98
/// try run.writeReport(to: URL(fileURLWithPath: "runs/mnist"))
/// ```
public struct MNISTTraining {
    public struct Options: Sendable {
        public var architecture: MNISTArchitecture
        public var dataset: MNIST.Variant = .digits
        public var epochs: Int
        public var batchSize: Int
        public var optimizer: OptimizerKind
        public var learningRate: Float
        /// Decay the learning rate to zero along a cosine over the run (per step).
        public var cosineSchedule = true
        public var seed: UInt64 = 0
        /// Examples held out from the end of the training set to pick the best epoch; the test set is never seen
        /// during training.
        public var validationCount = 5000
        /// Quantization-aware training for int8: Linear layers fake-quantize their weights (per channel) and inputs
        /// (running min/max) in the forward pass (`QATLinear`); the result is exported as an int8 model.
        public var quantizationAware = false
        /// Start from these weights instead of a fresh initialisation (e.g. a trained model to fine-tune with
        /// quantization-aware training); keys and shapes must match the architecture.
        public var initialStateDict: [String: Tensor]?
        /// Keep a training checkpoint (every N epochs and on SIGINT/SIGTERM) and resume from it; see `Checkpointing`.
        public var checkpoint: Checkpointing?
        /// Train on the first this many training images only (a quick run, a test); nil for all.
        public var trainingLimit: Int?

        /// The defaults per architecture: mlp reaches ≥ 98% test accuracy (time in docs/BENCHMARKS.md).
        public init(architecture: MNISTArchitecture, epochs: Int? = nil, batchSize: Int? = nil,
                    optimizer: OptimizerKind? = nil, learningRate: Float? = nil) {
            self.architecture = architecture
            switch architecture {
            case .seed:
                // The notes' network learns with plain gradient descent and a large step.
                self.epochs = epochs ?? 10
                self.batchSize = batchSize ?? 32
                self.optimizer = optimizer ?? .sgd
                self.learningRate = learningRate ?? (optimizer == nil || optimizer == .sgd ? 1.0 : self.optimizer.defaultLearningRate)
            case .cnn:
                self.epochs = epochs ?? 8
                self.batchSize = batchSize ?? 64
                self.optimizer = optimizer ?? .adam
                self.learningRate = learningRate ?? self.optimizer.defaultLearningRate
            case .mlp:
                self.epochs = epochs ?? 15
                self.batchSize = batchSize ?? 128
                self.optimizer = optimizer ?? .adam
                self.learningRate = learningRate ?? self.optimizer.defaultLearningRate
            }
        }
    }

    /// What a run produced.
    public struct Result {
        public var options: Options
        public var model: Sequential
        /// The int8 export of a quantization-aware run (`QATLinear.export(model).model`); `testMetrics` are its own.
        public var quantizedModel: Sequential?
        public var history: TrainingHistory
        public var testMetrics: ClassificationMetrics
        public var trainingSeconds: Double
        /// A distributed run: the parameters' checksum (verified equal on every rank) and the seconds the steps
        /// spent waiting for gradient reductions.
        public var parameterChecksum: UInt64?
        public var communicationWaitSeconds = 0.0
    }

    public var options: Options
    /// Where the per-epoch progress goes (`.off` in tests).
    public var progress: ProgressBar.Mode

    /// Distributed data parallelism over these ranks: `options.batchSize` is each rank's share of a global batch of
    /// `batchSize × size`; give the ranks other than 0 `progress: .off`.
    public var communicator: Communicator?

    public init(options: Options, progress: ProgressBar.Mode = .automatic, communicator: Communicator? = nil) {
        (self.options, self.progress, self.communicator) = (options, progress, communicator)
    }

    /// Trains on `data.train` (less the validation tail) and evaluates on `data.test`.
    public func run(on data: MNIST) throws -> Result {
        let shape = options.architecture.inputs
        let samples = options.trainingLimit.map { data.train.prefix($0) } ?? data.train
        let (train, validation) = SupervisedFit.split(samples, validationCount: options.validationCount) {
            TrainingData(inputs: shape($0.images), labels: $0.labels)
        }

        var rng = RandomGenerator(seed: options.seed)
        let floatModel = options.architecture.makeModel(generator: &rng)
        if let initial = options.initialStateDict { try floatModel.load(stateDict: initial) }
        let model = options.quantizationAware ? QATLinear.prepare(floatModel) : floatModel
        let optimizer = options.optimizer.make(parameters: model.parameters(), learningRate: options.learningRate)
        let fit = SupervisedFit(epochs: options.epochs, batchSize: options.batchSize, seed: options.seed,
                                cosineSchedule: options.cosineSchedule, keepBest: .validationAccuracy, progress: progress,
                                checkpoint: options.checkpoint, communicator: communicator)
        let ((history, seconds), trainer) = try fit.runTrainer(
            model: model, optimizer: optimizer, loss: .crossEntropy,
            train: train, validation: validation)
        let quantized = options.quantizationAware ? QATLinear.export(model).model : nil
        let predictions = (quantized ?? model).predictClasses(shape(data.test.images))
        let metrics = ClassificationMetrics(predictions: predictions, labels: data.test.labels, classCount: MNIST.classCount)
        return Result(options: options, model: model, quantizedModel: quantized, history: history, testMetrics: metrics,
                      trainingSeconds: seconds, parameterChecksum: trainer.parameterChecksum,
                      communicationWaitSeconds: trainer.communicationWaitSeconds)
    }
}

extension MNISTTraining.Result {
    /// The files of a run's report, relative to its directory.
    public enum ReportFile {
        public static let model = "model.safetensors"
        public static let history = "history.csv"
        public static let curves = "curves.svg"
        public static let confusion = "confusion.svg"
        /// Dense networks: the first layer's weights, one 28×28 image per hidden neuron.
        public static let weights = "weights.png"
        /// Convolutional networks: the first layer's learned 3×3 filters.
        public static let filters = "filters.png"
        /// Convolutional networks: one test digit, then its feature maps after each convolution (one row each).
        public static let featureMaps = "feature-maps.png"
    }

    /// Writes the model, the history (CSV), the loss/accuracy curves (SVG) and the test confusion matrix (SVG), and
    /// pictures of what the first layer learned: for dense networks its weights as one 28×28 image per neuron (what
    /// each hidden neuron "looks for"); for convolutional ones the 3×3 filters and the feature maps of one test
    /// digit through each convolution ("edges first"). Returns the paths written.
    @discardableResult
    public func writeReport(to directory: URL, sampleDigit: Tensor? = nil) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = { (name: String) in directory.appendingPathComponent(name) }
        let metadata = ["synapse.test_accuracy": String(format: "%.4f", testMetrics.accuracy), "synapse.epochs": String(options.epochs)]
        if quantizedModel != nil {
            try ClassifierFile.save(QATLinear.export(model), architecture: options.architecture, dataset: options.dataset,
                                    extraMetadata: metadata.merging(["synapse.qat": "int8"]) { $1 }, to: url(ReportFile.model))
        } else {
            try ClassifierFile.save(model, architecture: options.architecture, dataset: options.dataset,
                                    extraMetadata: metadata, to: url(ReportFile.model))
        }
        try history.writeCSV(to: url(ReportFile.history))
        try history.chart(title: "MNIST \(options.architecture.rawValue): loss and accuracy").write(to: url(ReportFile.curves).path)
        try ConfusionMatrixChart(counts: testMetrics.confusion, classNames: options.dataset.classNames,
                                 title: "MNIST \(options.architecture.rawValue): test confusion matrix")
            .write(to: url(ReportFile.confusion).path)
        var written = [ReportFile.model, ReportFile.history, ReportFile.curves, ReportFile.confusion]
        // Quantization-aware models keep a Float32 weight in their first layer too.
        if let firstWeight = (model.layers.first as? Linear)?.weight ?? (model.layers.first as? QATLinear)?.weight {
            let weights = firstWeight.detached()
            let hidden = weights.shape[0]
            try ImageGrid(colormap: .diverging, normalization: .perImage, columns: hidden <= 16 ? 4 : 16,
                          scale: hidden <= 16 ? 4 : 2, padding: 2)
                .write(ImageGrid.tiles(from: weights, width: 28, height: 28), to: url(ReportFile.weights).path)
            written.append(ReportFile.weights)
        }
        if let conv = model.layers.first as? Conv2d {
            let (kh, kw) = (conv.weight.shape[2], conv.weight.shape[3])
            try ImageGrid(colormap: .diverging, normalization: .perImage, columns: 8, scale: 12, padding: 3)
                .write(ImageGrid.tiles(from: conv.weight.detached(), width: kw, height: kh), to: url(ReportFile.filters).path)
            if let sampleDigit {
                try writeFeatureMaps(of: sampleDigit, to: url(ReportFile.featureMaps))
                written.append(ReportFile.featureMaps)
            }
            written.append(ReportFile.filters)
        }
        return written.map(url)
    }

    /// The digit, then the activations after each convolution's ReLU, each layer's maps in one grid, stacked.
    private func writeFeatureMaps(of digit: Tensor, to url: URL) throws {
        model.eval()
        var grids: [Bitmap] = []
        noGrad {
            var x = options.architecture.inputs(digit.reshaped(1, 784))
            grids.append(ImageGrid(normalization: .perImage, columns: 1, scale: 4, padding: 2)
                .render(ImageGrid.tiles(from: x, width: 28, height: 28)))
            for layer in model.layers {
                x = layer(x)
                // Each convolution's maps after the ReLU, at full resolution (the model pools before its ReLU).
                if layer is Conv2d {
                    let maps = x.relu()
                    let (h, w) = (maps.shape[2], maps.shape[3])
                    grids.append(ImageGrid(normalization: .perImage, columns: 16, scale: h < 16 ? 6 : 3, padding: 2)
                        .render(ImageGrid.tiles(from: maps, width: w, height: h)))
                }
            }
        }
        try PNG.write(Bitmap.stacked(grids, gap: 8), to: url.path)
    }
}
