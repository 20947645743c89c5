/// The shape of a decoder-only transformer.
public struct GPTConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    /// The longest context the model sees (the size of the learned position table).
    public var blockSize: Int
    public var layers: Int
    public var heads: Int
    public var embedding: Int
    /// Whether the Linear and LayerNorm layers carry biases (nanoGPT's CPU configuration has none).
    public var bias: Bool

    public init(vocabularySize: Int, blockSize: Int = 64, layers: Int = 4, heads: Int = 4, embedding: Int = 128,
                bias: Bool = false) {
        (self.vocabularySize, self.blockSize, self.layers, self.heads, self.embedding, self.bias) =
            (vocabularySize, blockSize, layers, heads, embedding, bias)
    }
}

/// A GPT: token + learned position embeddings, a stack of causal pre-norm blocks, a final LayerNorm and a head that
/// shares its weight with the token embedding (weight tying, as GPT-2).
///
/// Weights start from N(0, 0.02) as in GPT-2/nanoGPT; LayerNorms at γ = 1, β = 0. State-dict keys:
/// `tok.weight`, `pos.weight`, `blocks.N.{ln1,attention.qkv,attention.proj,ln2,mlp.fc,mlp.out}.weight`, `ln.weight`.
///
/// ```swift
/// let gpt = GPT(GPTConfiguration(vocabularySize: 65), seed: 1337)
/// let loss = gpt.loss(inputs: x, targets: y, batch: 12)           // x, y: 12·64 token ids
/// let text = gpt.generate(prompt: [0], count: 200, sampling: .init(temperature: 0.8, topK: 20))
/// ```
public final class GPT: Module {
    public let configuration: GPTConfiguration
    public let tok: Embedding
    public let pos: Embedding
    public let blocks: [TransformerBlock]
    public let ln: LayerNorm

    public init(_ configuration: GPTConfiguration, generator: inout RandomGenerator) {
        let c = configuration
        precondition(c.vocabularySize > 0 && c.blockSize > 0 && c.layers > 0,
                     "GPT: vocabulary, block size and layers must be positive, got \(c)")
        self.configuration = c
        tok = Embedding(weight: Tensor.normal([c.vocabularySize, c.embedding], std: 0.02, generator: &generator))
        pos = Embedding(weight: Tensor.normal([c.blockSize, c.embedding], std: 0.02, generator: &generator))
        blocks = (0..<c.layers).map { _ in
            TransformerBlock(embedding: c.embedding, heads: c.heads, bias: c.bias, causal: true, generator: &generator)
        }
        ln = LayerNorm(c.embedding, bias: c.bias)
        super.init()
        // GPT-2's initialisation: every matrix from N(0, 0.02), biases at 0.
        for block in blocks {
            for linear in [block.attention.qkv, block.attention.proj, block.mlp.fc, block.mlp.out] {
                linear.weight = Tensor.normal(linear.weight.shape, std: 0.02, generator: &generator).requiringGrad()
                if let bias = linear.bias { linear.bias = Tensor.zeros(bias.shape).requiringGrad() }
            }
        }
    }

    public convenience init(_ configuration: GPTConfiguration, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        self.init(configuration, generator: &generator)
    }

    public override func members() -> ModuleMembers {
        var children: [(name: String, module: Module)] = [("tok", tok), ("pos", pos)]
        for (i, block) in blocks.enumerated() { children.append(("blocks.\(i)", block)) }
        children.append(("ln", ln))
        return ModuleMembers(children: children)
    }

    /// Next-token logits [batch·length, vocabulary] for `tokens` holding `batch` sequences of equal length.
    public func logits(tokens: [Int], batch: Int) -> Tensor {
        precondition(batch > 0 && tokens.count % batch == 0, "GPT: \(tokens.count) tokens do not split into \(batch) sequences")
        let length = tokens.count / batch
        precondition(length <= configuration.blockSize, "GPT: sequences of \(length) tokens exceed the block size \(configuration.blockSize)")
        var x = tok(tokens: tokens, shape: [batch, length]) + pos.weight.slice(axis: 0, 0..<length)
        for block in blocks { x = block(x) }
        return headLogits(ln(x).reshaped([batch * length, configuration.embedding]))
    }

    /// The tied output projection: logits = h·Eᵀ with E the token embedding.
    func headLogits(_ hidden: Tensor) -> Tensor { hidden.linear(weight: tok.weight) }

    /// Mean cross-entropy of predicting `targets` (each input token's successor), as the training objective.
    public func loss(inputs: [Int], targets: [Int], batch: Int) -> Tensor {
        precondition(inputs.count == targets.count, "GPT.loss: \(inputs.count) inputs for \(targets.count) targets")
        return logits(tokens: inputs, batch: batch).crossEntropy(targets: targets)
    }

