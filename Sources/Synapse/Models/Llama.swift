import Foundation

/// The shape of a Llama-architecture model, read from a GGUF file's `llama.*` metadata.
public struct LlamaConfiguration: Equatable, Sendable {
    public var vocabularySize: Int
    /// The longest context the model was trained for.
    public var contextLength: Int
    public var layers: Int
    /// The width of the residual stream (C).
    public var embedding: Int
    /// The hidden width of the SwiGLU feed-forward (F).
    public var feedForward: Int
    /// Query heads (H).
    public var heads: Int
    /// Key/value heads (Hkv); H / Hkv query heads share each (grouped-query attention).
    public var keyValueHeads: Int
    public var normEpsilon: Float
    public var ropeBase: Float
    /// Whether the output projection has its own weight (`output.weight`) or reuses the token embedding.
    public var tiedOutput: Bool

    public var headDim: Int { embedding / heads }
    public var keyValueWidth: Int { keyValueHeads * headDim }

    public init(vocabularySize: Int, contextLength: Int, layers: Int, embedding: Int, feedForward: Int, heads: Int,
                keyValueHeads: Int, normEpsilon: Float = 1e-5, ropeBase: Float = 10_000, tiedOutput: Bool = true) {
        (self.vocabularySize, self.contextLength, self.layers, self.embedding, self.feedForward) =
            (vocabularySize, contextLength, layers, embedding, feedForward)
        (self.heads, self.keyValueHeads, self.normEpsilon, self.ropeBase, self.tiedOutput) =
            (heads, keyValueHeads, normEpsilon, ropeBase, tiedOutput)
    }

    /// Reads and checks every size from the metadata, and checks each tensor the model needs against them, before
    /// anything is allocated.
    public init(gguf: GGUFFile) throws(GGUFError) {
        let architecture = try gguf.string("general.architecture")
        guard architecture == "llama" else { throw .unsupportedArchitecture(file: gguf.path, architecture: architecture) }
        let limit = 1 << 20
        layers = try gguf.integer("llama.block_count", in: 1...4096)
        embedding = try gguf.integer("llama.embedding_length", in: 1...limit)
        feedForward = try gguf.integer("llama.feed_forward_length", in: 1...limit)
        heads = try gguf.integer("llama.attention.head_count", in: 1...4096)
        keyValueHeads = gguf.metadata["llama.attention.head_count_kv"] == nil
            ? heads : try gguf.integer("llama.attention.head_count_kv", in: 1...4096)
        contextLength = try gguf.integer("llama.context_length", in: 1...(1 << 24))
        normEpsilon = try gguf.float("llama.attention.layer_norm_rms_epsilon")
        ropeBase = gguf.metadata["llama.rope.freq_base"] == nil ? 10_000 : try gguf.float("llama.rope.freq_base")
        guard embedding % heads == 0 else {
            throw .badMetadata(file: gguf.path, key: "llama.attention.head_count", reason: "\(heads) heads do not divide the width \(embedding)")
        }
        guard heads % keyValueHeads == 0 else {
            throw .badMetadata(file: gguf.path, key: "llama.attention.head_count_kv",
                               reason: "\(keyValueHeads) key/value heads do not divide the \(heads) query heads")
        }
        guard (embedding / heads) % 2 == 0 else {
            throw .badMetadata(file: gguf.path, key: "llama.attention.head_count", reason: "head size \(embedding / heads) must be even for RoPE")
        }
        if gguf.metadata["llama.rope.dimension_count"] != nil {
            let rotary = try gguf.integer("llama.rope.dimension_count")
            guard rotary == embedding / heads else {
                throw .badMetadata(file: gguf.path, key: "llama.rope.dimension_count",
                                   reason: "partial rotary embeddings (\(rotary) of \(embedding / heads)) are not supported")
            }
        }
        guard normEpsilon > 0 && ropeBase > 1 else {
            throw .badMetadata(file: gguf.path, key: "llama.rope.freq_base", reason: "epsilon \(normEpsilon) and RoPE base \(ropeBase) must be positive")
        }
        let embed = try gguf.requiredTensor(named: "token_embd.weight")
        guard embed.dimensions.count == 2 && embed.dimensions[0] == embedding else {
            throw .wrongShape(file: gguf.path, tensor: embed.name, expected: [embedding, embed.dimensions.last ?? 0], found: embed.dimensions)
        }
        vocabularySize = embed.dimensions[1]
        if let declared = gguf.metadata["llama.vocab_size"]?.int, declared != vocabularySize {
            throw .badMetadata(file: gguf.path, key: "llama.vocab_size", reason: "says \(declared), token_embd.weight has \(vocabularySize) rows")
        }
        tiedOutput = gguf.tensor(named: "output.weight") == nil
        for (name, dimensions) in expectedTensors() {
            let info = try gguf.requiredTensor(named: name)
            guard info.dimensions == dimensions else { throw .wrongShape(file: gguf.path, tensor: name, expected: dimensions, found: info.dimensions) }
            guard info.type.isReadable else { throw .unsupportedBlockType(file: gguf.path, tensor: name, type: info.type) }
        }
    }

