/// Matrix products on BLAS. The backward pass passes transposes to sgemm as flags instead of copying:
/// for C = A·B, ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G.
extension Tensor {
    /// Matrix product with PyTorch's rules: 2-D × 2-D; 1-D operands are promoted to a row/column and the added
    /// dimension removed; ≥ 3-D operands are batches of matrices whose batch dimensions broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 1 && other.rank >= 1, "matmul: needs at least 1-D operands, got \(shape) and \(other.shape)")
        if rank == 1 { return unsqueezed(axis: 0).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return matmul(other.unsqueezed(axis: 1)).squeezed(axis: -1) }
        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        precondition(k == k2, "matmul: inner dimensions differ: \(shape) × \(other.shape)")
        if rank == 2 && other.rank == 2 { return Tensor.matmul2D(self, other) }
        if other.rank == 2 {
            // A batch of matrices times one matrix is one tall product: fold the batch into the rows.
            let batch = Array(shape.dropLast(2))
            return Tensor.matmul2D(reshaped([-1, k]), other).reshaped(batch + [m, n])
        }
        return Tensor.batchedMatmul(self, other)
    }

    /// `a.matmul(b)` as a free function.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { a.matmul(b) }

    /// [m, k] · [k, n].
    static func matmul2D(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        let out = Tensor(uninitializedShape: [m, n])
        Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a.storage.pointer, b.storage.pointer, out.storage.pointer)
        let (ad, bd, needA, needB) = (a.detached(), b.detached(), a.requiresGrad, b.requiresGrad)
        return record(out, op: "matmul", inputs: [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            if needA {
                let t = Tensor(uninitializedShape: [m, k])  // G·Bᵀ
                Kernels.gemm(transposeA: false, transposeB: true, m: m, n: k, k: n, g.storage.pointer, bd.storage.pointer, t.storage.pointer)
                ga = t
            }
            if needB {
                let t = Tensor(uninitializedShape: [k, n])  // Aᵀ·G
                Kernels.gemm(transposeA: true, transposeB: false, m: k, n: n, k: m, ad.storage.pointer, g.storage.pointer, t.storage.pointer)
                gb = t
            }
            return [ga, gb]
        }
    }

    /// [..., m, k] · [..., k, n] with broadcast batch dimensions: one sgemm per matrix pair.
    static func batchedMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let batchShape = Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
        let ae = a.detached().expanded(toShape: batchShape + [m, k])
        let be = b.detached().expanded(toShape: batchShape + [k, n])
        let batches = batchShape.reduce(1, *)
        let out = Tensor(uninitializedShape: batchShape + [m, n])
        let (ap, bp, cp) = (ae.storage.pointer, be.storage.pointer, out.storage.pointer)
        for i in 0..<batches {
            Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, ap + i * m * k, bp + i * k * n, cp + i * m * n)
        }
        let (shapeA, shapeB, needA, needB) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        return record(out, op: "matmul", inputs: [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            // Read the saved operands through the tensors captured here, which keep their storage alive.
            let (gp, ap, bp) = (g.storage.pointer, ae.storage.pointer, be.storage.pointer)
            if needA {
                let t = Tensor(uninitializedShape: batchShape + [m, k])
                for i in 0..<batches {
                    Kernels.gemm(transposeA: false, transposeB: true, m: m, n: k, k: n, gp + i * m * n, bp + i * k * n, t.storage.pointer + i * m * k)
                }
                ga = t.summed(toShape: shapeA)
            }
            if needB {
                let t = Tensor(uninitializedShape: batchShape + [k, n])
                for i in 0..<batches {
                    Kernels.gemm(transposeA: true, transposeB: false, m: k, n: n, k: m, ap + i * m * k, gp + i * m * n, t.storage.pointer + i * k * n)
                }
                gb = t.summed(toShape: shapeB)
            }
            return [ga, gb]
        }
    }
}