    /// Parameter groups for AdamW: weight decay on matrices (embeddings and Linear weights) only, none on LayerNorm
    /// gains and biases, as GPT-2 and nanoGPT do.
    public func parameterGroups(learningRate: Float, weightDecay: Float) -> [ParameterGroup] {
        let parameters = self.parameters()
        return [ParameterGroup(parameters: parameters.filter { $0.rank >= 2 }, learningRate: learningRate, weightDecay: weightDecay),
                ParameterGroup(parameters: parameters.filter { $0.rank < 2 }, learningRate: learningRate, weightDecay: 0)]
    }

    // MARK: Generation

    /// How the next token is drawn from the logits.
    public struct Sampling: Sendable {
        /// Divides the logits; 0 means greedy (always the most likely token).
        public var temperature: Float
        /// Only the k most likely tokens can be drawn (nil: all).
        public var topK: Int?
        public var seed: UInt64

        public init(temperature: Float = 1, topK: Int? = nil, seed: UInt64 = 0) {
            (self.temperature, self.topK, self.seed) = (temperature, topK, seed)
        }

        public static let greedy = Sampling(temperature: 0)
    }

    /// Continues `prompt` by `count` tokens and returns only the new ones.
    ///
    /// With `useCache` (the default) each step feeds only the newest token through the network and reads the earlier
    /// keys and values from a `KeyValueCache`. The context is the last `blockSize` tokens, exactly as without the
    /// cache: once the text outgrows the block, the cache is rebuilt from the last `blockSize` tokens, because learned
    /// positions shift and old keys no longer fit.
    public func generate(prompt: [Int], count: Int, sampling: Sampling = .greedy, useCache: Bool = true) -> [Int] {
        precondition(!prompt.isEmpty, "GPT.generate: the prompt needs at least one token")
        let block = configuration.blockSize
        var generator = RandomGenerator(seed: sampling.seed)
        var tokens = prompt
        var generated: [Int] = []
        let cache = KeyValueCache(layers: blocks.count, batch: 1, capacity: block, features: configuration.embedding)
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        noGrad {
            for _ in 0..<count {
                let lastLogits: [Float]
                if useCache {
                    if cache.length == 0 || cache.length >= block {
                        cache.reset()
                        lastLogits = forwardCached(Array(tokens.suffix(block)), cache: cache)
                    } else {
                        lastLogits = forwardCached([tokens[tokens.count - 1]], cache: cache)
                    }
                } else {
                    let context = Array(tokens.suffix(block))
                    let all = logits(tokens: context, batch: 1)
                    lastLogits = Array(all.scalars.suffix(configuration.vocabularySize))
                }
                let next = Self.sample(lastLogits, sampling, &generator)
                tokens.append(next)
                generated.append(next)
            }
        }
        return generated
    }

    /// Runs `newTokens` after the tokens in `cache` and returns the logits of the last one.
    func forwardCached(_ newTokens: [Int], cache: KeyValueCache) -> [Float] {
        let start = cache.length, t = newTokens.count
        var x = tok(tokens: newTokens, shape: [1, t]) + pos.weight.slice(axis: 0, start..<(start + t))
        for (block, layer) in zip(blocks, cache.layers) { x = block(x, cache: layer) }
        let last = ln(x.slice(axis: 1, (t - 1)..<t).reshaped([1, configuration.embedding]))
        return headLogits(last).scalars
    }

    /// Greedy, or a draw from softmax(logits / temperature) restricted to the top k.
    static func sample(_ logits: [Float], _ sampling: Sampling, _ generator: inout RandomGenerator) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        guard sampling.temperature > 0 else { return best }
        var order = Array(logits.indices)
        if let k = sampling.topK, k < logits.count {
            order.sort { logits[$0] > logits[$1] }
            order = Array(order.prefix(Swift.max(k, 1)))
        }
        let weights = order.map { Double(($0 == best ? 0 : logits[$0] - logits[best]) / sampling.temperature) }.map { _exp($0) }
        let total = weights.reduce(0, +)
        var u = Double(generator.nextUniform()) * total
        for (i, w) in zip(order, weights) {
            u -= w
            if u <= 0 { return i }
        }
        return order.last ?? best
    }
}

@inline(__always) private func _exp(_ x: Double) -> Double {
    #if canImport(Darwin)
    return Darwin.exp(x)
    #else
    return Glibc.exp(x)
    #endif
}
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
