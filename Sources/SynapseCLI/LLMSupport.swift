import ArgumentParser
import Foundation
import Synapse

/// How the LLM commands run a GGUF model.
enum LLMPrecision: String, ExpressibleByArgument, CaseIterable {
    /// The weights stay in their ggml blocks; integer dot products with int16 activations (`QuantizedLlama`).
    case native
    /// Every matrix dequantised to Float32 at load, run on tensor ops (`Llama`, the readable reference).
    case float
    /// The float path with BF16 mixed-precision products (`Runtime.matmulPrecision = .bfloat16`).
    case bf16
}

/// A GGUF language model as the LLM commands use it: the file, the model and its tokenizer.
struct LoadedLLM {
    let gguf: GGUFFile
    let model: any LlamaModel
    let tokenizer: BPETokenizer

    /// Loads `path`, printing how long it took to standard error.
    /// Loads `path` (with the LoRA adapter at `adapter`, a PEFT folder or its safetensors file, if given).
    static func load(_ path: String, precision: LLMPrecision = .native, threads: Int? = nil, adapter: String? = nil,
                     floatProductTokens: Int = QuantizedLlama.defaultFloatProductTokens, quiet: Bool = false) throws -> LoadedLLM {
        let start = Date()
        let gguf = try GGUFFile(path: path)
        let configuration = try LlamaConfiguration(gguf: gguf)   // the architecture and shapes first: the most telling error
        let lora = try adapter.map { try LoRAAdapterFile.load(URL(fileURLWithPath: $0), model: configuration) }
        let tokenizer = try BPETokenizer(gguf: gguf)
        if precision == .bf16 {
            var products = PrecisionOptions()
            products.precision = .bf16
            products.apply()
        }
        let model: any LlamaModel = switch precision {
        case .native: try QuantizedLlama(gguf: gguf, threads: threads, adapter: lora, floatProductTokens: floatProductTokens)
        case .float, .bf16: try Llama(gguf: gguf, adapter: lora)
        }
        if !quiet {
            let c = model.configuration
            let seconds = Date().timeIntervalSince(start)
            FileHandle.standardError.write(Data(String(format: "loaded %@: %d blocks, width %d, %d heads (%d key/value), %.1fM parameters (%@), in %.1f s\n",
                                                           (path as NSString).lastPathComponent, c.layers, c.embedding, c.heads,
                                                           c.keyValueHeads, Double(c.parameterCount) / 1e6, precision.rawValue, seconds).utf8))
            if let lora, let adapter {
                let targets = lora.configuration.targets.sorted().map(\.rawValue).joined(separator: ",")
                FileHandle.standardError.write(Data("with LoRA adapter \(adapter): r \(lora.configuration.rank), α \(lora.configuration.alpha) on \(targets)\n".utf8))
            }
        }
        return LoadedLLM(gguf: gguf, model: model, tokenizer: tokenizer)
    }

    var template: ChatTemplate {
        get throws {
            guard gguf.metadata["tokenizer.chat_template"] != nil else {
                throw CLIError("\(gguf.path): the model has no chat template (tokenizer.chat_template); use `synapse generate --model … --prompt …`")
            }
            return try ChatTemplate(source: try gguf.string("tokenizer.chat_template"))
        }
    }
}

/// Sampling options shared by `chat` and `generate --model FILE.gguf`.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature: lower is more conservative, 0 always takes the most likely token.")
    var temperature: Float = 0.8

    @Option(help: "Sample only among the k most likely tokens (0 for all).")
    var topK: Int = 40

    @Option(help: "Keep the most likely tokens until their probabilities add up to p (1 keeps all).")
    var topP: Float = 0.95

    @Option(help: "Drop tokens less likely than min-p times the most likely one (0 keeps all).")
    var minP: Float = 0.05

    @Option(help: "Penalise tokens of the last 64 (1 = off, 1.1 a little).")
    var repeatPenalty: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "The most tokens to generate for one answer.")
    var maxTokens: Int = 512

    @Option(help: "After each generated token, print the N most likely next tokens with their probabilities.")
    var showProbabilities: Int = 0

    func validate() throws {
        try Self.check(temperature: temperature, topK: topK, topP: topP, minP: minP, repeatPenalty: repeatPenalty,
                       showProbabilities: showProbabilities)
        if maxTokens < 1 || maxTokens > 1 << 20 { throw ValidationError("--max-tokens must lie in 1...\(1 << 20), got \(maxTokens)") }
    }

    /// The checks every command with these options makes (`generate` has its own defaults, so its own options).
    static func check(temperature: Float, topK: Int, topP: Float, minP: Float, repeatPenalty: Float,
                      showProbabilities: Int) throws {
        if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be 0 or positive, got \(temperature)") }
        if topK < 0 { throw ValidationError("--top-k must be 0 (no limit) or positive, got \(topK)") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must lie in (0, 1], got \(topP)") }
        if !(minP >= 0 && minP < 1) { throw ValidationError("--min-p must lie in [0, 1), got \(minP)") }
        if !(repeatPenalty > 0 && repeatPenalty.isFinite) { throw ValidationError("--repeat-penalty must be positive, got \(repeatPenalty)") }
        if showProbabilities < 0 || showProbabilities > 100 { throw ValidationError("--show-probabilities must lie in 0...100, got \(showProbabilities)") }
    }

    func sampler() -> TokenSampler {
        TokenSampler(temperature: temperature, topK: topK > 0 ? topK : nil, topP: topP, minP: minP,
                     repetitionPenalty: repeatPenalty, seed: seed)
    }
}

/// Prints one generated token with the distribution it was drawn from: `→ "Paris"   Paris 0.912 · France 0.031 · …`.
func printProbabilities(token: Int, logits: [Float], count: Int, tokenizer: BPETokenizer) {
    let top = topProbabilities(logits, count: count)
    let chosen = top.first { $0.token == token }?.probability ?? topProbabilities(logits, count: logits.count).first { $0.token == token }?.probability ?? 0
    let shown = top.map { "\(quotedPiece(tokenizer, $0.token)) \(String(format: "%.3f", $0.probability))" }.joined(separator: " · ")
    writeUnbuffered("→ \(quotedPiece(tokenizer, token)) (p = \(String(format: "%.3f", chosen)))   \(shown)\n")
}

/// A token's text, quoted with its whitespace made visible.
func quotedPiece(_ tokenizer: BPETokenizer, _ id: Int) -> String {
    tokenizer.pieces([id])[0].debugDescription
}

/// Checks that every command-line argument is UTF-8: Swift's `CommandLine.arguments` silently replaces invalid bytes
/// with U+FFFD, which would reach the model as text the user never wrote.
func requireValidUTF8Arguments() throws {
    for i in 0..<Int(CommandLine.argc) {
        guard let raw = CommandLine.unsafeArgv[i] else { continue }
        if String(validatingCString: raw) == nil { throw CLIError("argument \(i) is not valid UTF-8 text") }
    }
}

/// Standard input as a C stream (Swift 6 does not let code name the global `stdin`).
nonisolated(unsafe) let standardInput = fdopen(STDIN_FILENO, "r")

/// Reads one line of standard input as bytes and checks it is UTF-8; nil at the end of input.
func readStrictLine() throws -> String? {
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    let n = getline(&line, &capacity, standardInput)
    guard n >= 0, let line else { return nil }
    var bytes = [UInt8](UnsafeRawBufferPointer(start: line, count: n))
    if bytes.last == 10 { bytes.removeLast() }
    if bytes.last == 13 { bytes.removeLast() }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw LLMError.invalidText(source: "the input line") }
    return text
}
