/// Collapses dimensions `startAxis...endAxis` into one, as PyTorch's `nn.Flatten` (defaults 1 and −1:
/// [N, C, H, W] → [N, C·H·W]). Shares storage with the input.
///
/// ```swift
/// let model = Sequential(Flatten(), Linear(28 * 28, 10))   // images [N, 1, 28, 28]
/// ```
public final class Flatten: Module {
    public let startAxis: Int
    public let endAxis: Int

    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let start = Shape.normalize(axis: startAxis, rank: input.rank, op: "Flatten")
        let end = Shape.normalize(axis: endAxis, rank: input.rank, op: "Flatten")
        precondition(start <= end, "Flatten: start axis \(startAxis) is after end axis \(endAxis) for shape \(input.shape)")
        let shape = input.shape
        return input.reshaped(Array(shape[..<start]) + [shape[start...end].reduce(1, *)] + Array(shape[(end + 1)...]))
    }
}

/// Returns its input unchanged: a placeholder where a layer is optional.
///
/// ```swift
/// let norm: Module = useNorm ? LayerNorm(64) : Identity()
/// ```
public final class Identity: Module {
    public override init() { super.init() }
    public override func members() -> ModuleMembers { ModuleMembers() }
    public override func callAsFunction(_ input: Tensor) -> Tensor { input }
}
