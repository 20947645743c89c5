import Foundation

/// The Llama decoder for fine-tuning: the pre-trained model frozen, LoRA adapters (`LlamaLoRA`) on the chosen
/// projections, and a forward pass over a batch of sequences on autograd ops, so `backward()` reaches the adapters
/// through every layer above them. It computes what `Llama` computes (the tests hold it to the float reference and
/// to PyTorch + PEFT), without a KV cache:
///
///     x = embed(tokens)                                          // [B, T, C], frozen
///     for each block:
///         h = rmsNorm(x)
///         q, k, v = Wq·h + ΔWq·h, Wk·h + …, Wv·h + …              // ΔW = (α/r)·B·A where adapted
///         x = x + (Wo + ΔWo)·attention(rope(q), rope(k), v)       // causal, grouped-query
///         h = rmsNorm(x)
///         x = x + (Wdown + ΔWdown)·(silu((Wgate + ΔWgate)·h) ⊙ (Wup + ΔWup)·h)
///     logits = rmsNorm(x) · Eᵀ                                   // only where a target is asked for
///
/// The base is `.blocks` (QLoRA: 4-bit matrices stay in the mapped file, 0.6 bytes per weight) or `.float`
/// (dequantised once; 4 bytes per weight). Both give the same numbers: the block products dequantise exactly what
/// `.float` holds.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let gguf = try GGUFFile(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let lora = LlamaLoRA(LoRAConfiguration(rank: 8, alpha: 16, targets: [.query, .value]),
///                      model: try LlamaConfiguration(gguf: gguf), generator: &rng)
/// let model = try TrainableLlama(gguf: gguf, lora: lora)
/// let (loss, count) = model.loss(tokens: ids, targets: next, batch: 4)   // summed over `count` positions
/// (loss / Float(count)).backward()                                      // gradients on A and B only
/// ```
public final class TrainableLlama: @unchecked Sendable {
    public enum Base: String, Sendable, CaseIterable {
        /// The file's block matrices read in place (QLoRA).
        case blocks
        /// Every matrix dequantised to Float32 at load.
        case float
    }

    struct Layer {
        let attentionNorm: Tensor, feedForwardNorm: Tensor          // [C]
        let projections: [LlamaProjection: FrozenWeight]
    }

    public let configuration: LlamaConfiguration
    public let lora: LlamaLoRA
    public let base: Base
    let embedding: FrozenWeight, head: FrozenWeight
    let outputNorm: Tensor
    let layers: [Layer]
    /// Keeps the mapping that `.blocks` weights point into alive.
    let file: GGUFFile

    public init(gguf: GGUFFile, base: Base = .blocks, lora: LlamaLoRA) throws(GGUFError) {
        let c = try LlamaConfiguration(gguf: gguf)
        for (l, layer) in lora.adapters.enumerated() {
            for (kind, adapter) in layer where [adapter.outputFeatures, adapter.inputFeatures] != kind.shape(in: c) {
                throw .badMetadata(file: gguf.path, key: "blk.\(l).\(kind.ggufName).weight",
                                   reason: "the adapter is [\(adapter.outputFeatures), \(adapter.inputFeatures)], the model's weight \(kind.shape(in: c))")
            }
        }
        guard lora.adapters.count == c.layers else {
            throw .badMetadata(file: gguf.path, key: "llama.block_count", reason: "the model has \(c.layers) layers, the adapters \(lora.adapters.count)")
        }
        (configuration, self.lora, self.base, file) = (c, lora, base, gguf)
        func weight(_ name: String) throws(GGUFError) -> FrozenWeight {
            let matrix = try GGMLMatrix(gguf.requiredTensor(named: name), of: gguf)
            return base == .blocks ? .blocks(matrix) : .dense(matrix.dequantized())
        }
        func vector(_ name: String) throws(GGUFError) -> Tensor { try GGMLBlocks.dequantize(gguf.requiredTensor(named: name), of: gguf) }
        embedding = try weight("token_embd.weight")
        head = c.tiedOutput ? embedding : try weight("output.weight")
        outputNorm = try vector("output_norm.weight")
        var layers: [Layer] = []
        for l in 0..<c.layers {
            var projections: [LlamaProjection: FrozenWeight] = [:]
            for kind in LlamaProjection.allCases { projections[kind] = try weight("blk.\(l).\(kind.ggufName).weight") }
            layers.append(Layer(attentionNorm: try vector("blk.\(l).attn_norm.weight"),
                                feedForwardNorm: try vector("blk.\(l).ffn_norm.weight"), projections: projections))
        }
        self.layers = layers
    }

    /// Bytes of frozen weights in memory (the file's mapping counts for `.blocks`).
    public var baseByteCount: Int {
        layers.reduce(embedding.byteCount + (configuration.tiedOutput ? 0 : head.byteCount)) { total, layer in
            total + layer.projections.values.reduce(0) { $0 + $1.byteCount }
        }
    }

