/// RMSNorm (Zhang & Sennrich 2019), Llama's normalisation: each row divided by its root mean square, then a learned
/// gain,
///
///     y = x·r·w,   r = 1/√(mean(x²) + ε)
///
/// Unlike LayerNorm it neither subtracts the mean nor adds a bias. The fused op makes one pass forward and keeps only
/// x and r for the backward,
///
///     ∂L/∂x = r·(g⊙w) − x·r³·mean(g⊙w⊙x),   ∂L/∂w = Σ_rows g⊙x·r
///
/// where the composition `referenceRMSNorm` (square, mean, add, power, two products) makes five passes and keeps four
/// tensors as large as x; it is the readable reference and the fused op's test oracle.
extension Tensor {
    /// RMSNorm over the last axis with gain `weight` [C], for `self` [..., C].
    public func rmsNorm(weight: Tensor, eps: Float) -> Tensor {
        precondition(rank >= 1 && weight.shape == [shape[rank - 1]], "rmsNorm: weight \(weight.shape) does not fit input \(shape)")
        let width = shape[rank - 1], rows = count / Swift.max(width, 1)
        let out = Tensor(uninitializedShape: shape)
        let inverseRMS = Tensor(uninitializedShape: [rows])
        Kernels.rmsNormForward(storage.pointer, rows: rows, width: width, eps: eps, weight: weight.storage.pointer,
                               out.storage.pointer, inverseRMS: inverseRMS.storage.pointer)
        let (x, w) = (detached(), weight.detached())
        let (needX, needW) = (requiresGrad, weight.requiresGrad)
        return Tensor.record(out, op: "rmsNorm", inputs: [self, weight]) { g in
            var gx: Tensor?, gw: Tensor?
            if needX {
                let t = Tensor(uninitializedShape: x.shape)
                Kernels.rmsNormBackwardInput(x.storage.pointer, g.storage.pointer, rows: rows, width: width,
                                             weight: w.storage.pointer, inverseRMS: inverseRMS.storage.pointer, t.storage.pointer)
                gx = t
            }
            if needW {
                let t = Tensor(uninitializedShape: [width])
                Kernels.rmsNormBackwardWeight(x.storage.pointer, g.storage.pointer, rows: rows, width: width,
                                              inverseRMS: inverseRMS.storage.pointer, t.storage.pointer)
                gw = t
            }
            return [gx, gw]
        }
    }

    /// The same normalisation composed from differentiable ops: the readable reference for `rmsNorm`.
    public func referenceRMSNorm(weight: Tensor, eps: Float) -> Tensor {
        self * (squared().mean(axis: -1, keepDims: true) + eps).pow(-0.5) * weight
    }

    /// silu(self)·up, the gate of Llama's SwiGLU feed-forward, as one op: one pass forward, and the backward keeps
    /// only the two inputs (`silu() * up`, its reference, keeps four tensors of this size).
    public func swiGLU(up: Tensor) -> Tensor {
        precondition(shape == up.shape, "swiGLU: gate \(shape) and up \(up.shape) must have the same shape")
        let out = Tensor(uninitializedShape: shape)
        Kernels.swiGLUForward(gate: storage.pointer, up: up.storage.pointer, out.storage.pointer, count: count)
        let (g, u) = (detached(), up.detached())
        return Tensor.record(out, op: "swiGLU", inputs: [self, up]) { dy in
            let dg = Tensor(uninitializedShape: g.shape), du = Tensor(uninitializedShape: u.shape)
            Kernels.swiGLUBackward(gate: g.storage.pointer, up: u.storage.pointer, gradOutput: dy.storage.pointer,
                                   gradGate: dg.storage.pointer, gradUp: du.storage.pointer, count: g.count)
            return [dg, du]
        }
    }
}
