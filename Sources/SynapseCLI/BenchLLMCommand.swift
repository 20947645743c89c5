import ArgumentParser
import Foundation
import Synapse

/// llama-bench's two figures for a GGUF model: prompt processing (many tokens in one pass) and generation (one token
/// at a time over the KV cache), plus the load time. The llama.cpp side: scripts/bench_llm.py.
struct LLMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Load time, prompt tokens/s and generated tokens/s of a GGUF LLM (llama.cpp side: scripts/bench_llm.py).")

    @Option(help: "The model file (.gguf).") var model: String
    @Option(help: "Prompt length in tokens (taken from tiny Shakespeare).") var promptTokens: Int = 512
    @Option(help: "Tokens to generate after the prompt (greedy; the end-of-text token does not stop it).") var generate: Int = 128
    @Option(help: "Repetitions; the fastest is reported.") var repetitions: Int = 3
    @Option(help: "Text file the prompt comes from (default: ../shared/data/tinyshakespeare/input.txt).") var data: String?
    @Option(help: "native (4-bit blocks, integer dot products) or float (the Float32 reference).") var precision: LLMPrecision = .native
    @Option(help: "Threads (default: one per core; native precision only).") var threads: Int?
    @Option(help: "Native precision: passes over at least this many tokens multiply dequantised panels with sgemm instead of the integer block product (4097: never).")
    var floatProductsFrom: Int = QuantizedLlama.defaultFloatProductTokens
    @Option(help: "Native precision: also decode this many streams together after the prompt (continuous batching, as synapse serve does) and report their aggregate tokens/s.")
    var streams: Int?
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        if !(1...4096).contains(promptTokens) { throw ValidationError("--prompt-tokens must lie in 1...4096, got \(promptTokens)") }
        if !(1...4096).contains(generate) { throw ValidationError("--generate must lie in 1...4096, got \(generate)") }
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads must lie in 1...64, got \(threads)") }
        if let streams, !(1...256).contains(streams) { throw ValidationError("--streams must lie in 1...256, got \(streams)") }
        if streams != nil && precision != .native { throw ValidationError("--streams needs --precision native") }
        if !(1...4097).contains(floatProductsFrom) { throw ValidationError("--float-products-from must lie in 1...4097, got \(floatProductsFrom)") }
        if !(1...100).contains(repetitions) { throw ValidationError("--repetitions must lie in 1...100, got \(repetitions)") }
    }

    func run() throws {
        warnIfDebug()
        let text = try TextDataset.readText(data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile())
        let start = Date()
        let llm = try LoadedLLM.load(model, precision: precision, threads: threads, floatProductTokens: floatProductsFrom, quiet: true)
        let loadSeconds = Date().timeIntervalSince(start)
        let all = llm.tokenizer.encode(String(text.prefix(promptTokens * 8)))
        guard all.count >= promptTokens else { throw CLIError("the text gives only \(all.count) tokens; ask for fewer --prompt-tokens") }
        let prompt = Array(all.prefix(promptTokens))
        guard promptTokens + generate <= llm.model.configuration.contextLength else {
            throw CLIError("--prompt-tokens + --generate exceed the model's context of \(llm.model.configuration.contextLength)")
        }
        var bestPrompt = Double.infinity, bestGenerate = Double.infinity
        var session = LlamaSession(model: llm.model, capacity: promptTokens + generate)
        for _ in 0..<repetitions {
            session.reset()
            let t0 = Date()
            var logits = session.feed(prompt)
            let t1 = Date()
            var sampler = TokenSampler(temperature: 0)
            for _ in 0..<generate {
                logits = session.feed([sampler.sample(logits)])
            }
            let t2 = Date()
            bestPrompt = min(bestPrompt, t1.timeIntervalSince(t0))
            bestGenerate = min(bestGenerate, t2.timeIntervalSince(t1))
        }
        let promptRate = Double(promptTokens) / bestPrompt, generateRate = Double(generate) / bestGenerate
        let name = (model as NSString).lastPathComponent
        let threadCount = (llm.model as? QuantizedLlama)?.threads ?? ProcessInfo.processInfo.activeProcessorCount
        var streamRate: Double?
        if let streams, let native = llm.model as? QuantizedLlama {
            // Every stream holds the prompt; then `generate` decode steps of all of them at once, greedy.
            let caches = (0..<streams).map { _ in native.makeCache(capacity: promptTokens + generate) }
            var next = [Int](repeating: 0, count: streams)
            for (i, cache) in caches.enumerated() {
                next[i] = Self.argmax(native.forward(prompt, cache: cache, lastOnly: true).scalars[...])
            }
            let t0 = Date()
            for _ in 0..<generate {
                let logits = native.forward(streams: next, caches: caches).scalars
                let v = native.configuration.vocabularySize
                next = (0..<streams).map { Self.argmax(logits[($0 * v)..<(($0 + 1) * v)]) }
            }
            streamRate = Double(streams * generate) / Date().timeIntervalSince(t0)
        }
        if json {
            let batched = streamRate.map { ", \"streams\": \(streams!), \"stream_tokens_per_s\": \(String(format: "%.1f", $0))" } ?? ""
            print("{\"workload\": \"llm\", \"impl\": \"synapse\", \"model\": \"\(name)\", \"precision\": \"\(precision.rawValue)\", \"load_s\": \(String(format: "%.3f", loadSeconds)), "
                  + "\"prompt_tokens\": \(promptTokens), \"prompt_tokens_per_s\": \(String(format: "%.1f", promptRate)), "
                  + "\"generated_tokens\": \(generate), \"generation_tokens_per_s\": \(String(format: "%.1f", generateRate))\(batched), \"threads\": \(threadCount)}")
        } else {
            print(String(format: "%@ (%@, %d threads): loaded in %.2f s; prompt %d tokens at %.1f tokens/s; generation %d tokens at %.1f tokens/s (best of %d)",
                         name, precision.rawValue, threadCount, loadSeconds, promptTokens, promptRate, generate, generateRate, repetitions))
            if let streamRate, let streams {
                print(String(format: "%d streams decoded together: %.1f tokens/s in all (%d steps after the prompt)", streams, streamRate, generate))
            }
        }
    }

    static func argmax(_ logits: ArraySlice<Float>) -> Int {
        var best = logits.startIndex
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best - logits.startIndex
    }
}
