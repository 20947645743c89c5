#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Arithmetic with broadcasting, each op's forward rule next to its derivative.
extension Tensor {
    // MARK: + − × ÷

    /// a + b. ∂/∂a = 1, ∂/∂b = 1 (summed back over broadcast axes).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(AddOp.self, a, b, op: "add")
        let (sa, sb) = (a.shape, b.shape)
        return record(out, op: "add", inputs: [a, b]) { g in [g.summed(toShape: sa), g.summed(toShape: sb)] }
    }

    /// a − b. ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(SubOp.self, a, b, op: "sub")
        let (sa, sb, needB) = (a.shape, b.shape, b.requiresGrad)
        return record(out, op: "sub", inputs: [a, b]) { g in [g.summed(toShape: sa), needB ? (-g).summed(toShape: sb) : nil] }
    }

    /// a · b elementwise. ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(MulOp.self, a, b, op: "mul")
        let (ad, bd, needA, needB) = (a.detached(), b.detached(), a.requiresGrad, b.requiresGrad)
        return record(out, op: "mul", inputs: [a, b]) { g in
            [needA ? (g * bd).summed(toShape: ad.shape) : nil, needB ? (g * ad).summed(toShape: bd.shape) : nil]
        }
    }

    /// a / b elementwise. ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(DivOp.self, a, b, op: "div")
        let (ad, bd, needA, needB) = (a.detached(), b.detached(), a.requiresGrad, b.requiresGrad)
        return record(out, op: "div", inputs: [a, b]) { g in
            [needA ? (g / bd).summed(toShape: ad.shape) : nil,
             needB ? (-(g * ad) / (bd * bd)).summed(toShape: bd.shape) : nil]
        }
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    public static func += (a: inout Tensor, b: Float) { a = a + b }
    public static func -= (a: inout Tensor, b: Float) { a = a - b }
    public static func *= (a: inout Tensor, b: Float) { a = a * b }
    public static func /= (a: inout Tensor, b: Float) { a = a / b }

    /// −a. ∂/∂a = −1.
    public static prefix func - (a: Tensor) -> Tensor {
        let out = a.mapped(NegOp.self)
        return record(out, op: "neg", inputs: [a]) { g in [-g] }
    }

    // MARK: Powers, roots, exponentials

    /// aᵖ for a constant exponent. ∂/∂a = p·aᵖ⁻¹.
    public func pow(_ exponent: Float) -> Tensor {
        let out: Tensor
        if exponent == 2 { out = mapped(SquareOp.self) } else if exponent == 1 { out = detached() } else {
            out = Tensor.broadcastKernel(PowOp.self, self, Tensor(exponent), op: "pow")
        }
        let x = detached()
        return Tensor.record(out, op: "pow", inputs: [self]) { g in
            [exponent == 2 ? g * x * 2 : g * (x.pow(exponent - 1) * exponent)]
        }
    }

    /// aᵇ elementwise. ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·ln a.
    public func pow(_ exponent: Tensor) -> Tensor {
        let out = Tensor.broadcastKernel(PowOp.self, self, exponent, op: "pow")
        let (x, e, y) = (detached(), exponent.detached(), out)
        let (needX, needE) = (requiresGrad, exponent.requiresGrad)
        return Tensor.record(out, op: "pow", inputs: [self, exponent]) { g in
            [needX ? (g * e * x.pow(e - 1)).summed(toShape: x.shape) : nil,
             needE ? (g * y * x.log()).summed(toShape: e.shape) : nil]
        }
    }

    /// √a. ∂/∂a = 1 / (2√a).
    public func sqrt() -> Tensor {
        let out = mapped(SqrtOp.self)
        let y = out
        return Tensor.record(out, op: "sqrt", inputs: [self]) { g in [g / (y * 2)] }
    }

    /// eᵃ. ∂/∂a = eᵃ, the output itself.
    public func exp() -> Tensor {
        let out = mapped(VectorMath.exp)
        let y = out
        return Tensor.record(out, op: "exp", inputs: [self]) { g in [g * y] }
    }

    /// ln a. ∂/∂a = 1/a.
    public func log() -> Tensor {
        let out = mapped(VectorMath.log)
        let x = detached()
        return Tensor.record(out, op: "log", inputs: [self]) { g in [g / x] }
    }

    /// |a|. ∂/∂a = sign(a) (0 at 0, as in PyTorch).
    public func abs() -> Tensor {
        let out = mapped(AbsOp.self)
        let x = detached()
        return Tensor.record(out, op: "abs", inputs: [self]) { g in [g * x.mapped(SignOp.self)] }
    }

    /// a² elementwise.
    public func squared() -> Tensor { pow(2) }

    // MARK: Clamping and elementwise extrema

    /// Limits every element to [min, max]. The gradient passes where min ≤ a ≤ max.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        precondition(!(lower > upper), "clamp: min \(lower) is greater than max \(upper)")
        var out = Tensor(uninitializedShape: shape)
        let src = storage.pointer
        out.withUnsafeMutableBufferPointer { dst in
            let d = dst.baseAddress!
            Parallel.forRanges(count) { r in
                for i in r { let v = src[i]; d[i] = v < lower ? lower : (v > upper ? upper : v) }
            }
        }
        let x = detached()
        return Tensor.record(out, op: "clamp", inputs: [self]) { g in
            [g * ((x .>= Tensor(lower)) * (x .<= Tensor(upper)))]
        }
    }

    /// Elementwise maximum. At ties the gradient is split evenly, as in PyTorch.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastKernel(MaxOp.self, a, b, op: "maximum")
        return extremumGrad(out, a, b, op: "maximum", aWins: a.detached() .> b.detached())
    }

    /// Elementwise minimum. At ties the gradient is split evenly, as in PyTorch.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastKernel(MinOp.self, a, b, op: "minimum")
        return extremumGrad(out, a, b, op: "minimum", aWins: a.detached() .< b.detached())
    }

    private static func extremumGrad(_ out: Tensor, _ a: Tensor, _ b: Tensor, op: String, aWins: Tensor) -> Tensor {
        let (ad, bd) = (a.detached(), b.detached())
        return record(out, op: op, inputs: [a, b]) { g in
            let ties = (ad .== bd) * 0.5
            let aShare = aWins + ties
            return [(g * aShare).summed(toShape: ad.shape), (g * (1 - aShare)).summed(toShape: bd.shape)]
        }
    }
}
