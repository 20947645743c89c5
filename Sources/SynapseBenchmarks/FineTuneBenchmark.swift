import Foundation
import Synapse

/// `synapse bench finetune`: LoRA training steps on a GGUF Llama (QLoRA when the base stays in its blocks), timed as
/// PyTorch + PEFT's side is in scripts/bench_finetune.py: `batch` windows of `sequence` tokens of a text, the loss on
/// every next token, AdamW on the adapters. The first `warmupSteps` are not timed.
public enum FineTuneBenchmark {
    public struct Settings: Sendable {
        public var model: String
        public var text: URL
        public var sequence = 256
        public var batch = 4
        public var lora = LoRAConfiguration(rank: 8, alpha: 16, targets: [.query, .value])
        public var base: TrainableLlama.Base = .blocks
        public var steps = 5
        public var warmupSteps = 1
        public var seed: UInt64 = 0
        /// One shard of sequences per core (`TrainableLlama.accumulateGradients`); false: one pass on both cores.
        public var dataParallel = true

        public init(model: String, text: URL) { (self.model, self.text) = (model, text) }
    }

    public struct Result: Sendable {
        public var tokensPerSecond: Double
        public var secondsPerStep: Double
        public var losses: [Float]
        public var loadSeconds: Double
        public var trainableParameters: Int
    }

    public static func run(_ s: Settings) throws -> Result {
        let start = Date()
        let gguf = try GGUFFile(path: s.model)
        let configuration = try LlamaConfiguration(gguf: gguf)
        var rng = RandomGenerator(seed: s.seed)
        let lora = LlamaLoRA(s.lora, model: configuration, generator: &rng)
        let model = try TrainableLlama(gguf: gguf, base: s.base, lora: lora)
        let tokenizer = try BPETokenizer(gguf: gguf)
        let text = try TextDataset.readText(s.text)
        let stream = tokenizer.encode(String(text.prefix(200_000)))
        guard stream.count > s.sequence + 1 else { throw FineTuneBenchmarkError("the text gives only \(stream.count) tokens") }
        let optimizer = AdamW(parameters: lora.parameters(), learningRate: 1e-4, weightDecay: 0)
        let loadSeconds = Date().timeIntervalSince(start)
        var losses: [Float] = []
        var timed = 0.0
        for step in 0..<(s.warmupSteps + s.steps) {
            var tokens: [Int] = [], targets: [Int] = []
            for _ in 0..<s.batch {
                let offset = Int(rng.next() % UInt64(stream.count - s.sequence - 1))
                tokens += stream[offset..<(offset + s.sequence)]
                targets += stream[(offset + 1)..<(offset + s.sequence)] + [-1]     // the last position has no next token here
            }
            let begin = Date()
            optimizer.zeroGrad()
            let count = targets.filter { $0 >= 0 }.count
            let (sum, _) = model.accumulateGradients(tokens: tokens, targets: targets, batch: s.batch, scale: 1 / Float(count),
                                                       dataParallel: s.dataParallel)
            optimizer.step()
            let seconds = Date().timeIntervalSince(begin)
            losses.append(Float(sum / Double(count)))
            if step >= s.warmupSteps { timed += seconds }
        }
        let perStep = timed / Double(max(s.steps, 1))
        return Result(tokensPerSecond: Double(s.batch * s.sequence) / perStep, secondsPerStep: perStep, losses: losses,
                      loadSeconds: loadSeconds, trainableParameters: lora.parameterCount)
    }
}

public struct FineTuneBenchmarkError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
