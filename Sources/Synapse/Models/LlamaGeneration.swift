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
    public let model: Llama
    public let cache: LlamaCache
    /// Every token fed so far.
    public private(set) var tokens: [Int] = []

    public init(model: Llama, capacity: Int? = nil) {
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
