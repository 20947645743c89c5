import Foundation

/// Generation with a Llama model: the tokens so far, their keys and values, and the next-token logits.
///
/// A session keeps the whole conversation in its cache, so each new turn only runs its own tokens.
///
/// ```swift
/// var session = LlamaSession(model: model)
/// var logits = session.feed(tokenizer.encode(prompt))
/// let next = sampler.sample(logits, recent: session.tokens)
/// logits = session.feed([next])
/// ```
public struct LlamaSession {
    public let model: any LlamaModel
    public let cache: LlamaCache
    /// Every token fed so far.
    public private(set) var tokens: [Int] = []

    public init(model: any LlamaModel, capacity: Int? = nil) {
        self.model = model
        cache = model.makeCache(capacity: capacity)
    }

    /// How many more tokens fit in the context.
    public var remaining: Int { cache.capacity - cache.length }

    /// Runs `newTokens` and returns the next-token logits after the last of them.
    public mutating func feed(_ newTokens: [Int]) -> [Float] {
        precondition(newTokens.count <= remaining, "LlamaSession.feed: \(newTokens.count) tokens do not fit in the \(remaining) left of the context")
        tokens += newTokens
        return model.forward(newTokens, cache: cache, lastOnly: true).scalars
    }

    mutating func dropTokens(after position: Int) { tokens.removeLast(tokens.count - position) }

    /// Forgets everything (a new conversation).
    public mutating func reset() {
        cache.reset()
        tokens.removeAll()
    }

    /// The most likely continuation of `prompt`, up to `count` tokens or through `stop`.
    public mutating func greedy(prompt: [Int], count: Int, stop: Int? = nil) -> [Int] {
        var sampler = TokenSampler(temperature: 0)
        return generate(prompt: prompt, count: count, sampler: &sampler, stop: stop.map { [$0] } ?? [])
    }

    /// Feeds `prompt`, then samples up to `count` tokens, stopping after any token in `stop` (which is returned).
    /// `onToken` sees each token and the logits it was drawn from, as it is produced; returning false stops.
    public mutating func generate(prompt: [Int], count: Int, sampler: inout TokenSampler, stop: Set<Int> = [],
                                  recentWindow: Int = 64,
                                  onToken: (_ token: Int, _ logits: [Float]) -> Bool = { _, _ in true }) -> [Int] {
        var logits = feed(prompt)
        var produced: [Int] = []
        while produced.count < count {
            let next = sampler.sample(logits, recent: Array(tokens.suffix(recentWindow)))
            produced.append(next)
            let goOn = onToken(next, logits)
            if stop.contains(next) || !goOn || remaining == 0 || produced.count == count { break }
            logits = feed([next])
        }
        return produced
    }
}

/// The most likely next tokens and their probabilities under softmax(logits): what `--show-probabilities` prints.
public func topProbabilities(_ logits: [Float], count: Int) -> [(token: Int, probability: Float)] {
    guard let top = logits.max() else { return [] }
    var total = 0.0
    for l in logits { total += Foundation.exp(Double(l - top)) }
    let best = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(count)
    return best.map { ($0, Float(Foundation.exp(Double(logits[$0] - top)) / total)) }
}

/// Why a chat or generation request cannot run.
public enum LLMError: Error, Equatable, Sendable, CustomStringConvertible {
    case promptTooLong(tokens: Int, context: Int)
    case invalidText(source: String)
    case emptyPrompt

    public var description: String {
        switch self {
        case .promptTooLong(let tokens, let context):
            "the prompt is \(tokens) tokens, more than the \(context)-token context; shorten it (in a chat, /reset starts afresh)"
        case .invalidText(let source): "\(source) is not valid UTF-8 text"
        case .emptyPrompt: "the prompt is empty; give some text to continue"
        }
    }
}

/// A conversation with an instruction-tuned model: the messages so far, rendered with the model's chat template,
/// and a session whose cache already holds every token of the conversation that has not changed.
///
/// ```swift
/// let chat = LlamaChat(model: model, tokenizer: tokenizer, template: template)
/// var sampler = TokenSampler(temperature: 0.7, topP: 0.95, seed: 1)
/// let answer = try chat.reply(to: "What is the capital of France?", sampler: &sampler) { print($0, terminator: "") }
/// ```
public final class LlamaChat {
    public let model: any LlamaModel
    public let tokenizer: BPETokenizer
    public let template: ChatTemplate
    public private(set) var messages: [ChatMessage] = []
    /// A system message to put first (nil: the template's default, if it has one).
    public var system: String? { didSet { if system != oldValue { session.reset() } } }
    var session: LlamaSession
    /// The tokens that end an assistant turn.
    public let stopTokens: Set<Int>

    public init(model: any LlamaModel, tokenizer: BPETokenizer, template: ChatTemplate, system: String? = nil, capacity: Int? = nil) {
        (self.model, self.tokenizer, self.template, self.system) = (model, tokenizer, template, system)
        session = LlamaSession(model: model, capacity: capacity)
        var stops = Set<Int>()
        if let id = tokenizer.id(of: template.endOfTurn) { stops.insert(id) }
        if let eos = tokenizer.endOfText { stops.insert(eos) }
        stopTokens = stops
    }

    /// Forgets the conversation (the system message stays).
    public func reset() {
        messages.removeAll()
        session.reset()
    }

    /// The conversation so far plus `next`, as the model reads it.
    public func renderedPrompt(adding next: ChatMessage?) -> String {
        var all = messages
        if let system { all.insert(ChatMessage(role: "system", content: system), at: 0) }
        if let next { all.append(next) }
        return template.render(all, addGenerationPrompt: true)
    }

    /// Adds the user's message, generates the assistant's answer (up to `maxTokens`, through the end-of-turn token)
    /// and returns it. `onText` receives the answer's text as it is produced, never splitting a character;
    /// `onToken` sees each token with the logits it was drawn from (for `--show-probabilities`).
    @discardableResult
    public func reply(to text: String, sampler: inout TokenSampler, maxTokens: Int = 512,
                      onText: (String) -> Void = { _ in },
                      onToken: (_ token: Int, _ logits: [Float]) -> Void = { _, _ in }) throws(LLMError) -> String {
        let user = ChatMessage(role: "user", content: text)
        let ids = tokenizer.encode(renderedPrompt(adding: user))
        guard ids.count < session.cache.capacity else { throw .promptTooLong(tokens: ids.count, context: session.cache.capacity) }
        // Keep what the cache already holds of this exact token sequence; run only the rest.
        var shared = 0
        while shared < min(ids.count - 1, session.tokens.count) && ids[shared] == session.tokens[shared] { shared += 1 }
        session.rewind(to: shared)
        var stream = UTF8StreamDecoder()
        var answer = ""
        _ = session.generate(prompt: Array(ids[shared...]), count: min(maxTokens, session.remaining - (ids.count - shared)),
                             sampler: &sampler, stop: stopTokens) { token, logits in
            onToken(token, logits)
            if !stopTokens.contains(token) {
                let piece = stream.append(tokenizer.bytes(of: token))
                answer += piece
                onText(piece)
            }
            return true
        }
        let tail = stream.finish()
        answer += tail
        onText(tail)
        messages.append(user)
        messages.append(ChatMessage(role: "assistant", content: answer))
        return answer
    }
}

extension LlamaSession {
    /// Drops every token from `position` on, keeping the cache of those before it.
    public mutating func rewind(to position: Int) {
        precondition(position >= 0 && position <= tokens.count, "LlamaSession.rewind: \(position) outside 0...\(tokens.count)")
        cache.truncate(to: position)
        dropTokens(after: position)
    }
}
