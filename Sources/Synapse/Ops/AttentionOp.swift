/// Scaled dot-product attention as one fused op: scores, mask, softmax and weighted sum in one kernel per
/// (sequence, head), and the closed-form backward, instead of a chain of matmul/softmax/mask ops and their copies.
///
/// Tensors keep the layout a Linear layer produces, [batch, tokens, heads·headDim], heads side by side, so neither
/// the inputs nor the output are permuted into [batch, heads, tokens, headDim].
extension Tensor {
    /// softmax(Q·Kᵀ/√d + mask)·V per head, for `self` = Q of shape [B, Tq, H·d] and `key`, `value` of shape [B, Tk, H·d].
    ///
    /// - Parameters:
    ///   - heads: H; the last dimension is split into H heads of d = C/H features.
    ///   - causal: query i attends to keys 0...i + Tk − Tq only (a decoder; with a KV cache the queries are the last
    ///     Tq positions).
    ///   - keyLengths: per sequence, the number of real (non-padding) keys; later positions are masked out.
    ///   - scale: multiplies the scores; 1/√d by default.
    ///
    /// ```swift
    /// let y = q.scaledDotProductAttention(key: k, value: v, heads: 4, causal: true)   // [B, T, 128]
    /// ```
    public func scaledDotProductAttention(key: Tensor, value: Tensor, heads: Int, causal: Bool = false,
                                          keyLengths: [Int]? = nil, scale: Float? = nil) -> Tensor {
        precondition(rank == 3 && key.rank == 3 && value.rank == 3,
                     "attention: query, key and value must be [batch, tokens, features], got \(shape), \(key.shape), \(value.shape)")
        let (b, tq, c) = (shape[0], shape[1], shape[2])
        let tk = key.shape[1]
        precondition(key.shape == [b, tk, c] && value.shape == [b, tk, c],
                     "attention: key \(key.shape) and value \(value.shape) must be [\(b), Tk, \(c)] for query \(shape)")
        let g = Tensor.attentionGeometry(batch: b, heads: heads, queryLength: tq, keyLength: tk, features: c,
                                         causal: causal, keyLengths: keyLengths, scale: scale)
        let operand = { (t: Tensor) in AttentionOperand(base: t.storage.pointer, rowStride: c, batchStride: t.shape[1] * c) }
        let out = Tensor(uninitializedShape: [b, tq, c])
        let needsGrad = GradMode.isEnabled && (requiresGrad || key.requiresGrad || value.requiresGrad)
        let probabilities = needsGrad ? Tensor(uninitializedShape: [b * heads, tq, tk]) : nil
        Kernels.attentionForward(g, query: operand(self), key: operand(key), value: operand(value), out: operand(out),
                                 probabilities: probabilities?.storage.pointer)
        guard let probabilities else { return out }
        let (q, k, v) = (detached(), key.detached(), value.detached())
        return Tensor.record(out, op: "attention", inputs: [self, key, value]) { grad in
            let gq = Tensor(uninitializedShape: q.shape), gk = Tensor(uninitializedShape: k.shape)
            let gv = Tensor(uninitializedShape: v.shape)
            Kernels.attentionBackward(g, query: operand(q), key: operand(k), value: operand(v),
                                      probabilities: probabilities.storage.pointer, gradOut: operand(grad),
                                      gradQuery: operand(gq), gradKey: operand(gk), gradValue: operand(gv))
            return [gq, gk, gv]
        }
    }

