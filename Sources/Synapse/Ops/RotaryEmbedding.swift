/// Rotary position embeddings (RoPE, Su et al. 2021): with RMSNorm (RMSNormOp.swift), what a Llama block adds to GPT's.
extension Tensor {
    /// Rotates each head's adjacent pairs (x₂ᵢ, x₂ᵢ₊₁) of token t by the angle (start + t)·base^(−2i/headDim):
    ///
    ///     y₂ᵢ   = x₂ᵢ·cos θ − x₂ᵢ₊₁·sin θ
    ///     y₂ᵢ₊₁ = x₂ᵢ·sin θ + x₂ᵢ₊₁·cos θ
    ///
    /// so a query and a key meet at an angle that depends only on how far apart they are. `self` is [T, H·D] (or
    /// [B, T, H·D]); this is ggml's "normal" RoPE, the layout GGUF files store Llama's Q and K weights for (the
    /// converter permutes Hugging Face's rotate-the-two-halves layout into adjacent pairs). The backward pass
    /// rotates the gradient by −θ.
    public func rotaryEmbedding(headDim: Int, start: Int = 0, base: Float = 10_000) -> Tensor {
        precondition(rank >= 2, "rotaryEmbedding: expected [tokens, heads·headDim] or [batch, tokens, heads·headDim], got \(shape)")
        let width = shape[rank - 1], tokens = shape[rank - 2]
        precondition(headDim > 0 && headDim % 2 == 0 && width % headDim == 0,
                     "rotaryEmbedding: rows of \(width) do not split into heads of an even size \(headDim)")
        precondition(start >= 0, "rotaryEmbedding: negative start position \(start)")
        let table = RotaryTable(headDim: headDim, positions: start..<(start + tokens), base: base)
        let out = Tensor(uninitializedShape: shape)
        table.rotate(storage.pointer, into: out.storage.pointer, rows: count / width, width: width, tokens: tokens, inverse: false)
        return Tensor.record(out, op: "rotaryEmbedding", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: g.shape)
            table.rotate(g.storage.pointer, into: grad.storage.pointer, rows: g.count / width, width: width, tokens: tokens, inverse: true)
            return [grad]
        }
    }

}
