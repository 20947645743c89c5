import Foundation
import Synapse

/// A parsed `/v1/chat/completions` or `/v1/completions` request, ready for the batcher.
struct GenerationRequest: Sendable {
    let model: ServedModels.LanguageModel
    let prompt: [Int]
    let maxTokens: Int
    let sampler: TokenSampler
    let stops: [String]
    let stream: Bool
    let chat: Bool
    /// llama.cpp's extension: generate `maxTokens` whatever the model says (for benchmarks).
    let ignoreEndOfText: Bool
    let id: String
    let created = Int(Date().timeIntervalSince1970)

    /// Reads OpenAI's chat request: messages (text content, or lists of text parts), temperature, top_p,
    /// max_tokens (or max_completion_tokens), stop, seed, stream.
    static func chat(_ body: RequestObject, models: ServedModels, configuration: ServerConfiguration) throws(APIError) -> GenerationRequest {
        let llm = try models.languageModel(named: try body.string("model"))
        guard let template = llm.template else {
            throw APIError.invalid("the model has no chat template; use /v1/completions with a prompt you format yourself")
        }
        guard case .array(let items)? = body.object["messages"], !items.isEmpty else {
            throw APIError.invalid("'messages' must be a non-empty list of {\"role\", \"content\"} objects", param: "messages")
        }
        var messages: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            guard case .object(let m) = item else { throw APIError.invalid("messages[\(i)] must be an object", param: "messages") }
            guard case .string(var role)? = m["role"] else { throw APIError.invalid("messages[\(i)] has no 'role' string", param: "messages") }
            if role == "developer" { role = "system" }
            guard ["system", "user", "assistant"].contains(role) else {
                throw APIError.invalid("messages[\(i)] has role '\(role)'; use system, user or assistant", param: "messages")
            }
            messages.append(ChatMessage(role: role, content: try text(of: m["content"], at: i)))
        }
        let prompt = llm.tokenizer.encode(template.render(messages, addGenerationPrompt: true))
        return try make(body, llm: llm, prompt: prompt, defaultTokens: configuration.defaultChatTokens, chat: true, configuration: configuration)
    }

    /// A message's content: a string, or a list of `{"type": "text", "text": …}` parts.
    private static func text(of content: JSONValue?, at i: Int) throws(APIError) -> String {
        switch content {
        case .string(let s)?: return s
        case .array(let parts)?:
            var text = ""
            for part in parts {
                guard case .object(let p) = part, p["type"] == .string("text"), case .string(let t)? = p["text"] else {
                    throw APIError.invalid("messages[\(i)].content parts must be {\"type\": \"text\", \"text\": …} (no images here)", param: "messages")
                }
                text += t
            }
            return text
        default: throw APIError.invalid("messages[\(i)] has no 'content' string", param: "messages")
        }
    }

    /// Reads OpenAI's (legacy) completion request: prompt (a string), max_tokens (16 by default), and the rest.
    static func completion(_ body: RequestObject, models: ServedModels, configuration: ServerConfiguration) throws(APIError) -> GenerationRequest {
        let llm = try models.languageModel(named: try body.string("model"))
        let text: String
        switch body.object["prompt"] {
        case .string(let s)?: text = s
        case .array(let items)? where items.count == 1: guard case .string(let s) = items[0] else { fallthrough }; text = s
        default: throw APIError.invalid("'prompt' must be a string", param: "prompt")
        }
        guard !text.isEmpty else { throw APIError.invalid("'prompt' is empty", param: "prompt") }
        return try make(body, llm: llm, prompt: llm.tokenizer.encode(text), defaultTokens: 16, chat: false, configuration: configuration)
    }

    private static func make(_ body: RequestObject, llm: ServedModels.LanguageModel, prompt: [Int], defaultTokens: Int, chat: Bool,
                             configuration c: ServerConfiguration) throws(APIError) -> GenerationRequest {
        if let n = try body.integer("n", in: 1...1_000_000), n != 1 { throw APIError.invalid("only n = 1 is supported", param: "n") }
        let temperature = Float(try body.number("temperature", in: 0...2) ?? 1)
        let topP = Float(try body.number("top_p", in: 0...1) ?? 1)
        let seed = try body.integer("seed", in: -(1 << 53)...(1 << 53)).map { UInt64(bitPattern: Int64($0)) }
        var requested = try body.integer("max_completion_tokens", in: 1...Int(Int32.max))
        if requested == nil { requested = try body.integer("max_tokens", in: 1...Int(Int32.max)) }
        if let requested, requested > c.maximumTokens {
            throw APIError.invalid("max_tokens \(requested) is more than this server's limit of \(c.maximumTokens)", param: "max_tokens")
        }
        guard prompt.count <= c.maximumPromptTokens else {
            throw APIError(400, "the prompt is \(prompt.count) tokens, more than this server's limit of \(c.maximumPromptTokens)",
                           code: "context_length_exceeded", param: "messages")
        }
        let room = llm.contextLength - prompt.count
        guard room >= 1 else {
            throw APIError(400, "the prompt is \(prompt.count) tokens; the model's context is \(llm.contextLength)", code: "context_length_exceeded")
        }
        let maxTokens = min(requested ?? defaultTokens, room)
        let sampler = TokenSampler(temperature: topP == 0 ? 0 : temperature, topP: topP == 0 ? 1 : topP, seed: seed ?? UInt64.random(in: 0...UInt64.max))
        let stream = try body.bool("stream") ?? false
        let id = (chat ? "chatcmpl-" : "cmpl-") + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return GenerationRequest(model: llm, prompt: prompt, maxTokens: maxTokens, sampler: sampler, stops: try body.stops(),
                                 stream: stream, chat: chat, ignoreEndOfText: try body.bool("ignore_eos") ?? false, id: id)
    }

    func submit(deadline: Date) throws(APIError) -> AsyncStream<ContinuousBatcher.Event> {
        do {
            return try model.batcher.submit(.init(prompt: prompt, maxTokens: maxTokens, sampler: sampler,
                                                  stopTokens: ignoreEndOfText ? [] : chat ? model.stopTokens : model.tokenizer.endOfText.map { [$0] } ?? [],
                                                  deadline: deadline))
        } catch {
            switch error {
            case .queueFull: throw APIError(429, error.description, code: "rate_limit_exceeded", retryAfter: 1)
            case .shutDown: throw APIError(503, error.description)
            case .promptTooLong, .emptyPrompt: throw APIError(400, error.description, code: "context_length_exceeded")
            }
        }
    }
}

