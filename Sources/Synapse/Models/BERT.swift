/// The hyper-parameters of a BERT encoder, read from a Hugging Face `config.json` (same key names).
public struct BERTConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maximumPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEps: Float
    public var hiddenActivation: String

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", layers = "num_hidden_layers"
        case heads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maximumPositions = "max_position_embeddings", typeVocabularySize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", hiddenActivation = "hidden_act"
    }

    public init(vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
                maximumPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEps: Float = 1e-12,
                hiddenActivation: String = "gelu") {
        (self.vocabularySize, self.hiddenSize, self.layers, self.heads, self.intermediateSize) =
            (vocabularySize, hiddenSize, layers, heads, intermediateSize)
        (self.maximumPositions, self.typeVocabularySize, self.layerNormEps, self.hiddenActivation) =
            (maximumPositions, typeVocabularySize, layerNormEps, hiddenActivation)
    }
}

/// BERT's self-attention: separate query, key and value projections (as the checkpoints store them), the fused
/// attention op with a padding mask, and the output projection.
public final class BERTSelfAttention: Module {
    public let query: Linear, key: Linear, value: Linear, proj: Linear
    public let heads: Int

    init(hidden: Int, heads: Int, generator: inout RandomGenerator?) {
        query = BERTModel.linear(hidden, hidden, &generator)
        key = BERTModel.linear(hidden, hidden, &generator)
        value = BERTModel.linear(hidden, hidden, &generator)
        proj = BERTModel.linear(hidden, hidden, &generator)
        self.heads = heads
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("query", query), ("key", key), ("value", value), ("proj", proj)])
    }

    public func callAsFunction(_ x: Tensor, keyLengths: [Int]?) -> Tensor {
        proj(query(x).scaledDotProductAttention(key: key(x), value: value(x), heads: heads, keyLengths: keyLengths))
    }

    /// Sequences packed end to end: x [N, C] holds sequences of `lengths` tokens one after another.
    public func callAsFunction(packed x: Tensor, lengths: [Int]) -> Tensor {
        proj(query(x).packedAttention(key: key(x), value: value(x), heads: heads, lengths: lengths))
    }
}

/// One post-norm BERT layer: x = LN(x + Attention(x)), then x = LN(x + FeedForward(x)) with exact GELU.
///
/// (BERT normalises after each residual sum; GPT-style `TransformerBlock` normalises before.)
public final class BERTLayer: Module {
    public let attention: BERTSelfAttention
    public let ln1: LayerNorm
    public let mlp: FeedForward
    public let ln2: LayerNorm

    init(_ c: BERTConfiguration, generator: inout RandomGenerator?) {
        attention = BERTSelfAttention(hidden: c.hiddenSize, heads: c.heads, generator: &generator)
        ln1 = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
        mlp = FeedForward(fc: BERTModel.linear(c.hiddenSize, c.intermediateSize, &generator),
                          out: BERTModel.linear(c.intermediateSize, c.hiddenSize, &generator),
                          approximation: c.hiddenActivation == "gelu_new" || c.hiddenActivation == "gelu_pytorch_tanh" ? .tanh : .none)
        ln2 = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("attention", attention), ("ln1", ln1), ("mlp", mlp), ("ln2", ln2)])
    }

    public func callAsFunction(_ x: Tensor, keyLengths: [Int]?) -> Tensor {
        let h = ln1(x + attention(x, keyLengths: keyLengths))
        return ln2(h + mlp(h))
    }

    /// Sequences packed end to end: x [N, C] holds sequences of `lengths` tokens one after another.
    public func callAsFunction(packed x: Tensor, lengths: [Int]) -> Tensor {
        let h = ln1(x + attention(packed: x, lengths: lengths))
        return ln2(h + mlp(h))
    }
}

