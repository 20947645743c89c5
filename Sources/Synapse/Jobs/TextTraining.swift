import Foundation

/// The text-training recipe behind `synapse train text`: pick the model (a character-level LSTM/GRU/RNN or a GPT, or
/// continue a saved one), the optimizer recipe that suits it, train with `TextTrainer`, and write the report.
///
/// Recurrent models train with Adam at a constant rate (2e-3 by default); GPT with nanoGPT's recipe: AdamW (β₂ 0.99)
/// with weight decay on matrices only, a linear warm-up and a cosine decay to `minimumLearningRate`.
///
/// ```swift
/// let dataset = try TextDataset(contentsOf: url, blockLength: 64)
/// let run = try TextTraining(options: .init(architecture: .gpt, iterations: 500)).run(on: dataset)
/// try run.writeReport(to: URL(fileURLWithPath: "runs/text"))
/// ```
public struct TextTraining {
    /// The model families it can build.
    public enum Architecture: String, CaseIterable, Sendable {
        case lstm, gru, rnn, gpt

        var recurrentKind: RecurrentLanguageModel.Kind? { RecurrentLanguageModel.Kind(rawValue: rawValue) }
    }

    public struct Options: Sendable {
        public var architecture: Architecture = .lstm
        public var embedding = 128
        /// Attention heads (GPT).
        public var heads = 4
        /// Hidden units per recurrent layer.
        public var hidden = 256
        /// Recurrent layers, or transformer blocks.
        public var layers = 1
        /// Characters per training window (GPT: also its context length).
        public var block = 64
        public var batchSize = 32
        public var iterations = 2000
        /// Peak learning rate; nil picks 2e-3 (recurrent, Adam) or 1e-3 (GPT, AdamW).
        public var learningRate: Float?
        /// GPT: warm-up steps before the cosine decay, the rate it decays to, AdamW's decay on matrices.
        public var warmup = 100
        public var minimumLearningRate: Float = 1e-4
        public var weightDecay: Float = 0.1
        /// Global gradient-norm limit; 0 turns clipping off.
        public var clip: Float = 1
        public var evaluationInterval = 200
        public var evaluationBatches = 20
        public var seed: UInt64 = 1337
        /// Keep a checkpoint every `checkpointInterval` iterations (and on SIGINT/SIGTERM) and resume from it.
        public var checkpoint: Checkpointing?
        public var checkpointInterval = 250

        public init(architecture: Architecture = .lstm, iterations: Int = 2000) {
            self.architecture = architecture
            self.iterations = iterations
        }
    }

    /// What a run produced.
    public struct Result {
        public var model: any LanguageModel
        public var tokenizer: CharacterTokenizer
        /// One line naming the model, its size and the optimizer recipe.
        public var summary: String
        public var training: TextTrainer.Result
    }

    /// Why a recipe cannot run.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case blockExceedsModel(block: Int, modelBlock: Int)