/// Turns generated tokens into text as it comes: whole characters only, cut at the first stop string, and held back
/// while the end of the text could still be the start of one (so a streamed answer never shows part of a stop).
struct StopScanner {
    let stops: [String]
    private var decoder = UTF8StreamDecoder()
    private(set) var text = ""
    /// Characters already handed out.
    private var sent = 0
    private(set) var stopped = false

    init(stops: [String]) { self.stops = stops }

    /// Adds a token's bytes; returns the text that may be shown now.
    mutating func append(_ bytes: [UInt8]) -> String {
        guard !stopped else { return "" }
        text += decoder.append(bytes)
        if let cut = stops.compactMap({ text.range(of: $0)?.lowerBound }).min() {
            text = String(text[..<cut])
            stopped = true
            return release(upTo: text.count)
        }
        let hold = max(0, (stops.map(\.count).max() ?? 1) - 1)
        return release(upTo: max(sent, text.count - hold))
    }

    /// The rest of the text at the end.
    mutating func finish() -> String {
        if !stopped { text += decoder.finish() }
        return release(upTo: text.count)
    }

    private mutating func release(upTo end: Int) -> String {
        guard end > sent else { return "" }
        let start = text.index(text.startIndex, offsetBy: sent), stop = text.index(text.startIndex, offsetBy: end)
        sent = end
        return String(text[start..<stop])
    }
}