/// A BERT encoder (no pooler): word + position + segment embeddings, LayerNorm, then post-norm layers.
///
/// Parameters start random; `BERTModel.load(huggingFaceFolder:)` fills them from a Hugging Face checkpoint.
///
/// ```swift
/// let bert = BERTModel(BERTConfiguration(vocabularySize: 30522, hiddenSize: 384, layers: 6, heads: 12,
///                                        intermediateSize: 1536))
/// let hidden = bert(ids: ids, lengths: [5, 3])       // ids: 2 sequences padded to 5 → [2, 5, 384]
/// ```
public final class BERTModel: Module {
    public let configuration: BERTConfiguration
    public let tok: Embedding
    public let pos: Embedding
    public let type: Embedding
    public let ln: LayerNorm
    public let layers: [BERTLayer]

    public init(_ c: BERTConfiguration, seed: UInt64? = 0) {
        precondition(c.hiddenSize > 0 && c.heads > 0 && c.hiddenSize % c.heads == 0,
                     "BERTModel: hidden size \(c.hiddenSize) does not split into \(c.heads) heads")
        var generator = seed.map { RandomGenerator(seed: $0) }
        configuration = c
        tok = Embedding(weight: Self.matrix([c.vocabularySize, c.hiddenSize], &generator))
        pos = Embedding(weight: Self.matrix([c.maximumPositions, c.hiddenSize], &generator))
        type = Embedding(weight: Self.matrix([c.typeVocabularySize, c.hiddenSize], &generator))
        ln = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
        layers = (0..<c.layers).map { _ in BERTLayer(c, generator: &generator) }
        super.init()
    }

    static func matrix(_ shape: [Int], _ generator: inout RandomGenerator?) -> Tensor {
        guard generator != nil else { return Tensor.zeros(shape) }
        return Tensor.normal(shape, std: 0.02, generator: &generator!)
    }

    static func linear(_ input: Int, _ output: Int, _ generator: inout RandomGenerator?) -> Linear {
        Linear(weight: matrix([output, input], &generator), bias: Tensor.zeros([output]))
    }

    public override func members() -> ModuleMembers {
        var children: [(name: String, module: Module)] = [("tok", tok), ("pos", pos), ("type", type), ("ln", ln)]
        for (i, layer) in layers.enumerated() { children.append(("layers.\(i)", layer)) }
        return ModuleMembers(children: children)
    }

    /// Hidden states [batch, length, hidden] for `ids` holding `lengths.count` right-padded sequences of equal
    /// length; sequence b has `lengths[b]` real tokens (the rest is masked out of attention). Segment ids are all 0.
    public func callAsFunction(ids: [Int], lengths: [Int]) -> Tensor {
        let batch = lengths.count
        precondition(batch > 0 && ids.count % batch == 0, "BERTModel: \(ids.count) ids do not split into \(batch) sequences")
        let length = ids.count / batch
        precondition(length <= configuration.maximumPositions,
                     "BERTModel: sequences of \(length) tokens exceed the \(configuration.maximumPositions) positions")
        var x = tok(tokens: ids, shape: [batch, length]) + pos.weight.slice(axis: 0, 0..<length) + type.weight[row: 0]
        x = ln(x)
        let masked = lengths.allSatisfy { $0 == length } ? nil : lengths
        for layer in layers { x = layer(x, keyLengths: masked) }
        return x
    }

    /// Hidden states [N, hidden] for sequences packed end to end without padding: `ids` holds sequence b's
    /// `lengths[b]` tokens after those of the sequences before it, N = lengths.reduce(0, +). The same vectors, row
    /// for row, as the padded call's real tokens, without computing any padding (`SentenceEmbedder` uses it).
    public func callAsFunction(packedIDs ids: [Int], lengths: [Int]) -> Tensor {
        precondition(lengths.allSatisfy { $0 > 0 && $0 <= configuration.maximumPositions } && lengths.reduce(0, +) == ids.count,
                     "BERTModel: sequence lengths \(lengths) must be in 1...\(configuration.maximumPositions) and add up to the \(ids.count) ids")
        let positions = lengths.flatMap { 0..<$0 }
        var x = tok(tokens: ids) + pos(tokens: positions) + type.weight[row: 0]
        x = ln(x)
        for layer in layers { x = layer(packed: x, lengths: lengths) }
        return x
    }
}
