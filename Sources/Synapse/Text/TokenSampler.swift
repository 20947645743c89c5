import Foundation

/// Picks the next token from logits, in llama.cpp's order: repetition penalty on recently produced tokens, then
/// temperature, top-k, top-p (the smallest set of tokens whose probabilities reach p), min-p (drop tokens less likely
/// than min-p × the best one's probability), and a draw from what is left with a seeded generator. Temperature 0
/// takes the most likely token (after the penalty).
///
/// ```swift
/// var sampler = TokenSampler(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: 1)
/// let token = sampler.sample(logits, recent: lastTokens)
/// ```
public struct TokenSampler: Sendable {
    public var temperature: Float
    public var topK: Int?
    /// Nucleus sampling: keep the most likely tokens until their probabilities add up to `topP` (1 keeps all).
    public var topP: Float
    /// Keep tokens at least `minP` times as likely as the most likely one (0 keeps all).
    public var minP: Float
    /// Divides positive logits (multiplies negative ones) of tokens in `recent` by this (1 = off), as llama.cpp and
    /// CTRL do, so the model repeats itself less.
    public var repetitionPenalty: Float
    private var generator: RandomGenerator

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float = 1, minP: Float = 0, repetitionPenalty: Float = 1,
                seed: UInt64 = 0) {
        precondition(temperature >= 0 && temperature.isFinite, "TokenSampler: temperature must be ≥ 0, got \(temperature)")
        if let topK { precondition(topK > 0, "TokenSampler: topK must be positive, got \(topK)") }
        precondition(topP > 0 && topP <= 1, "TokenSampler: topP must lie in (0, 1], got \(topP)")
        precondition(minP >= 0 && minP < 1, "TokenSampler: minP must lie in [0, 1), got \(minP)")
        precondition(repetitionPenalty > 0 && repetitionPenalty.isFinite, "TokenSampler: repetition penalty must be positive, got \(repetitionPenalty)")
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        generator = RandomGenerator(seed: seed)
    }

    public mutating func sample(_ logits: [Float], recent: [Int] = []) -> Int {
        precondition(!logits.isEmpty, "TokenSampler.sample: no logits")
        var logits = logits
        if repetitionPenalty != 1 {
            for t in Set(recent) where t >= 0 && t < logits.count {
                logits[t] = logits[t] > 0 ? logits[t] / repetitionPenalty : logits[t] * repetitionPenalty
            }
        }
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        if temperature == 0 { return best }
        var candidates = Array(logits.indices)
        let truncates = topK.map { $0 < logits.count } ?? false || topP < 1 || minP > 0
        if truncates { candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) } }
        if let topK, topK < candidates.count { candidates.removeLast(candidates.count - topK) }
        let top = logits[best]
        var weights = candidates.map { Foundation.exp(Double((logits[$0] - top) / temperature)) }
        if topP < 1 || minP > 0 {
            let total = weights.reduce(0, +)
            var keep = weights.count, running = 0.0
            for (k, w) in weights.enumerated() {
                if minP > 0 && w < Double(minP) * weights[0] { keep = k; break }
                running += w
                if topP < 1 && running >= Double(topP) * total { keep = k + 1; break }
            }
            keep = max(keep, 1)
            candidates.removeLast(candidates.count - keep)
            weights.removeLast(weights.count - keep)
        }
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
            produced.reserveCapacity(min(tokenCount, 1 << 16))   // a caller's huge count must not size an allocation
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