    /// Dropout in the adapters on (training) or off.
    public func train(_ on: Bool = true) { on ? lora.train() : lora.eval() }

    /// The last block's output for `batch` sequences of equal length laid end to end in `tokens`: [B, T, C].
    public func hiddenStates(_ tokens: [Int], batch: Int) -> Tensor {
        let c = configuration
        precondition(batch > 0 && !tokens.isEmpty && tokens.count % batch == 0,
                     "TrainableLlama: \(tokens.count) tokens do not make \(batch) sequences of equal length")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabularySize }, "TrainableLlama: token id outside 0..<\(c.vocabularySize)")
        let t = tokens.count / batch
        precondition(t <= c.contextLength, "TrainableLlama: sequences of \(t) tokens exceed the context of \(c.contextLength)")
        var x = embedding.rows(tokens).reshaped([batch, t, c.embedding])
        for (l, layer) in layers.enumerated() {
            func project(_ kind: LlamaProjection, _ h: Tensor) -> Tensor {
                let y = layer.projections[kind]!.apply(h)
                return lora.adapter(layer: l, kind).map { y + $0(h) } ?? y
            }
            let h = x.rmsNorm(weight: layer.attentionNorm, eps: c.normEpsilon)
            let groups = c.heads / c.keyValueHeads
            let q = project(.query, h).rotaryEmbedding(headDim: c.headDim, base: c.ropeBase)                  // [B, T, H·D]
            let k = project(.key, h).rotaryEmbedding(headDim: c.headDim, base: c.ropeBase)
                .repeatingHeads(groups: groups, headDim: c.headDim)                                           // [B, T, H·D]
            let v = project(.value, h).repeatingHeads(groups: groups, headDim: c.headDim)
            x = x + project(.output, q.scaledDotProductAttention(key: k, value: v, heads: c.heads, causal: true))
            let f = x.rmsNorm(weight: layer.feedForwardNorm, eps: c.normEpsilon)
            x = x + project(.down, project(.gate, f).swiGLU(up: project(.up, f)))
        }
        return x
    }

    /// Next-token logits at every position, [B·T, V].
    public func logits(_ tokens: [Int], batch: Int) -> Tensor {
        let x = hiddenStates(tokens, batch: batch)
        return head.apply(x.reshaped([tokens.count, configuration.embedding]).rmsNorm(weight: outputNorm, eps: configuration.normEpsilon))
    }

    /// Cross-entropy summed over the positions whose target is not negative (−1 marks a position not to learn from,
    /// as PyTorch's ignore index −100), and how many there are. The head — a 49152 × 576 product for SmolLM2 — runs
    /// on those positions only, fused with the loss (`linearCrossEntropy`: one logits-sized buffer, not three).
    public func loss(tokens: [Int], targets: [Int], batch: Int) -> (sum: Tensor, count: Int) {
        precondition(targets.count == tokens.count, "TrainableLlama.loss: \(targets.count) targets for \(tokens.count) tokens")
        let rows = targets.indices.filter { targets[$0] >= 0 }
        let x = hiddenStates(tokens, batch: batch).reshaped([tokens.count, configuration.embedding])
        guard !rows.isEmpty else { return (x.sum() * 0, 0) }
        let picked = rows.count == tokens.count ? x : x.gather(rows)
        let normed = picked.rmsNorm(weight: outputNorm, eps: configuration.normEpsilon)
        return (normed.linearCrossEntropy(frozen: head, targets: rows.map { targets[$0] }), rows.count)
    }

    /// Adds the gradients of `scale` × the summed loss of a batch into the adapters' `grad` (scale 1/N for the mean
    /// over N learned tokens of a larger step), and returns the summed loss and its count.
    ///
    /// Without adapter dropout (whose generators the shards would share) the sequences are cut into one shard per
    /// core (`DataParallel`): each core runs whole forward and backward passes with single-core products, which keeps
    /// both cores busy through the elementwise ops and makes one meeting per step instead of one per product.
    public func accumulateGradients(tokens: [Int], targets: [Int], batch: Int, scale: Float,
                                    dataParallel: Bool = true) -> (sum: Double, count: Int) {
        let length = tokens.count / batch
        let count = targets.lazy.filter { $0 >= 0 }.count
        let hasDropout = lora.adapters.contains { $0.values.contains { $0.dropout != nil } }
        if !dataParallel || hasDropout || DataParallel.shardCount(rows: batch) == 1 {
            let loss = self.loss(tokens: tokens, targets: targets, batch: batch).sum
            (loss * scale).backward()
            return (Double(loss.item), count)
        }
        let total = DataParallel.backward(rows: batch, weighting: .summed) { sequences in
            let part = (sequences.lowerBound * length)..<(sequences.upperBound * length)
            return self.loss(tokens: Array(tokens[part]), targets: Array(targets[part]), batch: sequences.count).sum * scale
        }
        return (Double(total) / Double(scale), count)
    }
}