    /// Attention over sequences packed end to end, without padding: `self` (queries), `key` and `value` are [N, C]
    /// with sequence s in rows offset(s) ..< offset(s) + lengths[s] (offsets are the running sums of `lengths`), and
    /// each sequence attends only within itself — what FlashAttention's variable-length call (cu_seqlens) and
    /// PyTorch's nested tensors do. A batch of sentences of different lengths then costs its real tokens only, where
    /// the padded form pays every sequence at the longest one's length. The result is [N, C]; the same as running
    /// `scaledDotProductAttention` on each sequence alone (or on the padded batch with its key lengths), row for row.
    ///
    /// ```swift
    /// let y = q.packedAttention(key: k, value: v, heads: 12, lengths: [27, 9, 14])   // q, k, v: [50, 384]
    /// ```
    public func packedAttention(key: Tensor, value: Tensor, heads: Int, lengths: [Int], causal: Bool = false,
                                scale: Float? = nil) -> Tensor {
        precondition(rank == 2 && key.shape == shape && value.shape == shape,
                     "packedAttention: query, key and value must be the same [tokens, features], got \(shape), \(key.shape), \(value.shape)")
        let (n, c) = (shape[0], shape[1])
        precondition(lengths.allSatisfy { $0 >= 0 } && lengths.reduce(0, +) == n,
                     "packedAttention: sequence lengths \(lengths) do not add up to the \(n) packed tokens")
        let geometries = lengths.map {
            Tensor.attentionGeometry(batch: 1, heads: heads, queryLength: $0, keyLength: $0, features: c, causal: causal,
                                     keyLengths: nil, scale: scale)
        }
        var offsets = [0], probabilityOffsets = [0]
        for length in lengths {
            offsets.append(offsets.last! + length)
            probabilityOffsets.append(probabilityOffsets.last! + heads * length * length)
        }
        let operand = { (t: Tensor, s: Int) in
            AttentionOperand(base: t.storage.pointer + offsets[s] * c, rowStride: c, batchStride: lengths[s] * c)
        }
        let out = Tensor(uninitializedShape: [n, c])
        let needsGrad = GradMode.isEnabled && (requiresGrad || key.requiresGrad || value.requiresGrad)
        let probabilities = needsGrad ? Tensor(uninitializedShape: [probabilityOffsets.last!]) : nil
        for (s, g) in geometries.enumerated() where lengths[s] > 0 {
            Kernels.attentionForward(g, query: operand(self, s), key: operand(key, s), value: operand(value, s),
                                     out: operand(out, s), probabilities: probabilities.map { $0.storage.pointer + probabilityOffsets[s] })
        }
        guard let probabilities else { return out }
        let (q, k, v) = (detached(), key.detached(), value.detached())
        return Tensor.record(out, op: "packed_attention", inputs: [self, key, value]) { grad in
            let gq = Tensor(uninitializedShape: q.shape), gk = Tensor(uninitializedShape: k.shape)
            let gv = Tensor(uninitializedShape: v.shape)
            for (s, g) in geometries.enumerated() where lengths[s] > 0 {
                Kernels.attentionBackward(g, query: operand(q, s), key: operand(k, s), value: operand(v, s),
                                          probabilities: probabilities.storage.pointer + probabilityOffsets[s],
                                          gradOut: operand(grad, s), gradQuery: operand(gq, s), gradKey: operand(gk, s),
                                          gradValue: operand(gv, s))
            }
            return [gq, gk, gv]
        }
    }

    /// Self-attention straight from a fused projection: `self` is [B, T, 3·C] holding Q, K and V side by side (the
    /// output of one Linear(C, 3·C)); the result is [B, T, C]. The gradient comes back in the same fused layout, so
    /// the projection's backward is a single product too.
    ///
    /// ```swift
    /// let y = qkvProjection(x).fusedSelfAttention(heads: 4, causal: true)
    /// ```
    public func fusedSelfAttention(heads: Int, causal: Bool = false, keyLengths: [Int]? = nil, scale: Float? = nil) -> Tensor {
        precondition(rank == 3 && shape[2] % 3 == 0,
                     "fusedSelfAttention: input must be [batch, tokens, 3·features], got \(shape)")
        let (b, t, c) = (shape[0], shape[1], shape[2] / 3)
        let g = Tensor.attentionGeometry(batch: b, heads: heads, queryLength: t, keyLength: t, features: c,
                                         causal: causal, keyLengths: keyLengths, scale: scale)
        let slice = { (t: Tensor, part: Int) in
            AttentionOperand(base: t.storage.pointer + part * c, rowStride: 3 * c, batchStride: t.shape[1] * 3 * c)
        }
        let out = Tensor(uninitializedShape: [b, t, c])
        let outOperand = AttentionOperand(base: out.storage.pointer, rowStride: c, batchStride: t * c)
        let needsGrad = GradMode.isEnabled && requiresGrad
        let probabilities = needsGrad ? Tensor(uninitializedShape: [b * heads, t, t]) : nil
        Kernels.attentionForward(g, query: slice(self, 0), key: slice(self, 1), value: slice(self, 2), out: outOperand,
                                 probabilities: probabilities?.storage.pointer)
        guard let probabilities else { return out }
        let qkv = detached()
        return Tensor.record(out, op: "fused_attention", inputs: [self]) { grad in
            let gqkv = Tensor(uninitializedShape: qkv.shape)
            let gradOut = AttentionOperand(base: grad.storage.pointer, rowStride: c, batchStride: t * c)
            Kernels.attentionBackward(g, query: slice(qkv, 0), key: slice(qkv, 1), value: slice(qkv, 2),
                                      probabilities: probabilities.storage.pointer, gradOut: gradOut,
                                      gradQuery: slice(gqkv, 0), gradKey: slice(gqkv, 1), gradValue: slice(gqkv, 2))
            return [gqkv]
        }
    }

