/// Softmax and log-softmax along an axis, fused into one kernel pass.
extension Tensor {
    /// The [outer, axis, inner] view used by axis-wise kernels.
    func axisView(_ axis: Int, op: String) -> (outer: Int, axis: Int, inner: Int) {
        let a = Shape.normalize(axis: axis, rank: rank, op: op)
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        return (outer, shape[a], inner)
    }

    /// eˣⁱ / Σⱼ eˣʲ along `axis`. ∂/∂x = y ⊙ (g − Σ g⊙y).
    public func softmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "softmax: needs at least one dimension, got a scalar")
        let v = axisView(axis, op: "softmax")
        let out = Tensor(uninitializedShape: shape)
        Kernels.softmax(storage.pointer, outer: v.outer, axis: v.axis, inner: v.inner, out.storage.pointer, log: false)
        let y = out
        return Tensor.record(out, op: "softmax", inputs: [self]) { g in
            [y * (g - (g * y).sum(axis: axis, keepDims: true))]
        }
    }

    /// xᵢ − log Σⱼ eˣʲ along `axis`, computed stably. ∂/∂x = g − softmax(x) ⊙ Σ g.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        precondition(rank > 0, "logSoftmax: needs at least one dimension, got a scalar")
        let v = axisView(axis, op: "logSoftmax")
        let out = Tensor(uninitializedShape: shape)
        Kernels.softmax(storage.pointer, outer: v.outer, axis: v.axis, inner: v.inner, out.storage.pointer, log: true)
        let y = out
        return Tensor.record(out, op: "log_softmax", inputs: [self]) { g in
            [g - y.exp() * g.sum(axis: axis, keepDims: true)]
        }
    }
}