    /// Every tensor a Llama model reads, with its ggml dimensions (row length first).
    public func expectedTensors() -> [(name: String, dimensions: [Int])] {
        let (c, f, kv) = (embedding, feedForward, keyValueWidth)
        var list: [(String, [Int])] = [("token_embd.weight", [c, vocabularySize]), ("output_norm.weight", [c])]
        if !tiedOutput { list.append(("output.weight", [c, vocabularySize])) }
        for l in 0..<layers {
            list += [("blk.\(l).attn_norm.weight", [c]), ("blk.\(l).attn_q.weight", [c, c]), ("blk.\(l).attn_k.weight", [c, kv]),
                     ("blk.\(l).attn_v.weight", [c, kv]), ("blk.\(l).attn_output.weight", [c, c]),
                     ("blk.\(l).ffn_norm.weight", [c]), ("blk.\(l).ffn_gate.weight", [c, f]),
                     ("blk.\(l).ffn_up.weight", [c, f]), ("blk.\(l).ffn_down.weight", [f, c])]
        }
        return list
    }

    /// The number of weights (the tied head counted once).
    public var parameterCount: Int {
        expectedTensors().reduce(0) { $0 + $1.dimensions.reduce(1, *) }
    }
}

/// What generation needs from a Llama model. Two implementations: `Llama`, the float reference on tensor ops, and
/// `QuantizedLlama`, which keeps the weights in their ggml blocks and runs int8 dot products on a team of threads.
public protocol LlamaModel: AnyObject, Sendable {
    var configuration: LlamaConfiguration { get }
    /// A key/value cache for one sequence, up to `capacity` tokens (the context length when nil).
    func makeCache(capacity: Int?) -> LlamaCache
    /// Runs `tokens` after those in `cache`: next-token logits [T, V], or [1, V] when `lastOnly`.
    func forward(_ tokens: [Int], cache: LlamaCache, lastOnly: Bool) -> Tensor
}

/// A Llama-architecture decoder (Llama 2/3, SmolLM, TinyLlama, …), the float reference: weights dequantised to
/// Float32 and run on Synapse's tensor ops, as nanoGPT runs GPT-2.
///
///     x = embed(tokens)                                   // [T, C]
///     for each block:
///         x = x + attention(rmsNorm(x))                   // RoPE on q and k, grouped-query, causal, KV cache
///         x = x + down(silu(gate(h)) ⊙ up(h)),  h = rmsNorm(x)   // SwiGLU
///     logits = rmsNorm(x) · Eᵀ                            // [T, V], E the embedding when the head is tied
///
/// Weight names are the GGUF tensor names (`blk.N.attn_q.weight`, …); matrices are [out, in] as in PyTorch.
///
/// ```swift
/// let model = try Llama(gguf: try GGUFFile(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
/// let cache = model.makeCache()
/// let logits = model.forward([1, 9690, 198], cache: cache)   // [3, 49152]: each position's next-token logits
/// ```
public final class Llama: LlamaModel, @unchecked Sendable {
    public struct Block: Sendable {
        public let attentionNorm: Tensor               // [C]
        public let query: Tensor, key: Tensor, value: Tensor   // [C, C], [Hkv·D, C], [Hkv·D, C]
        public let output: Tensor                      // [C, C]
        public let feedForwardNorm: Tensor             // [C]
        public let gate: Tensor, up: Tensor            // [F, C]
        public let down: Tensor                        // [C, F]
    }

    public let configuration: LlamaConfiguration
    public let tokenEmbedding: Tensor                  // [V, C]
    public let blocks: [Block]
    public let outputNorm: Tensor                      // [C]
    public let outputWeight: Tensor                    // [V, C]; the embedding itself when tied

