import ArgumentParser
import Foundation
import Synapse

extension TrainableLlama.Base: ExpressibleByArgument {}

struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune an instruction-tuned LLM (GGUF) on chat data with LoRA adapters; the base stays 4-bit.",
        discussion: """
            --data is JSONL, one conversation a line: {"messages": [{"role": "user", "content": "…"}, \
            {"role": "assistant", "content": "…"}]}. Only the assistant's tokens are learned. Writes --out/\
            adapter_model.safetensors and adapter_config.json (Hugging Face PEFT's layout: \
            PeftModel.from_pretrained loads the folder), history.csv and curves.svg. Use the adapter with \
            `synapse chat --model FILE.gguf --adapter DIR`, or merge it with `synapse export`.
            """)

    @Option(help: "The base model (.gguf) with its chat template.") var model: String
    @Option(help: "Chat conversations to learn from (JSONL).") var data: String
    @Option(help: "Held-out conversations (JSONL); default: --held-out-fraction of --data.") var heldOut: String?
    @Option(help: "Share of --data held out when --held-out is not given (0 for none).") var heldOutFraction: Double = 0.1
    @Option(help: "LoRA rank r.") var rank: Int = 8
    @Option(help: "LoRA α; the update is scaled by α/r.") var alpha: Float = 16
    @Option(help: "Projections to adapt: q,k,v,o,gate,up,down (or all).") var targets: String = "q,v"
    @Option(help: "Dropout on the adapters' input.") var dropout: Float = 0
    @Option(help: "Passes over the training conversations.") var epochs: Int = 3
    @Option(help: "Optimizer steps (overrides --epochs).") var steps: Int?
    @Option(help: "Conversations per batch.") var batchSize: Int = 4
    @Option(help: "Batches accumulated before each optimizer step.") var accumulate: Int = 1
    @Option(help: "Peak learning rate (AdamW).") var lr: Float = 2e-4
    @Option(help: "Learning rate at the end of the cosine decay.") var minLr: Float = 0
    @Option(help: "Warm-up steps (default: 5% of the steps).") var warmup: Int?
    @Option(help: "AdamW weight decay on the adapters.") var weightDecay: Float = 0
    @Option(help: "Global gradient-norm limit (0 disables clipping).") var clip: Float = 1
    @Option(help: "Longest conversation in tokens (at most the model's context).") var maxTokens: Int = 2048
    @Option(help: "Steps between held-out losses (0: once per epoch).") var evalInterval: Int = 0
    @Flag(help: "Skip the greedy answers to the held-out prompts before and after training.") var noAnswers = false
    @Option(help: "blocks: the base stays in its 4-bit blocks (QLoRA); float: dequantised to Float32 (faster, 4× the memory).")
    var base: TrainableLlama.Base = .blocks
    @Option(help: "Random seed (adapters, held-out split, batch order).") var seed: UInt64 = 0
    @Option(help: "Directory for the adapter, history.csv and curves.svg.") var out: String = "runs/lora"
    @Option(help: "Write --out/checkpoint.safetensors every N steps (and when stopped by Ctrl-C or SIGTERM).")
    var checkpointEvery: Int = 50
    @Flag(help: "Continue the run whose checkpoint is in --out (same settings), ending as if it had never stopped.")
    var resume = false

    /// A training step frees and re-allocates its activations, ~2 GB for SmolLM2 at 4 × 256 tokens: keeping them for
    /// the next step instead of returning them to the system saves faulting them in again (and glibc's fragmentation
    /// of returned blocks); docs/BENCHMARKS.md has the figures.
    static let poolLimit = 2 << 30

    func validate() throws {
        for (name, value, limit) in [("--rank", rank, 4096), ("--epochs", epochs, OptionLimits.epochs),
                                     ("--batch-size", batchSize, 4096), ("--accumulate", accumulate, 4096),
                                     ("--max-tokens", maxTokens, 1 << 20), ("--checkpoint-every", checkpointEvery, OptionLimits.iterations)] {
            try OptionLimits.check(name, value, limit: limit)
        }
        if let steps { try OptionLimits.check("--steps", steps, limit: OptionLimits.iterations) }
        if LlamaProjection.parseList(targets) == nil {
            throw ValidationError("--targets \(targets.debugDescription) is not a list of q, k, v, o, gate, up, down (or all)")
        }
        if !(alpha.isFinite && alpha > 0 && alpha <= 1e6) { throw ValidationError("--alpha must be a positive number, got \(alpha)") }
        if !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must lie in [0, 1), got \(dropout)") }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if !(minLr >= 0 && minLr.isFinite) || !(weightDecay >= 0 && weightDecay.isFinite) || !(clip >= 0 && clip.isFinite) {
            throw ValidationError("--min-lr, --weight-decay and --clip must be 0 or positive numbers")
        }
        if let warmup, warmup < 0 || warmup > OptionLimits.iterations { throw ValidationError("--warmup must lie in 0...\(OptionLimits.iterations)") }
        if !(heldOutFraction >= 0 && heldOutFraction < 1) { throw ValidationError("--held-out-fraction must lie in [0, 1), got \(heldOutFraction)") }
        if evalInterval < 0 { throw ValidationError("--eval-interval must be 0 or more, got \(evalInterval)") }
    }

    func run() throws {
        try requireValidUTF8Arguments()
        Runtime.storagePoolLimit = Self.poolLimit
        let outURL = URL(fileURLWithPath: out)
        try AtomicFile.checkWritable(directory: outURL)
        let train = try ChatData.read(URL(fileURLWithPath: data))
        let heldOutExamples = try heldOut.map { try ChatData.read(URL(fileURLWithPath: $0)) }
        let gguf = try GGUFFile(path: model)
        var options = FineTuning.Options(lora: LoRAConfiguration(rank: rank, alpha: alpha, dropout: dropout,
                                                                 targets: LlamaProjection.parseList(targets)!))
        (options.base, options.epochs, options.steps, options.batchSize) = (base, epochs, steps, batchSize)
        (options.accumulation, options.learningRate, options.minimumLearningRate, options.warmup) = (accumulate, lr, minLr, warmup)
        (options.weightDecay, options.clip, options.heldOutFraction, options.evaluationInterval) = (weightDecay, clip, heldOutFraction, evalInterval)
        (options.maximumTokens, options.checkAnswers, options.seed) = (maxTokens, !noAnswers, seed)
        options.checkpoint = try CheckpointOptions.checkpointing(in: out, every: 1, resume: resume)
        options.checkpointInterval = checkpointEvery
        let tuning = try FineTuning(gguf: gguf, options: options)
        let display = FinetuneProgress()
        let start = Date()
        let result = try exitingOnInterrupt {
            try tuning.run(train: train, heldOut: heldOutExamples, source: relative(data), onEvent: display.handle)
        }
        display.finish()
        let name = gguf.metadata["general.name"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        let written = try result.writeReport(to: outURL, baseModel: name)
        try? FileManager.default.removeItem(at: outURL.appendingPathComponent(Checkpointing.fileName))
        func loss(_ x: Float?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
        print(String(format: "done: %d steps in %.1f s (%.0f tokens/s of training), %.1f s in all; held-out loss %@ → %@",
                     result.steps, result.trainSeconds, result.tokensPerSecond, Date().timeIntervalSince(start),
                     loss(result.heldOutLossBefore), loss(result.heldOutLossAfter)))
        if result.answersAfter.total > 0 {
            print("held-out answers equal to the data's: \(result.answersBefore.correct)/\(result.answersBefore.total) before, \(result.answersAfter.correct)/\(result.answersAfter.total) after")
        }
        print("wrote \(written.map { relative($0.path) }.joined(separator: ", ")); try `synapse chat --model \(model) --adapter \(relative(out))`")
    }
}

/// A progress bar over the steps, with the loss and rate; held-out losses and answer checks as lines.
final class FinetuneProgress {
    var bar: ProgressBar?

    func handle(_ event: FineTuning.Event) {
        switch event {
        case let .started(summary, steps):
            print("finetune: \(summary)")
            bar = ProgressBar(total: steps, label: "finetune", unit: "step", plainReportFraction: 0.1)
        case let .step(step, loss, _, tokensPerSecond):
            bar?.set("loss", loss)
            bar?.set("tok/s", String(format: "%.0f", tokensPerSecond))
            bar?.update(completed: step)
        case let .evaluation(step, heldOutLoss):
            bar?.set("held-out", heldOutLoss)
            if step == 0 { print(String(format: "held-out loss before training: %.4f", heldOutLoss)) }
        case let .answers(step, correct, total):
            print("held-out answers equal to the data's \(step == 0 ? "before training" : "after training"): \(correct)/\(total)")
        }
    }

    func finish() { bar?.finish() }
}
