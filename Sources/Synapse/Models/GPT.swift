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
/// let text = gpt.generate(prompt: [0], count: 200, sampler: TokenSampler(temperature: 0.8, topK: 20))
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
}
