/// The position-wise feed-forward block of a transformer: Linear(C, 4C) → GELU → Linear(4C, C).
///
/// ```swift
/// let mlp = FeedForward(embedding: 128, hidden: 512, bias: false)
/// ```
public final class FeedForward: Module {
    public let fc: Linear
    public let out: Linear
    public let approximation: Tensor.GELUApproximation

    public init(embedding: Int, hidden: Int, bias: Bool = true, approximation: Tensor.GELUApproximation = .none,
                generator: inout RandomGenerator) {
        fc = Linear(embedding, hidden, bias: bias, generator: &generator)
        out = Linear(hidden, embedding, bias: bias, generator: &generator)
        self.approximation = approximation
        super.init()
    }

    /// A block from existing layers (e.g. loaded from a checkpoint).
    public init(fc: Linear, out: Linear, approximation: Tensor.GELUApproximation = .none) {
        precondition(fc.outputFeatures == out.inputFeatures && fc.inputFeatures == out.outputFeatures,
                     "FeedForward: layers \(fc.weight.shape) and \(out.weight.shape) do not chain back to the input width")
        (self.fc, self.out, self.approximation) = (fc, out, approximation)
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers(children: [("fc", fc), ("out", out)]) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        out(fc(input).gelu(approximate: approximation))
    }
}

/// A pre-norm transformer block (GPT-2 style): x + Attention(LN(x)), then x + FeedForward(LN(x)).
///
/// With `causal` it is a decoder block (GPT); without, an encoder block whose batches may be right-padded
/// (`keyLengths`). Normalising before each sub-layer keeps the residual path an identity, which is what lets deep
/// stacks train without warm-up tricks.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let block = TransformerBlock(embedding: 128, heads: 4, bias: false, causal: true, generator: &rng)
/// let y = block(x)                            // [B, T, 128] → [B, T, 128]
/// ```
public final class TransformerBlock: Module {
    public let ln1: LayerNorm
    public let attention: MultiHeadAttention
    public let ln2: LayerNorm
    public let mlp: FeedForward

    public init(embedding: Int, heads: Int, hidden: Int? = nil, bias: Bool = true, causal: Bool = false,
                layerNormEps: Float = 1e-5, generator: inout RandomGenerator) {
        ln1 = LayerNorm(embedding, eps: layerNormEps, bias: bias)
        attention = MultiHeadAttention(embedding: embedding, heads: heads, bias: bias, causal: causal, generator: &generator)
        ln2 = LayerNorm(embedding, eps: layerNormEps, bias: bias)
        mlp = FeedForward(embedding: embedding, hidden: hidden ?? 4 * embedding, bias: bias, generator: &generator)
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("ln1", ln1), ("attention", attention), ("ln2", ln2), ("mlp", mlp)])
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, keyLengths: nil) }

    public func callAsFunction(_ input: Tensor, keyLengths: [Int]?) -> Tensor {
        let x = input + attention(ln1(input), keyLengths: keyLengths)
        return x + mlp(ln2(x))
    }

    /// Inference on new tokens after those held in `cache` (see `MultiHeadAttention.callAsFunction(_:cache:)`).
    public func callAsFunction(_ input: Tensor, cache: KeyValueCache.Layer) -> Tensor {
        noGrad {
            let x = input + attention(ln1(input), cache: cache)
            return x + mlp(ln2(x))
        }
    }
}