    /// The model of a GGUF file; with `adapter`, each adapted weight becomes W + (α/r)·B·A (merged in Float32).
    public init(gguf: GGUFFile, adapter: LlamaLoRA? = nil) throws(GGUFError) {
        let c = try LlamaConfiguration(gguf: gguf)
        configuration = c
        if let adapter { _ = try LlamaAdapterProducts(adapter, model: c, file: gguf.path) }   // shapes checked
        func load(_ name: String) throws(GGUFError) -> Tensor { try GGMLBlocks.dequantize(gguf.requiredTensor(named: name), of: gguf) }
        func matrix(_ l: Int, _ kind: LlamaProjection) throws(GGUFError) -> Tensor {
            let w = try load("blk.\(l).\(kind.ggufName).weight")
            return adapter?.adapter(layer: l, kind).map { w + $0.delta } ?? w
        }
        tokenEmbedding = try load("token_embd.weight")
        outputNorm = try load("output_norm.weight")
        outputWeight = c.tiedOutput ? tokenEmbedding : try load("output.weight")
        var blocks: [Block] = []
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            blocks.append(Block(attentionNorm: try load(p + "attn_norm.weight"), query: try matrix(l, .query),
                                key: try matrix(l, .key), value: try matrix(l, .value),
                                output: try matrix(l, .output), feedForwardNorm: try load(p + "ffn_norm.weight"),
                                gate: try matrix(l, .gate), up: try matrix(l, .up), down: try matrix(l, .down)))
        }
        self.blocks = blocks
    }

    /// A model from weights in memory (tests build tiny random ones).
    public init(configuration: LlamaConfiguration, tokenEmbedding: Tensor, blocks: [Block], outputNorm: Tensor, outputWeight: Tensor? = nil) {
        (self.configuration, self.tokenEmbedding, self.blocks, self.outputNorm) = (configuration, tokenEmbedding, blocks, outputNorm)
        self.outputWeight = outputWeight ?? tokenEmbedding
    }

    /// A key/value cache for one sequence; it grows as tokens arrive, up to `capacity` (the context length when nil).
    public func makeCache(capacity: Int? = nil) -> LlamaCache {
        LlamaCache(layers: configuration.layers, width: configuration.keyValueWidth,
                   capacity: min(capacity ?? configuration.contextLength, configuration.contextLength))
    }

    /// Runs `tokens` after those already in `cache` and returns next-token logits: [T, V], or [1, V] for the last
    /// token only when `lastOnly` (generation needs no more).
    public func forward(_ tokens: [Int], cache: LlamaCache, lastOnly: Bool = false) -> Tensor {
        let c = configuration
        precondition(!tokens.isEmpty, "Llama.forward: no tokens")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabularySize }, "Llama.forward: token id outside 0..<\(c.vocabularySize)")
        precondition(cache.length + tokens.count <= cache.capacity,
                     "Llama.forward: \(cache.length) cached + \(tokens.count) new tokens exceed the context of \(cache.capacity)")
        return noGrad {
            let start = cache.length
            var x = tokenEmbedding.gather(tokens)                                         // [T, C]
            for (l, block) in blocks.enumerated() {
                x = x + attention(x.rmsNorm(weight: block.attentionNorm, eps: c.normEpsilon), block, layer: l, start: start, cache: cache)
                let h = x.rmsNorm(weight: block.feedForwardNorm, eps: c.normEpsilon)
                x = x + h.linear(weight: block.gate).swiGLU(up: h.linear(weight: block.up)).linear(weight: block.down)
            }
            cache.length = start + tokens.count
            if lastOnly { x = x.slice(axis: 0, (tokens.count - 1)..<tokens.count) }
            return x.rmsNorm(weight: outputNorm, eps: c.normEpsilon).linear(weight: outputWeight)   // [T, V]
        }
    }

    /// Causal grouped-query self-attention of the new tokens over everything cached.
    func attention(_ h: Tensor, _ block: Block, layer: Int, start: Int, cache: LlamaCache) -> Tensor {
        let c = configuration
        let t = h.shape[0]
        let q = h.linear(weight: block.query).rotaryEmbedding(headDim: c.headDim, start: start, base: c.ropeBase)   // [T, H·D]
        let k = h.linear(weight: block.key).rotaryEmbedding(headDim: c.headDim, start: start, base: c.ropeBase)     // [T, Hkv·D]
        let v = h.linear(weight: block.value)                                                                       // [T, Hkv·D]
        cache.store(layer: layer, at: start, keys: k, values: v)
        let out = Tensor(uninitializedShape: [t, c.embedding])
        var g = Tensor.attentionGeometry(batch: 1, heads: c.heads, queryLength: t, keyLength: start + t,
                                         features: c.embedding, causal: true, keyLengths: nil, scale: nil)
        g.queriesPerKeyHead = c.heads / c.keyValueHeads
        let (keys, values) = cache.buffers(layer: layer)
        Kernels.attentionForward(g,
                                 query: AttentionOperand(base: q.storage.pointer, rowStride: c.embedding, batchStride: 0),
                                 key: AttentionOperand(base: keys, rowStride: c.keyValueWidth, batchStride: 0),
                                 value: AttentionOperand(base: values, rowStride: c.keyValueWidth, batchStride: 0),
                                 out: AttentionOperand(base: out.storage.pointer, rowStride: c.embedding, batchStride: 0),
                                 probabilities: nil)
        return out.linear(weight: block.output)
    }
}

