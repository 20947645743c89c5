/// Activation functions: the nonlinearity σ in a = σ(w·x + b), each with its derivative.
extension Tensor {
    /// max(0, x). ∂/∂x = 1 where x > 0, else 0.
    public func relu() -> Tensor {
        let out = mapped(ReluOp.self)
        let x = detached()
        return Tensor.record(out, op: "relu", inputs: [self]) { g in [Tensor.broadcastKernel(ReluBackwardOp.self, x, g, op: "relu")] }
    }

    /// x where x > 0, else slope·x. ∂/∂x = 1 or slope.
    public func leakyRelu(negativeSlope slope: Float = 0.01) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let (src, dst) = (storage.pointer, out.storage.pointer)
        Parallel.forRanges(count) { r in for i in r { let v = src[i]; dst[i] = v > 0 ? v : v * slope } }
        let x = detached()
        return Tensor.record(out, op: "leaky_relu", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: x.shape)
            let (xs, gs, d) = (x.storage.pointer, g.storage.pointer, grad.storage.pointer)
            Parallel.forRanges(x.count) { r in for i in r { d[i] = xs[i] > 0 ? gs[i] : gs[i] * slope } }
            return [grad]
        }
    }

    /// 1 / (1 + e⁻ˣ). ∂/∂x = σ(x)(1 − σ(x)).
    public func sigmoid() -> Tensor {
        let out = mapped(VectorMath.sigmoid)
        let y = out
        return Tensor.record(out, op: "sigmoid", inputs: [self]) { g in [Tensor.broadcastKernel(SigmoidBackwardOp.self, y, g, op: "sigmoid")] }
    }

    /// tanh x. ∂/∂x = 1 − tanh²x.
    public func tanh() -> Tensor {
        let out = mapped(VectorMath.tanh)
        let y = out
        return Tensor.record(out, op: "tanh", inputs: [self]) { g in [Tensor.broadcastKernel(TanhBackwardOp.self, y, g, op: "tanh")] }
    }

    /// How GELU is computed: exactly with erf, or with PyTorch's tanh approximation.
    public enum GELUApproximation: Sendable { case none, tanh }

    /// x·Φ(x), the Gaussian error linear unit (transformer feed-forward blocks).
    public func gelu(approximate: GELUApproximation = .none) -> Tensor {
        if approximate == .none {
            return requiresGrad && GradMode.isEnabled ? geluKeepingCDF() : mapped(VectorMath.geluExact)
        }
        let out = mapped(VectorMath.geluTanh)
        let x = detached()
        return Tensor.record(out, op: "gelu", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: x.shape)
            let (xs, gs, d) = (x.storage.pointer, g.storage.pointer, grad.storage.pointer)
            Parallel.forRanges(x.count) { r in
                let o = r.lowerBound
                VectorMath.geluTanhBackward(x: xs + o, gradOutput: gs + o, gradInput: d + o, count: r.count)
            }
            return [grad]
        }
    }

    /// Exact GELU for training: the forward keeps Φ(x) for the backward, which then evaluates one exp per element
    /// instead of erf and exp (the erf was a visible share of a char-gpt iteration).
    private func geluKeepingCDF() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let cdf = Tensor(uninitializedShape: shape)
        let (xs, ys, cs) = (storage.pointer, out.storage.pointer, cdf.storage.pointer)
        Parallel.forRanges(count) { r in VectorMath.geluExact(xs + r.lowerBound, ys + r.lowerBound, cdf: cs + r.lowerBound, r.count) }
        let x = detached()
        return Tensor.record(out, op: "gelu", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: x.shape)
            let (xs, cs, gs, d) = (x.storage.pointer, cdf.storage.pointer, g.storage.pointer, grad.storage.pointer)
            Parallel.forRanges(x.count) { r in
                let o = r.lowerBound
                VectorMath.geluExactBackward(x: xs + o, cdf: cs + o, gradOutput: gs + o, gradInput: d + o, count: r.count)
            }
            return [grad]
        }
    }

    /// x·σ(x) (also called swish).
    public func silu() -> Tensor {
        let out = mapped(VectorMath.silu)
        let x = detached()
        return Tensor.record(out, op: "silu", inputs: [self]) { g in
            let grad = Tensor(uninitializedShape: x.shape)
            let (xs, gs, d) = (x.storage.pointer, g.storage.pointer, grad.storage.pointer)
            Parallel.forRanges(x.count) { r in
                VectorMath.siluBackward(x: xs + r.lowerBound, gradOutput: gs + r.lowerBound, gradInput: d + r.lowerBound, count: r.count)
            }
            return [grad]
        }
    }
}

enum ReluBackwardOp: BinaryKernel { @inline(__always) static func apply(_ x: Float, _ g: Float) -> Float { x > 0 ? g : 0 } }
enum SigmoidBackwardOp: BinaryKernel { @inline(__always) static func apply(_ y: Float, _ g: Float) -> Float { g * y * (1 - y) } }
enum TanhBackwardOp: BinaryKernel { @inline(__always) static func apply(_ y: Float, _ g: Float) -> Float { g * (1 - y * y) } }
