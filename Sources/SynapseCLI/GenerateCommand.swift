import ArgumentParser
import Foundation
import Synapse

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a language model, streaming it as it comes.",
        discussion: """
            A model saved by `synapse train text` (model.safetensors, given as the argument) continues a prompt \
            character by character. A GGUF LLM (`--model FILE.gguf`) continues the prompt as raw text, with no \
            chat template (see `synapse chat` for conversations).
            """)

    @Argument(help: "A model file saved by `synapse train text` (model.safetensors).")
    var modelFile: String?

    @Option(name: .customLong("model"), help: "A GGUF LLM instead (e.g. models/SmolLM2-135M-Instruct.Q4_1.gguf).")
    var gguf: String?

    @Option(help: "GGUF models: native: weights stay in their 4-bit blocks, integer dot products (fast); float: dequantised to Float32, the reference.")
    var precision: LLMPrecision = .native

    @Option(help: "A LoRA adapter to apply (a PEFT folder from `synapse finetune`, or its adapter_model.safetensors).")
    var adapter: String?

    @Option(help: "GGUF models: write the prompt's next-token logits at every position ([tokens, vocabulary], with the token ids in the metadata) to this safetensors file, to compare with other tools.")
    var saveLogits: String?

    @Option(help: "Text to start from (for character models every character must be in the vocabulary).")
    var prompt: String = "\n"

    @Option(name: [.customLong("tokens"), .customLong("max-tokens")], help: "Tokens (characters) to generate after the prompt.")
    var tokens: Int = 500

    @Option(help: "GGUF models: keep the most likely tokens until their probabilities add up to p (1 keeps all).")
    var topP: Float = 1

    @Option(help: "GGUF models: drop tokens less likely than min-p times the most likely one (0 keeps all).")
    var minP: Float = 0

    @Option(help: "GGUF models: penalise tokens of the last 64 (1 = off).")
    var repeatPenalty: Float = 1

    @Option(help: "GGUF models: after each token, print the N most likely next tokens with their probabilities.")
    var showProbabilities: Int = 0

    @Option(help: "Sampling temperature: lower is more conservative, 0 always takes the most likely character.")
    var temperature: Float = 0.8

    @Option(help: "Sample only among the k most likely characters (0 for all).")
    var topK: Int = 40

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 1

    func validate() throws {
        if !(0...(1 << 20)).contains(tokens) { throw ValidationError("--tokens must lie in 0...\(1 << 20), got \(tokens)") }
        try SamplingOptions.check(temperature: temperature, topK: topK, topP: topP, minP: minP, repeatPenalty: repeatPenalty,
                                  showProbabilities: showProbabilities)
        if (modelFile == nil) == (gguf == nil) {
            throw ValidationError("give either a model file saved by `synapse train text` or --model FILE.gguf")
        }
        if (adapter != nil || saveLogits != nil) && gguf == nil {
            throw ValidationError("--adapter and --save-logits apply to GGUF models (--model FILE.gguf)")
        }
    }

    func run() throws {
        if let gguf { return try runLLM(gguf) }
        let model = modelFile!
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("\(model): no such model file (train one with `synapse train text`)")
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

extension GenerateCommand {
    /// Raw completion with a GGUF LLM.
    func runLLM(_ path: String) throws {
        try requireValidUTF8Arguments()
        guard !prompt.isEmpty else { throw LLMError.emptyPrompt }
        if let saveLogits { try AtomicFile.checkWritable(file: URL(fileURLWithPath: saveLogits)) }
        let llm = try LoadedLLM.load(path, precision: precision, adapter: adapter)
        let ids = llm.tokenizer.encode(prompt)
        var session = LlamaSession(model: llm.model)
        guard ids.count < session.remaining else { throw LLMError.promptTooLong(tokens: ids.count, context: session.remaining) }
        if let saveLogits {
            let logits = llm.model.forward(ids, cache: llm.model.makeCache(capacity: ids.count), lastOnly: false)
            try SafeTensorsFile(floatTensors: ["logits": logits], metadata: ["tokens": ids.map(String.init).joined(separator: ",")])
                .write(to: URL(fileURLWithPath: saveLogits))
        }
        var sampler = TokenSampler(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP, minP: minP,
                                   repetitionPenalty: repeatPenalty, seed: seed)
        var stream = UTF8StreamDecoder()
        if showProbabilities == 0 { writeUnbuffered(prompt) }
        let stops: Set<Int> = llm.tokenizer.endOfText.map { [$0] } ?? []
        let start = Date()
        var firstToken: Date?
        let produced = session.generate(prompt: ids, count: min(tokens, session.remaining - ids.count), sampler: &sampler, stop: stops) { token, logits in
            if firstToken == nil { firstToken = Date() }
            if showProbabilities > 0 {
                printProbabilities(token: token, logits: logits, count: showProbabilities, tokenizer: llm.tokenizer)
            } else {
                writeUnbuffered(stream.append(llm.tokenizer.bytes(of: token)))
            }
            return true
        }
        writeUnbuffered(stream.finish() + "\n")
        if let firstToken {
            // The first token comes with the prompt's pass; the rest are one decode step each (llama.cpp's split).
            let promptSeconds = firstToken.timeIntervalSince(start), rest = Date().timeIntervalSince(firstToken)
            FileHandle.standardError.write(Data(String(format: "prompt: %d tokens in %.2f s (%.1f tokens/s); generated: %d tokens (%.1f tokens/s)\n",
                                                       ids.count, promptSeconds, Double(ids.count) / promptSeconds, produced.count,
                                                       produced.count > 1 ? Double(produced.count - 1) / rest : 0).utf8))
        }
    }
}