/// The keys and values of one sequence's tokens, per layer, [capacity, Hkv·D] each, in Float32 (the float reference
/// path) or Float16 (the native path, as llama.cpp keeps them: a decode step streams the cache beside the weights,
/// 35 MB per token at 700 positions of SmolLM2 in Float32, half that in Float16).
///
/// The whole capacity is reserved as address space up front (an anonymous mapping without a swap reservation), and
/// the operating system gives a page memory only when a token first reaches it: a short chat with an 8192-token model
/// holds a few megabytes, and the cache never moves, so growing it costs no copy and no moment with two copies.
public final class LlamaCache: @unchecked Sendable {
    public enum Element: Sendable { case float32, float16 }

    public let layers: Int
    public let width: Int
    public let capacity: Int
    public let element: Element
    public internal(set) var length = 0 { didSet { highWater = max(highWater, length) } }
    /// The most tokens ever held (their pages stay resident after a reset).
    private var highWater = 0
    private let base: UnsafeMutableRawPointer
    private let mappedBytes: Int

    init(layers: Int, width: Int, capacity: Int, element: Element = .float32) {
        (self.layers, self.width, self.capacity, self.element) = (layers, width, capacity, element)
        mappedBytes = max(1, 2 * layers * capacity * width * element.byteCount)
        #if canImport(Darwin)
        let flags = MAP_PRIVATE | MAP_ANON
        #else
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #endif
        let region = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let region, region != MAP_FAILED else {
            fatalError("LlamaCache: cannot reserve \(mappedBytes) bytes of address space for \(capacity) tokens × \(layers) layers × \(width)")
        }
        base = region
    }

    deinit { munmap(base, mappedBytes) }

    /// Forgets every token (a new conversation); the memory is kept.
    public func reset() { length = 0 }

    /// Drops the tokens from `position` on (to re-run the end of a context).
    public func truncate(to position: Int) {
        precondition(position >= 0 && position <= length, "LlamaCache.truncate: \(position) outside 0...\(length)")
        length = position
    }

    /// The cache holds room for `capacity` tokens from the start; kept for callers that state what they will use.
    func reserve(_ tokens: Int) {
        precondition(tokens <= capacity, "LlamaCache.reserve: \(tokens) tokens exceed the capacity \(capacity)")
    }

    func store(layer: Int, at position: Int, keys k: Tensor, values v: Tensor) {
        let t = k.shape[0]
        reserve(position + t)
        let (keys, values) = buffers(layer: layer)
        (keys + position * width).update(from: k.storage.pointer, count: t * width)
        (values + position * width).update(from: v.storage.pointer, count: t * width)
    }

    /// Layer `layer`'s keys and values, [capacity, width] each, of a Float32 cache.
    func buffers(layer: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        precondition(element == .float32, "LlamaCache.buffers: the cache holds Float16")
        let floats = base.assumingMemoryBound(to: Float.self), size = capacity * width
        return (floats + 2 * layer * size, floats + (2 * layer + 1) * size)
    }

    /// Layer `layer`'s keys and values as Float16 bit patterns, [capacity, width] each, of a Float16 cache.
    func halfBuffers(layer: Int) -> (UnsafeMutablePointer<UInt16>, UnsafeMutablePointer<UInt16>) {
        precondition(element == .float16, "LlamaCache.halfBuffers: the cache holds Float32")
        let halves = base.assumingMemoryBound(to: UInt16.self), size = capacity * width
        return (halves + 2 * layer * size, halves + (2 * layer + 1) * size)
    }

    /// Bytes of keys and values in memory: every token position ever used.
    public var byteCount: Int { 2 * layers * highWater * width * element.byteCount }
}

extension LlamaCache.Element {
    var byteCount: Int { self == .float32 ? 4 : 2 }
}
