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

    @Option(help: "Model: \(TextTraining.Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: TextTraining.Architecture = .lstm

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
    @Option(help: "Directory for model.safetensors, history.csv and curves.svg.") var out: String = "runs/text"
    @Option(help: "Write --out/checkpoint.safetensors every N iterations (and when stopped by Ctrl-C or SIGTERM).")
    var checkpointEvery: Int = 250
    @Flag(help: "Continue the run whose checkpoint is in --out (same settings), ending as if it had never stopped.")
    var resume = false
    @OptionGroup var parallel: DistributedOptions
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        for (name, value, limit) in [("--embedding", embedding, OptionLimits.width), ("--hidden", hidden, OptionLimits.width),
                                     ("--heads", heads, OptionLimits.width), ("--layers", layers, OptionLimits.layers),
                                     ("--batch-size", batchSize, OptionLimits.batchSize),
                                     ("--iterations", iterations, OptionLimits.iterations),
                                     ("--block", block, OptionLimits.batchTokens),
                                     ("--eval-batches", evalBatches, OptionLimits.iterations),
                                     ("--checkpoint-every", checkpointEvery, OptionLimits.iterations)] {
            try OptionLimits.check(name, value, limit: limit)
        }
        if evalInterval < 0 { throw ValidationError("--eval-interval must be 0 or more, got \(evalInterval)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if batchSize * block > OptionLimits.batchTokens {
            throw ValidationError("--batch-size \(batchSize) × --block \(block) is more than \(OptionLimits.batchTokens) tokens a batch; lower one of them")
        }
        if embedding % heads != 0 { throw ValidationError("--embed \(embedding) must be divisible by --heads \(heads)") }
        if warmup < 0 || !(minLr >= 0) || !(weightDecay >= 0) {
            throw ValidationError("--warmup, --min-lr and --weight-decay must be 0 or more")
        }
        if !(clip >= 0 && clip.isFinite) { throw ValidationError("--clip must be 0 or a positive number, got \(clip)") }
    }

    func run() throws {
        precision.apply()
        let world = try parallel.start()
        try exitingOnInterrupt { try runDistributed(world) { try train(world) } }
    }

    private func train(_ world: Communicator?) throws {
        try AtomicFile.checkWritable(directory: URL(fileURLWithPath: out))
        let url = data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile()
        let initial = try initialModel.map { try LanguageModelFile.load(from: URL(fileURLWithPath: $0)) }
        let dataset = try TextDataset(contentsOf: url, blockLength: block, tokenizer: initial?.tokenizer)
        print("data: \(relative(url.path)): \(dataset.trainTokens.count) training and \(dataset.validationTokens.count) validation characters, vocabulary of \(dataset.tokenizer.vocabularySize)")
        if let initial, let initialModel {
            print("init: \(initialModel) (\(initial.model.architectureMetadata[LanguageModelFile.kindKey] ?? "?"), \(initial.model.parameterCount) parameters)")
        }
        var options = TextTraining.Options(architecture: model, iterations: iterations)
        (options.embedding, options.heads, options.hidden, options.layers) = (embedding, heads, hidden, layers)
        (options.block, options.batchSize, options.learningRate, options.seed) = (block, batchSize, lr, seed)
        (options.warmup, options.minimumLearningRate, options.weightDecay, options.clip) = (warmup, minLr, weightDecay, clip)
        (options.evaluationInterval, options.evaluationBatches) = (evalInterval, evalBatches)
        options.checkpoint = try CheckpointOptions.checkpointing(in: out, every: 1, resume: resume)
        options.checkpointInterval = checkpointEvery
        let progress = TextProgressPrinter(total: iterations)
        var training = TextTraining(options: options, continuing: initial?.model)
        training.communicator = world
        let size = world?.size ?? 1
        let run = try training.run(on: dataset, onStart: {
            print("model: \($0)" + (size > 1 ? " (per rank; \(size) ranks, global batch \(batchSize * size))" : ""))
        }, onEvent: progress.handle)
        if let checksum = run.training.parameterChecksum {
            print(String(format: "distributed: %d ranks, weights identical on every rank (checksum %016llx); %.2f s of %.1f waiting on gradient reductions",
                         size, checksum, run.training.communicationWaitSeconds, run.training.trainSeconds))
        }
        guard world?.isLead ?? true else { return }
        let written = try run.writeReport(to: URL(fileURLWithPath: out))
        let t = run.training
        print(String(format: "done: %d iterations, %.1f ms/iteration, train loss %.4f, validation loss %.4f",
                     t.iterations, t.millisecondsPerIteration, t.trainLoss, t.validationLoss))
        print("wrote \(written.map { relative($0.path) }.joined(separator: ", ")); try `synapse generate \(relative(written[0].path)) --prompt \"ROMEO:\"`")
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
