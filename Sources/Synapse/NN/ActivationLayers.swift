// Activation functions as layers, for use in `Sequential`. Each forwards to the op of the same name on `Tensor`.
//
// ```swift
// let model = Sequential(Linear(2, 4), Tanh(), Linear(4, 1), Sigmoid())
// ```

/// max(0, x).
public final class ReLU: Module {
    public override init() { super.init() }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// x for x > 0, `negativeSlope`·x otherwise (PyTorch's default slope is 0.01).
public final class LeakyReLU: Module {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.leakyRelu(negativeSlope: negativeSlope) }
}

/// 1 / (1 + e⁻ˣ): squashes to (0, 1).
public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// tanh x: squashes to (−1, 1).
public final class Tanh: Module {
    public override init() { super.init() }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// x·Φ(x), exact (erf) or with the tanh approximation: `GELU(approximate: .tanh)`.
public final class GELU: Module {
    public let approximate: Tensor.GELUApproximation
    public init(approximate: Tensor.GELUApproximation = .none) {
        self.approximate = approximate
        super.init()
    }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.gelu(approximate: approximate) }
}

/// x·σ(x), also called swish.
public final class SiLU: Module {
    public override init() { super.init() }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.silu() }
}

/// Softmax along `axis` (the last by default): each slice becomes a probability distribution.
public final class Softmax: Module {
    public let axis: Int
    public init(axis: Int = -1) {
        self.axis = axis
        super.init()
    }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input.softmax(axis: axis) }
}
