/// Comparisons give 1 where true and 0 where false (no gradient); `where` selects between two tensors.
extension Tensor {
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(EqualOp.self, a, b, op: "eq") }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(NotEqualOp.self, a, b, op: "ne") }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(LessOp.self, a, b, op: "lt") }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(LessEqualOp.self, a, b, op: "le") }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(GreaterOp.self, a, b, op: "gt") }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { broadcastKernel(GreaterEqualOp.self, a, b, op: "ge") }
    public static func .== (a: Tensor, b: Float) -> Tensor { a .== Tensor(b) }
    public static func .!= (a: Tensor, b: Float) -> Tensor { a .!= Tensor(b) }
    public static func .< (a: Tensor, b: Float) -> Tensor { a .< Tensor(b) }
    public static func .<= (a: Tensor, b: Float) -> Tensor { a .<= Tensor(b) }
    public static func .> (a: Tensor, b: Float) -> Tensor { a .> Tensor(b) }
    public static func .>= (a: Tensor, b: Float) -> Tensor { a .>= Tensor(b) }

    /// Picks `a` where `condition` is non-zero and `b` elsewhere, broadcasting all three (`torch.where`).
    /// The gradient flows to `a` where the condition holds and to `b` elsewhere.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let abShape = Shape.broadcast(a.shape, b.shape, op: "where")
        let outShape = Shape.broadcast(condition.shape, abShape, op: "where")
        let mask = condition.expanded(toShape: outShape)
        let av = a.expanded(toShape: outShape), bv = b.expanded(toShape: outShape)
        let out = Tensor(uninitializedShape: outShape)
        let (m, x, y, o) = (mask.storage.pointer, av.storage.pointer, bv.storage.pointer, out.storage.pointer)
        Parallel.forRanges(out.count) { r in
            for i in r { o[i] = m[i] != 0 ? x[i] : y[i] }
        }
        let (sa, sb) = (a.shape, b.shape)
        return record(out, op: "where", inputs: [a, b]) { g in
            let keep = mask .!= 0
            return [(g * keep).summed(toShape: sa), (g * (1 - keep)).summed(toShape: sb)]
        }
    }
}
