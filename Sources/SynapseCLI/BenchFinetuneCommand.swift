import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

/// LoRA training tokens/s on a GGUF Llama; PyTorch + PEFT's side: scripts/bench_finetune.py.
struct FinetuneBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "LoRA training tokens/s on a GGUF LLM (PyTorch + PEFT side: scripts/bench_finetune.py).")

    @Option(help: "The model file (.gguf).") var model: String
    @Option(help: "Tokens per sequence.") var sequence: Int = 256
    @Option(help: "Sequences per step.") var batchSize: Int = 4
    @Option(help: "LoRA rank.") var rank: Int = 8
    @Option(help: "Projections to adapt (q,k,v,o,gate,up,down or all).") var targets: String = "q,v"
    @Option(help: "Timed steps.") var steps: Int = 5
    @Option(help: "Untimed steps first.") var warmupSteps: Int = 1
    @Option(help: "blocks (QLoRA) or float (the base dequantised).") var base: TrainableLlama.Base = .blocks
    @Option(help: "Text the windows come from (default: ../shared/data/tinyshakespeare/input.txt).") var data: String?
    @Flag(help: "One pass over the whole batch on both cores instead of one shard of sequences per core.") var serial = false
    @Option(help: "Bytes of freed tensor storage kept for reuse (default: \(FinetuneCommand.poolLimit >> 30) GiB, as synapse finetune).")
    var poolLimit: Int = FinetuneCommand.poolLimit
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        try OptionLimits.check("--sequence", sequence, limit: 1 << 16)
        try OptionLimits.check("--batch-size", batchSize, limit: 1024)
        try OptionLimits.check("--rank", rank, limit: 4096)
        try OptionLimits.check("--steps", steps, limit: 10_000)
        if !(0...10_000).contains(warmupSteps) { throw ValidationError("--warmup-steps must lie in 0...10000") }
        if LlamaProjection.parseList(targets) == nil { throw ValidationError("--targets \(targets.debugDescription) is not a list of q, k, v, o, gate, up, down") }
    }

    func run() throws {
        warnIfDebug()
        Runtime.storagePoolLimit = poolLimit
        var settings = FineTuneBenchmark.Settings(model: model, text: data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile())
        (settings.sequence, settings.batch, settings.steps, settings.warmupSteps, settings.base) = (sequence, batchSize, steps, warmupSteps, base)
        settings.dataParallel = !serial
        settings.lora = LoRAConfiguration(rank: rank, alpha: Float(2 * rank), targets: LlamaProjection.parseList(targets)!)
        let r = try FineTuneBenchmark.run(settings)
        let name = (model as NSString).lastPathComponent
        if json {
            print("{\"workload\": \"finetune\", \"impl\": \"synapse\", \"model\": \"\(name)\", \"base\": \"\(base.rawValue)\", "
                  + "\"sequence\": \(sequence), \"batch\": \(batchSize), \"rank\": \(rank), \"targets\": \"\(targets)\", "
                  + "\"seconds_per_step\": \(String(format: "%.3f", r.secondsPerStep)), \"tokens_per_s\": \(String(format: "%.1f", r.tokensPerSecond)), "
                  + "\"first_loss\": \(r.losses.first ?? .nan), \"last_loss\": \(r.losses.last ?? .nan), \"load_s\": \(String(format: "%.2f", r.loadSeconds))}")
        } else {
            print(String(format: "%@ (LoRA r %d on %@, %@ base, %d trainable): %d × %d tokens a step, %.2f s/step, %.1f tokens/s (%d timed steps); loss %.3f → %.3f",
                         name, rank, targets, base.rawValue, r.trainableParameters, batchSize, sequence, r.secondsPerStep,
                         r.tokensPerSecond, steps, r.losses.first ?? .nan, r.losses.last ?? .nan))
        }
    }
}
