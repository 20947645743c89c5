/// A lookup table of learned vectors, one per token (PyTorch's `nn.Embedding`, key `weight`).
///
/// Weights start from N(0, 1) as in PyTorch; the row of `paddingIndex` starts at zero and is never updated by
/// gradients, so padded positions contribute nothing.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let embed = Embedding(65, 128, generator: &rng)
/// let vectors = embed(tokens: [3, 1, 4, 1], shape: [2, 2])   // [2, 2, 128]
/// ```
public final class Embedding: Module {
    public var weight: Tensor
    public let paddingIndex: Int?

    public var vocabularySize: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    public init(_ vocabularySize: Int, _ dimension: Int, paddingIndex: Int? = nil, generator: inout RandomGenerator) {
        precondition(vocabularySize > 0 && dimension > 0,
                     "Embedding: sizes must be positive, got \(vocabularySize) × \(dimension)")
        if let paddingIndex {
            precondition(paddingIndex >= 0 && paddingIndex < vocabularySize,
                         "Embedding: padding index \(paddingIndex) outside 0..<\(vocabularySize)")
        }
        var table = Tensor.randn([vocabularySize, dimension], generator: &generator)
        if let paddingIndex {
            table.withUnsafeMutableBufferPointer { p in
                for k in 0..<dimension { p[paddingIndex * dimension + k] = 0 }
            }
        }
        weight = table.requiringGrad()
        self.paddingIndex = paddingIndex
        super.init()
    }

    /// A table with the given weight [vocabulary, dimension] (made trainable), e.g. loaded from a checkpoint or drawn
    /// with another initialisation (GPT's N(0, 0.02)).
    public init(weight: Tensor, paddingIndex: Int? = nil) {
        precondition(weight.rank == 2, "Embedding: weight must be [vocabulary, dimension], got \(weight.shape)")
        self.weight = weight.detached().requiringGrad()
        self.paddingIndex = paddingIndex
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers(tensors: [("weight", weight)]) }

    /// The vectors of `tokens`, shaped `shape + [dimension]` (`shape` defaults to `[tokens.count]`).
    public func callAsFunction(tokens: [Int], shape: [Int]? = nil) -> Tensor {
        Tensor.embedding(tokens, shape: shape ?? [tokens.count], weight: weight, paddingIndex: paddingIndex)
    }

    /// Token ids stored as Floats (e.g. from a DataLoader), any shape.
    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let tokens = input.scalars.map { Int($0) }
        return Tensor.embedding(tokens, shape: input.shape, weight: weight, paddingIndex: paddingIndex)
    }
}