        public var description: String {
            switch self {
            case let .blockExceedsModel(block, modelBlock):
                return "text training: windows of \(block) characters exceed the model's block size \(modelBlock); use --block \(modelBlock) or less"
            }
        }
    }

    public var options: Options
    /// A saved model to continue (its architecture and vocabulary win over `options`' architecture fields).
    public var initialModel: (any LanguageModel)?
    /// Distributed data parallelism over these ranks (`TextTrainer.communicator`): `options.batchSize` is per rank.
    public var communicator: Communicator?

    public init(options: Options, continuing initialModel: (any LanguageModel)? = nil) {
        self.options = options
        self.initialModel = initialModel
    }

    /// A fresh model of `options.architecture` for a vocabulary of `vocabularySize`.
    public func makeModel(vocabularySize: Int, generator: inout RandomGenerator) -> any LanguageModel {
        let o = options
        guard let kind = o.architecture.recurrentKind else {
            return GPT(GPTConfiguration(vocabularySize: vocabularySize, blockSize: o.block, layers: o.layers,
                                        heads: o.heads, embedding: o.embedding), generator: &generator)
        }
        return RecurrentLanguageModel(.init(kind: kind, vocabularySize: vocabularySize, embeddingSize: o.embedding,
                                            hiddenSize: o.hidden, layers: o.layers), generator: &generator)
    }

    /// The optimizer, schedule and a one-line description of the recipe for `model`.
    public func makeOptimizer(for model: any LanguageModel) throws(Error)
        -> (optimizer: Optimizer, schedule: (any LearningRateSchedule)?, summary: String) {
        let o = options
        let kind = model.architectureMetadata[LanguageModelFile.kindKey] ?? o.architecture.rawValue
        if let gpt = model as? GPT {
            let c = gpt.configuration
            guard o.block <= c.blockSize else { throw .blockExceedsModel(block: o.block, modelBlock: c.blockSize) }
            let peak = o.learningRate ?? 1e-3
            let optimizer = AdamW(groups: gpt.parameterGroups(learningRate: peak, weightDecay: o.weightDecay),
                                  beta1: 0.9, beta2: 0.99)
            let schedule = WarmupCosineSchedule(warmupSteps: o.warmup, totalSteps: o.iterations,
                                                minimumLearningRate: Swift.min(o.minimumLearningRate, peak))
            let summary = "gpt, \(c.layers) layers, \(c.heads) heads, embedding \(c.embedding), block \(c.blockSize), "
                + "\(gpt.parameterCount) parameters; batch \(o.batchSize), adamw lr \(peak) (warm-up \(o.warmup), "
                + "cosine to \(o.minimumLearningRate)), weight decay \(o.weightDecay), clip \(o.clip)"
            return (optimizer, schedule, summary)
        }
        let peak = o.learningRate ?? 2e-3
        var shape = ""
        if let recurrent = model as? RecurrentLanguageModel {
            let c = recurrent.configuration
            shape = ", embedding \(c.embeddingSize), \(c.layers) × \(c.hiddenSize) hidden"
        }
        let summary = "\(kind)\(shape), \(model.parameterCount) parameters; block \(o.block), batch \(o.batchSize), "
            + "adam lr \(peak), clip \(o.clip)"
        return (Adam(parameters: model.parameters(), learningRate: peak), nil, summary)
    }

    /// Trains on `dataset` (whose tokenizer must be the initial model's, when continuing one), reporting each step
    /// and evaluation to `onEvent`. `onStart` gets the recipe's summary line before the first step.
    public func run(on dataset: TextDataset, onStart: (String) -> Void = { _ in },
                    onEvent: (TextTrainer.Event) -> Void = { _ in }) throws -> Result {
        var rng = RandomGenerator(seed: options.seed)
        let model = initialModel ?? makeModel(vocabularySize: dataset.tokenizer.vocabularySize, generator: &rng)
        model.train()
        let (optimizer, schedule, summary) = try makeOptimizer(for: model)
        onStart(summary)
        let o = options
        let trainer = TextTrainer(model: model, dataset: dataset, optimizer: optimizer, schedule: schedule,
                                  options: .init(iterations: o.iterations, batchSize: o.batchSize,
                                                 gradientClip: o.clip > 0 ? o.clip : nil,
                                                 evaluationInterval: o.evaluationInterval,
                                                 evaluationBatches: o.evaluationBatches, seed: o.seed))
        trainer.communicator = communicator
        let training = try trainer.run(onEvent: onEvent, checkpoint: o.checkpoint, checkpointInterval: o.checkpointInterval)
        return Result(model: model, tokenizer: dataset.tokenizer, summary: summary, training: training)
    }
}

extension TextTraining.Result {
    /// The files of a run's report, relative to its directory.
    public enum ReportFile {
        public static let model = "model.safetensors"
        public static let history = "history.csv"
        public static let curves = "curves.svg"
    }

    /// Writes the model (weights, architecture and vocabulary, for `synapse generate`), the loss estimates (CSV)
    /// and their curves (SVG), atomically. Returns the paths written.
    @discardableResult
    public func writeReport(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = { (name: String) in directory.appendingPathComponent(name) }
        try LanguageModelFile.save(model, tokenizer: tokenizer, to: url(ReportFile.model))
        let rows = training.evaluations.map { "\($0.iteration),\($0.trainLoss),\($0.validationLoss)" }
        let csv = "iteration,train_loss,val_loss\n" + rows.map { $0 + "\n" }.joined()
        try AtomicFile.write(Data(csv.utf8), to: url(ReportFile.history))
        let x = training.evaluations.map { Double($0.iteration) }
        let chart = LineChart(title: "text model: loss", panels: [
            .init(title: "cross-entropy per character", xLabel: "iteration", yLabel: "loss", series: [
                .init(name: "train", x: x, y: training.evaluations.map(\.trainLoss)),
                .init(name: "validation", x: x, y: training.evaluations.map(\.validationLoss), dashed: true),
            ]),
        ])
        try chart.write(to: url(ReportFile.curves).path)
        return [ReportFile.model, ReportFile.history, ReportFile.curves].map(url)
    }
}
