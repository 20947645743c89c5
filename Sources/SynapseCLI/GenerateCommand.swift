import ArgumentParser
import Foundation
import Synapse

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a language model saved by `synapse train text`, streaming it as it comes.")

    @Argument(help: "The model file (model.safetensors).")
    var model: String

    @Option(help: "Text to start from (every character must be in the model's vocabulary).")
    var prompt: String = "\n"

    @Option(help: "Characters to generate after the prompt.")
    var tokens: Int = 500

    @Option(help: "Sampling temperature: lower is more conservative, 0 always takes the most likely character.")
    var temperature: Float = 0.8

    @Option(help: "Sample only among the k most likely characters (0 for all).")
    var topK: Int = 40

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 1

    func validate() throws {
        if tokens < 0 { throw ValidationError("--tokens must be 0 or more, got \(tokens)") }
        if !(temperature >= 0 && temperature.isFinite) {
            throw ValidationError("--temperature must be 0 or a positive number, got \(temperature)")
        }
        if topK < 0 { throw ValidationError("--top-k must be 0 (no limit) or positive, got \(topK)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("\(model): no such model file (train one with `synapse train text`)")
        }
        let (network, tokenizer, _) = try LanguageModelFile.load(from: url)
        // Check the prompt before printing anything, so a bad character gives only the error line.
        _ = try tokenizer.encode(prompt, source: "--prompt")
        var sampler = TokenSampler(temperature: temperature, topK: topK > 0 ? topK : nil, seed: seed)
        writeUnbuffered(prompt)
        try TextGeneration.generate(model: network, tokenizer: tokenizer, prompt: prompt, tokenCount: tokens,
                                    sampler: &sampler, emit: writeUnbuffered)
        writeUnbuffered("\n")
    }
}