    /// The same attention as `scaledDotProductAttention`, composed from ordinary ops: the readable reference for the
    /// fused kernel, and its oracle in the tests (outputs and gradients). It materialises [B, H, Tq, Tk] scores and
    /// permuted copies of Q, K and V, which the fused kernel avoids.
    public func referenceAttention(key: Tensor, value: Tensor, heads: Int, causal: Bool = false,
                                   keyLengths: [Int]? = nil, scale: Float? = nil) -> Tensor {
        let (b, tq, c, tk) = (shape[0], shape[1], shape[2], key.shape[1])
        let d = c / heads
        func splitHeads(_ x: Tensor, _ t: Int) -> Tensor { x.reshaped([b, t, heads, d]).permuted([0, 2, 1, 3]) }
        let (q, k, v) = (splitHeads(self, tq), splitHeads(key, tk), splitHeads(value, tk))        // [B, H, T, d]
        let scores = q.matmul(k.transposed()) * (scale ?? 1 / Float(d).squareRoot())            // [B, H, Tq, Tk]
        // Query i (the (i + Tk − Tq)-th position) may see key j if j is not in its future and not padding.
        let visible = (0..<b * tq * tk).map { index -> Float in
            let (s, i, j) = (index / (tq * tk), index / tk % tq, index % tk)
            let future = causal && j > i + tk - tq, padding = keyLengths.map { j >= $0[s] } ?? false
            return future || padding ? 0 : 1
        }
        let mask = Tensor(shape: [b, 1, tq, tk], scalars: visible)
        let weights = Tensor.where(mask, scores, Tensor(-Float.infinity)).softmax(axis: -1)
        return weights.matmul(v).permuted([0, 2, 1, 3]).reshaped([b, tq, c])                     // [B, Tq, C]
    }

    /// Attention for new tokens over a KV cache, without autograd: `projected` is [B, T, 3·C] (the new tokens'
    /// fused Q/K/V, whose K and V thirds are already appended to the cache), `keys` and `values` are
    /// [B, capacity, C] filled up to `length`. The result is [B, T, C].
    static func cachedAttention(projected: Tensor, keys: Tensor, values: Tensor, length: Int, heads: Int,
                                causal: Bool) -> Tensor {
        let (b, t, c) = (projected.shape[0], projected.shape[1], projected.shape[2] / 3)
        let capacity = keys.shape[1]
        let out = Tensor(uninitializedShape: [b, t, c])
        let g = attentionGeometry(batch: b, heads: heads, queryLength: t, keyLength: length, features: c,
                                  causal: causal, keyLengths: nil, scale: nil)
        Kernels.attentionForward(g,
                                 query: AttentionOperand(base: projected.storage.pointer, rowStride: 3 * c, batchStride: t * 3 * c),
                                 key: AttentionOperand(base: keys.storage.pointer, rowStride: c, batchStride: capacity * c),
                                 value: AttentionOperand(base: values.storage.pointer, rowStride: c, batchStride: capacity * c),
                                 out: AttentionOperand(base: out.storage.pointer, rowStride: c, batchStride: t * c),
                                 probabilities: nil)
        return out
    }

    static func attentionGeometry(batch: Int, heads: Int, queryLength: Int, keyLength: Int, features: Int,
                                  causal: Bool, keyLengths: [Int]?, scale: Float?) -> AttentionGeometry {
        precondition(heads > 0 && features % heads == 0, "attention: \(features) features do not split into \(heads) heads")
        if let keyLengths {
            precondition(keyLengths.count == batch, "attention: \(keyLengths.count) key lengths for a batch of \(batch)")
            precondition(keyLengths.allSatisfy { $0 >= 0 && $0 <= keyLength },
                         "attention: key lengths \(keyLengths) must lie in 0...\(keyLength)")
        }
        let headDim = features / heads
        return AttentionGeometry(batch: batch, heads: heads, queryLength: queryLength, keyLength: keyLength,
                                 headDim: headDim, scale: scale ?? 1 / Float(headDim).squareRoot(), causal: causal,
                                 keyLengths: keyLengths)
    }
}

/// Grouped-query attention's sharing, made explicit for the autograd path: each key/value head serves `groups` query
/// heads (Llama 2 70B, Llama 3, SmolLM2). Hugging Face's `repeat_kv` does the same before its attention.
extension Tensor {
    /// [..., Hkv·d] → [..., Hkv·groups·d]: head j's d features copied to heads j·groups ..< (j+1)·groups. The
    /// gradient of each copy adds back into its source head.
    public func repeatingHeads(groups: Int, headDim d: Int) -> Tensor {
        let width = shape.last ?? 0
        precondition(groups >= 1 && d > 0 && width % d == 0,
                     "repeatingHeads: \(shape) does not split into heads of \(d) (groups \(groups))")
        if groups == 1 { return self }
        let rows = count / Swift.max(width, 1), heads = width / d, outWidth = width * groups
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outWidth])
        let (src, dst) = (storage.pointer, out.storage.pointer)
        for r in 0..<rows {
            for h in 0..<heads {
                for g in 0..<groups { (dst + r * outWidth + (h * groups + g) * d).update(from: src + r * width + h * d, count: d) }
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "repeatingHeads", inputs: [self]) { grad in
            let result = Tensor(uninitializedShape: inputShape)
            let (gs, gd) = (grad.storage.pointer, result.storage.pointer)
            for r in 0..<rows {
                for h in 0..<heads {
                    let to = gd + r * width + h * d, first = gs + r * outWidth + h * groups * d
                    to.update(from: first, count: d)
                    for g in 1..<groups {
                        let from = first + g * d
                        for k in 0..<d { to[k] += from[k] }
                    }
                }
            }
            return [result]
        }
    }
}
