/// Multi-head self-attention with one fused Q/K/V projection: `qkv` maps C features to 3·C, the fused attention op
/// (`Tensor.fusedSelfAttention`) mixes the tokens, and `proj` maps the heads back to C features.
///
/// Inputs are [batch, tokens, C]. `causal` makes it a decoder layer (a token sees only earlier tokens);
/// `keyLengths` masks right padding in encoder batches. For generation, `callAsFunction(_:cache:)` appends the new
/// tokens' keys and values to a `KeyValueCache.Layer` and attends over everything cached so far.
///
/// ```swift
/// let attention = MultiHeadAttention(embedding: 128, heads: 4, bias: false, causal: true)
/// let y = attention(x)                         // [B, T, 128]
/// ```
public final class MultiHeadAttention: Module {
    public let qkv: Linear
    public let proj: Linear
    public let heads: Int
    public let causal: Bool

    public var embedding: Int { proj.outputFeatures }

    public init(embedding: Int, heads: Int, bias: Bool = true, causal: Bool = false, generator: inout RandomGenerator) {
        precondition(heads > 0 && embedding % heads == 0, "MultiHeadAttention: \(embedding) features do not split into \(heads) heads")
        qkv = Linear(embedding, 3 * embedding, bias: bias, generator: &generator)
        proj = Linear(embedding, embedding, bias: bias, generator: &generator)
        self.heads = heads
        self.causal = causal
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers(children: [("qkv", qkv), ("proj", proj)]) }

    public override func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, keyLengths: nil) }

    public func callAsFunction(_ input: Tensor, keyLengths: [Int]?) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == embedding,
                     "MultiHeadAttention: input must be [batch, tokens, \(embedding)], got \(input.shape)")
        return proj(qkv(input).fusedSelfAttention(heads: heads, causal: causal, keyLengths: keyLengths))
    }

    /// Inference with a KV cache: `input` holds only the new tokens, which follow the `cache.length` tokens already
    /// cached. Nothing is recorded for autograd.
    public func callAsFunction(_ input: Tensor, cache: KeyValueCache.Layer) -> Tensor {
        noGrad {
            let (b, t, c) = (input.shape[0], input.shape[1], embedding)
            precondition(b == cache.batch && c == cache.features,
                         "MultiHeadAttention: input \(input.shape) does not fit a cache of batch \(cache.batch), \(cache.features) features")
            precondition(cache.length + t <= cache.capacity,
                         "MultiHeadAttention: \(cache.length) cached + \(t) new tokens exceed the cache capacity \(cache.capacity)")
            let projected = qkv(input)
            cache.append(fusedQKV: projected)
            let out = Tensor.cachedAttention(projected: projected, keys: cache.keys, values: cache.values,
                                             length: cache.length, heads: heads, causal: causal)
            return proj(out)
        }
    }
}

/// The keys and values of the tokens generated so far, one `Layer` per attention layer, so each new token costs
/// one token's worth of projections instead of re-running the whole context.
///
/// ```swift
/// let cache = KeyValueCache(layers: 4, batch: 1, capacity: 64, features: 128)
/// ```
public final class KeyValueCache {
    /// One layer's keys and values, [batch, capacity, features] each, filled up to `length`.
    public final class Layer {
        public let batch: Int
        public let capacity: Int
        public let features: Int
        public internal(set) var length = 0
        let keys: Tensor
        let values: Tensor

        init(batch: Int, capacity: Int, features: Int) {
            (self.batch, self.capacity, self.features) = (batch, capacity, features)
            keys = Tensor.zeros([batch, capacity, features])
            values = Tensor.zeros([batch, capacity, features])
        }

        /// Copies the K and V thirds of a fused projection [batch, t, 3·features] behind the cached tokens.
        func append(fusedQKV projected: Tensor) {
            let t = projected.shape[1], c = features
            let (src, k, v) = (projected.storage.pointer, keys.storage.pointer, values.storage.pointer)
            for b in 0..<batch {
                for i in 0..<t {
                    let row = src + (b * t + i) * 3 * c
                    let slot = (b * capacity + length + i) * c
                    (k + slot).update(from: row + c, count: c)
                    (v + slot).update(from: row + 2 * c, count: c)
                }
            }
            length += t
        }
    }

    public let layers: [Layer]

    public init(layers: Int, batch: Int, capacity: Int, features: Int) {
        self.layers = (0..<layers).map { _ in Layer(batch: batch, capacity: capacity, features: features) }
    }

    /// The number of tokens cached (the same in every layer).
    public var length: Int { layers.first?.length ?? 0 }

    /// Forgets every cached token.
    public func reset() { for layer in layers { layer.length = 0 } }
}
