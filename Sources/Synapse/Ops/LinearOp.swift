/// The affine map of a dense layer, y = x·Wᵀ + b, fused into one sgemm (W passed transposed as a flag) that adds the
/// bias as it stores (`Kernels.gemm(…, bias:)`), with a backward that computes only the gradients that are needed.
extension Tensor {
    /// `x.linear(weight:bias:)` for x of shape [..., in], weight [out, in] (PyTorch's layout), bias [out].
    ///
    /// ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x, ∂L/∂b = Σ_rows G.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear: weight must be 2-D [out, in], got \(weight.shape)")
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        precondition(rank >= 1 && shape[rank - 1] == inFeatures,
                     "linear: input of shape \(shape) does not end in \(inFeatures) features (weight \(weight.shape))")
        if let bias {
            precondition(bias.shape == [outFeatures], "linear: bias of shape \(bias.shape) for weight \(weight.shape)")
        }
        let rows = count / Swift.max(inFeatures, 1)
        let outShape = Array(shape.dropLast()) + [outFeatures]
        let out = Tensor(uninitializedShape: outShape)
        if let bias {
            Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, storage.pointer,
                         weight.storage.pointer, bias: bias.storage.pointer, out.storage.pointer)
        } else {
            Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, storage.pointer,
                         weight.storage.pointer, out.storage.pointer)
        }
        let (x, w) = (detached(), weight.detached())
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.record(out, op: "linear", inputs: inputs) { g in
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needX {
                let t = Tensor(uninitializedShape: x.shape)
                Kernels.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                             g.storage.pointer, w.storage.pointer, t.storage.pointer)
                gx = t
            }
            if needW {
                let t = Tensor(uninitializedShape: [outFeatures, inFeatures])
                Kernels.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                             g.storage.pointer, x.storage.pointer, t.storage.pointer)
                gw = t
            }
            if needB { gb = g.reshaped([rows, outFeatures]).sum(axis: 0) }
            return needB || bias != nil ? [gx, gw, gb] : [gx, gw]
        }
    }
}
