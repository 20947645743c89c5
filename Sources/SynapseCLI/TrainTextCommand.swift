import ArgumentParser
import Foundation
import Synapse

struct TrainText: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Train a character-level language model on a text file.",
        discussion: """
            Trains on random windows of the first 90% of the text and reports the loss on the last 10% every \
            --eval-interval iterations. Writes --out/model.safetensors (weights, architecture and vocabulary) for \
            `synapse generate`.
            """)

    @Option(help: "Model: \(TextModelChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: TextModelChoice = .lstm

    @Option(name: .customLong("init"), help: "Continue training this saved model (its architecture and vocabulary; architecture options are ignored).")
    var initialModel: String?

    @Option(help: "UTF-8 text file (default: ../shared/data/tinyshakespeare/input.txt).")
    var data: String?

    @Option(name: [.customLong("embedding"), .customLong("embed")], help: "Embedding size.") var embedding: Int = 128
    @Option(help: "Attention heads (gpt).") var heads: Int = 4
    @Option(help: "Hidden units per recurrent layer.") var hidden: Int = 256
    @Option(help: "Recurrent layers, or transformer blocks (gpt).") var layers: Int = 1
    @Option(help: "Characters per training window.") var block: Int = 64
    @Option(help: "Windows per batch.") var batchSize: Int = 32
    @Option(help: "Training iterations.") var iterations: Int = 2000
    @Option(help: "Peak learning rate (default 2e-3 with Adam for recurrent models, 1e-3 with AdamW for gpt).") var lr: Float?
    @Option(help: "gpt: warm-up iterations before the cosine decay.") var warmup: Int = 100
    @Option(help: "gpt: learning rate at the end of the cosine decay.") var minLr: Float = 1e-4
    @Option(help: "gpt: AdamW weight decay, applied to matrices only.") var weightDecay: Float = 0.1
    @Option(help: "Global gradient-norm limit (0 disables clipping).") var clip: Float = 1.0
    @Option(help: "Iterations between validation-loss estimates.") var evalInterval: Int = 200
    @Option(help: "Batches per loss estimate.") var evalBatches: Int = 20
    @Option(help: "Random seed (weights and batches).") var seed: UInt64 = 1337
    @Option(help: "Directory for model.safetensors and history.csv.") var out: String = "runs/text"

    func validate() throws {
        for (name, value) in [("--embedding", embedding), ("--hidden", hidden), ("--layers", layers), ("--block", block),
                              ("--batch-size", batchSize), ("--iterations", iterations), ("--eval-batches", evalBatches)]
        where value <= 0 {
            throw ValidationError("\(name) must be a positive number, got \(value)")
        }
        if evalInterval < 0 { throw ValidationError("--eval-interval must be 0 or more, got \(evalInterval)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if embedding % heads != 0 { throw ValidationError("--embed \(embedding) must be divisible by --heads \(heads)") }
        if warmup < 0 || !(minLr >= 0) || !(weightDecay >= 0) {
            throw ValidationError("--warmup, --min-lr and --weight-decay must be 0 or more")
        }
        if !(clip >= 0 && clip.isFinite) { throw ValidationError("--clip must be 0 or a positive number, got \(clip)") }
    }

    func run() throws {
        let url = data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile()
        var initial: (model: any LanguageModel, tokenizer: CharacterTokenizer)?
        if let initialModel {
            let loaded = try LanguageModelFile.load(from: URL(fileURLWithPath: initialModel))
            initial = (loaded.model, loaded.tokenizer)
        }
        let dataset = try TextDataset(contentsOf: url, blockLength: block, tokenizer: initial?.tokenizer)
        print("data: \(relative(url.path)): \(dataset.trainTokens.count) training and \(dataset.validationTokens.count) validation characters, vocabulary of \(dataset.tokenizer.vocabularySize)")
        var rng = RandomGenerator(seed: seed)
        let network: any LanguageModel
        if let initial {
            network = initial.model
            network.train()
            print("init: \(initialModel!) (\(network.architectureMetadata[LanguageModelFile.kindKey] ?? "?"), \(network.parameterCount) parameters)")
        } else if model == .gpt {
            network = GPT(GPTConfiguration(vocabularySize: dataset.tokenizer.vocabularySize, blockSize: block, layers: layers,
                                           heads: heads, embedding: embedding), generator: &rng)
        } else {
            network = RecurrentLanguageModel(.init(kind: model.recurrentKind!, vocabularySize: dataset.tokenizer.vocabularySize,
                                                   embeddingSize: embedding, hiddenSize: hidden, layers: layers),
                                             generator: &rng)
        }
        let optimizer: Optimizer
        var schedule: (any LearningRateSchedule)?
        if let gpt = network as? GPT {
            let c = gpt.configuration
            guard block <= c.blockSize else {
                throw ValidationError("--block \(block) exceeds the model's block size \(c.blockSize)")
            }
            let peak = lr ?? 1e-3
            optimizer = AdamW(groups: gpt.parameterGroups(learningRate: peak, weightDecay: weightDecay), beta1: 0.9, beta2: 0.99)
            schedule = WarmupCosineSchedule(warmupSteps: warmup, totalSteps: iterations, minimumLearningRate: Swift.min(minLr, peak))
            print("model: gpt, \(c.layers) layers, \(c.heads) heads, embedding \(c.embedding), block \(c.blockSize), \(gpt.parameterCount) parameters; batch \(batchSize), adamw lr \(peak) (warm-up \(warmup), cosine to \(minLr)), weight decay \(weightDecay), clip \(clip)")
        } else {
            let peak = lr ?? 2e-3
            optimizer = Adam(parameters: network.parameters(), learningRate: peak)
            print("model: \(network.architectureMetadata[LanguageModelFile.kindKey] ?? model.rawValue), embedding \(embedding), \(layers) × \(hidden) hidden, \(network.parameterCount) parameters; block \(block), batch \(batchSize), adam lr \(peak), clip \(clip)")
        }
        let trainer = TextTrainer(model: network, dataset: dataset, optimizer: optimizer, schedule: schedule,
                                  options: .init(iterations: iterations, batchSize: batchSize,
                                                 gradientClip: clip > 0 ? clip : nil, evaluationInterval: evalInterval,
                                                 evaluationBatches: evalBatches, seed: seed))
        let result = trainer.run(onEvent: TextProgressPrinter(total: iterations).handle)
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let modelURL = directory.appendingPathComponent("model.safetensors")
        try LanguageModelFile.save(network, tokenizer: dataset.tokenizer, to: modelURL)
        let historyURL = directory.appendingPathComponent("history.csv")
        let csv = "iteration,train_loss,val_loss\n" + result.evaluations.map { "\($0.iteration),\($0.trainLoss),\($0.validationLoss)" }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(csv.utf8), to: historyURL)
        print(String(format: "done: %d iterations, %.1f ms/iteration, train loss %.4f, validation loss %.4f",
                     result.iterations, result.millisecondsPerIteration, result.trainLoss, result.validationLoss))
        print("wrote \(relative(modelURL.path)), \(relative(historyURL.path)); try `synapse generate \(relative(modelURL.path)) --prompt \"ROMEO:\"`")
    }
}

/// Prints training progress: a live line on a terminal, and one line per evaluation.
final class TextProgressPrinter {
    let total: Int
    let live = isatty(STDOUT_FILENO) != 0
    var lastLive = 0.0

    init(total: Int) { self.total = total }

    func handle(_ event: TextTrainer.Event) {
        switch event {
        case let .step(iteration, loss, ms):
            let now = Date().timeIntervalSinceReferenceDate
            guard live, now - lastLive > 0.1 || iteration == total else { return }
            lastLive = now
            writeUnbuffered(String(format: "\r\u{1B}[Kiter %d/%d  loss %.4f  %.1f ms/iter", iteration, total, loss, ms))
        case let .evaluation(iteration, train, validation):
            if live { writeUnbuffered("\r\u{1B}[K") }
            print(String(format: "iter %d/%d  train loss %.4f  val loss %.4f", iteration, total, train, validation))
        }
    }
}
