/// Generation from a `GPT`: sampling a continuation, the KV-cached forward pass, the session that keeps the
/// context, and the `LanguageModel` conformance that `synapse generate` and the model files use.
extension GPT {
    /// Continues `prompt` by `count` tokens drawn by `sampler` and returns only the new ones.
    ///
    /// With `useCache` (the default) each step feeds only the newest token through the network and reads the earlier
    /// keys and values from a `KeyValueCache` (see `GPTSession`); without it every step re-runs the whole context.
    /// Both see the same context, the last `blockSize` tokens, so they produce the same tokens.
    public func generate(prompt: [Int], count: Int, sampler: TokenSampler = TokenSampler(temperature: 0),
                         useCache: Bool = true) -> [Int] {
        precondition(!prompt.isEmpty, "GPT.generate: the prompt needs at least one token")
        var sampler = sampler
        var session = GPTSession(model: self, useCache: useCache)
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return noGrad {
            var logits = session.feed(prompt)
            var generated: [Int] = []
            for _ in 0..<count {
                let next = sampler.sample(logits)
                generated.append(next)
                logits = session.feed([next])
            }
            return generated
        }
    }

    /// Runs `newTokens` after the tokens in `cache` and returns the logits of the last one.
    func forwardCached(_ newTokens: [Int], cache: KeyValueCache) -> [Float] {
        let start = cache.length, t = newTokens.count
        var x = tok(tokens: newTokens, shape: [1, t]) + pos.weight.slice(axis: 0, start..<(start + t))
        for (block, layer) in zip(blocks, cache.layers) { x = block(x, cache: layer) }
        let last = ln(x.slice(axis: 1, (t - 1)..<t).reshaped([1, configuration.embedding]))
        return headLogits(last).scalars
    }
}

extension GPT: LanguageModel {
    public var vocabularySize: Int { configuration.vocabularySize }

    public func logits(tokens: [Int], batchSize: Int) -> Tensor { logits(tokens: tokens, batch: batchSize) }

    public var architectureMetadata: [String: String] {
        let c = configuration
        return [LanguageModelFile.kindKey: "gpt", "synapse.lm.layers": String(c.layers), "synapse.lm.heads": String(c.heads),
                "synapse.lm.embedding": String(c.embedding), "synapse.lm.block": String(c.blockSize),
                "synapse.lm.bias": String(c.bias)]
    }

    public func makeSession() -> any LanguageModelSession { GPTSession(model: self, useCache: true) }

    /// A GPT has no dropout or running statistics: its training forward pass only reads the weights.
    public var supportsDataParallelTraining: Bool { true }

    /// Rebuilds an untrained GPT of the shape `architectureMetadata` describes (the builder registered as "gpt").
    static func build(metadata: [String: String], vocabularySize: Int, shapes: [String: [Int]],
                      file: String) throws(LanguageModelFile.Error) -> any LanguageModel {
        func int(_ key: String) throws(LanguageModelFile.Error) -> Int {
            try LanguageModelFile.size(key, in: metadata, file: file)
        }
        let (layers, heads, embedding, block) = (try int("synapse.lm.layers"), try int("synapse.lm.heads"),
                                                 try int("synapse.lm.embedding"), try int("synapse.lm.block"))
        guard embedding % heads == 0 else { throw .badMetadata(file: file, key: "synapse.lm.heads", value: String(heads)) }
        // Every size against the stored tensors before anything is allocated.
        try LanguageModelFile.requireShape("tok.weight", [vocabularySize, embedding], in: shapes, file: file,
                                           from: "vocabulary, synapse.lm.embedding")
        try LanguageModelFile.requireShape("pos.weight", [block, embedding], in: shapes, file: file,
                                           from: "synapse.lm.block, synapse.lm.embedding")
        try LanguageModelFile.requireShape("blocks.\(layers - 1).attention.qkv.weight", [3 * embedding, embedding],
                                           in: shapes, file: file, from: "synapse.lm.layers, synapse.lm.embedding")
        let bias = metadata["synapse.lm.bias"] == "true"
        return GPT(GPTConfiguration(vocabularySize: vocabularySize, blockSize: block, layers: layers, heads: heads,
                                    embedding: embedding, bias: bias), seed: 0)
    }
}

/// Generation state of a GPT: the last `blockSize` tokens and, with the cache on, their keys and values.
///
/// While the text fits in the block, feeding a token costs one token's projections and attention over the cache.
/// Once it outgrows the block the oldest token drops out of the context; learned positions then shift by one, so
/// cached keys no longer apply and the window is re-run (the same work as generating without a cache).
public struct GPTSession: LanguageModelSession {
    let model: GPT
    let cache: KeyValueCache?
    var window: [Int] = []

    public init(model: GPT, useCache: Bool = true) {
        self.model = model
        let c = model.configuration
        cache = useCache ? KeyValueCache(layers: c.layers, batch: 1, capacity: c.blockSize, features: c.embedding) : nil
    }

    public mutating func feed(_ tokens: [Int]) -> [Float] {
        precondition(!tokens.isEmpty, "GPTSession.feed: no tokens")
        let block = model.configuration.blockSize
        window.append(contentsOf: tokens)
        if window.count > block { window.removeFirst(window.count - block) }
        let context = window
        return noGrad {
            guard let cache else {
                return Array(model.logits(tokens: context, batch: 1).scalars.suffix(model.configuration.vocabularySize))
            }
            if cache.length + tokens.count <= block {
                return model.forwardCached(tokens, cache: cache)
            }
            cache.reset()
            return model.forwardCached(context, cache: cache)
        }
    }
}
