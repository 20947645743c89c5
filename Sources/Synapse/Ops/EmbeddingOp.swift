/// Table lookup for token embeddings, with the gradient scattered back into the looked-up rows.
extension Tensor {
    /// Rows of `weight` [vocabulary, dimension] picked by `indices`, shaped `indexShape + [dimension]`.
    ///
    /// Rows whose index is `paddingIndex` receive no gradient (PyTorch's `padding_idx`).
    ///
    /// ```swift
    /// let e = Tensor.embedding([1, 0, 2, 2], shape: [2, 2], weight: table)   // [2, 2, D]
    /// ```
    public static func embedding(_ indices: [Int], shape indexShape: [Int], weight: Tensor,
                                 paddingIndex: Int? = nil) -> Tensor {
        precondition(weight.rank == 2, "embedding: weight must be [vocabulary, dimension], got \(weight.shape)")
        precondition(indexShape.reduce(1, *) == indices.count,
                     "embedding: \(indices.count) indices do not fill shape \(indexShape)")
        let (vocabulary, d) = (weight.shape[0], weight.shape[1])
        let out = Tensor(uninitializedShape: indexShape + [d])
        let (w, o) = (weight.storage.pointer, out.storage.pointer)
        for (r, index) in indices.enumerated() {
            precondition(index >= 0 && index < vocabulary,
                         "embedding: index \(index) out of range for a table of \(vocabulary) rows")
            (o + r * d).update(from: w + index * d, count: d)
        }
        return Tensor.record(out, op: "embedding", inputs: [weight]) { g in
            let grad = Tensor.zeros([vocabulary, d])
            let (gp, gs) = (grad.storage.pointer, g.storage.pointer)
            for (r, index) in indices.enumerated() where index != paddingIndex {
                let (to, from) = (gp + index * d, gs + r * d)
                for k in 0..<d { to[k] += from[k] }
            }
            return [grad]
        }
    }
}
