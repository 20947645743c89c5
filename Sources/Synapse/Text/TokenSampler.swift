import Foundation

/// Picks the next token from logits: temperature scaling, optional top-k truncation, then a draw from the softmax
/// with a seeded generator (temperature 0 takes the most likely token).
///
/// ```swift
/// var sampler = TokenSampler(temperature: 0.8, topK: 40, seed: 1)
/// let token = sampler.sample(logits)
/// ```
public struct TokenSampler: Sendable {
    public var temperature: Float
    public var topK: Int?
    private var generator: RandomGenerator

    public init(temperature: Float = 1, topK: Int? = nil, seed: UInt64 = 0) {
        precondition(temperature >= 0 && temperature.isFinite, "TokenSampler: temperature must be ≥ 0, got \(temperature)")
        if let topK { precondition(topK > 0, "TokenSampler: topK must be positive, got \(topK)") }
        self.temperature = temperature
        self.topK = topK
        generator = RandomGenerator(seed: seed)
    }

    public mutating func sample(_ logits: [Float]) -> Int {
        precondition(!logits.isEmpty, "TokenSampler.sample: no logits")
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        if temperature == 0 { return best }
        var candidates = Array(logits.indices)
        if let topK, topK < logits.count {
            candidates.sort { logits[$0] > logits[$1] }
            candidates.removeLast(logits.count - topK)
        }
        let top = logits[best]
        let weights = candidates.map { Foundation.exp(Double((logits[$0] - top) / temperature)) }
        let total = weights.reduce(0, +)
        var u = Double(generator.nextUniform()) * total
        for (k, w) in weights.enumerated() {
            u -= w
            if u < 0 { return candidates[k] }
        }
        return candidates.last!  // rounding left u ≥ 0 after the last weight
    }
}

/// Text generation: feeds the prompt, then samples one token at a time and hands each piece of text to `emit` as
/// soon as it is produced (so a command line can stream it).
public enum TextGeneration {
    /// Generates `tokenCount` tokens after `prompt`; returns the generated text (without the prompt).
    ///
    /// An empty prompt starts from "\n" when the vocabulary has it (a play or a poem starts at a line break),
    /// otherwise from token 0. Throws `TextError.unknownCharacter` for prompt
    /// characters outside the vocabulary.
    ///
    /// ```swift
    /// var sampler = TokenSampler(temperature: 0.8, topK: 40, seed: 1)
    /// let text = try TextGeneration.generate(model: model, tokenizer: tokenizer, prompt: "ROMEO:",
    ///                                        tokenCount: 500, sampler: &sampler) { print($0, terminator: "") }
    /// ```
    @discardableResult
    public static func generate(model: any LanguageModel, tokenizer: CharacterTokenizer, prompt: String,
                                tokenCount: Int, sampler: inout TokenSampler,
                                emit: (String) -> Void = { _ in }) throws(TextError) -> String {
        precondition(tokenCount >= 0, "TextGeneration.generate: negative token count \(tokenCount)")
        var context = try tokenizer.encode(prompt, source: "prompt")
        if context.isEmpty { context = [tokenizer.id(of: "\n") ?? 0] }
        model.eval()
        return noGrad {
            var session = model.makeSession()
            var logits = session.feed(context)
            var produced: [Int] = []
            produced.reserveCapacity(tokenCount)
            for _ in 0..<tokenCount {
                let token = sampler.sample(logits)
                produced.append(token)
                emit(tokenizer.decode([token]))
                logits = session.feed([token])
            }
            return tokenizer.decode(produced)
        }
    }
}
