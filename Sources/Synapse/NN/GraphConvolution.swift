/// A graph convolution layer (Kipf & Welling, 2017): H' = Â·H·Wᵀ + b, with Â the graph's normalised adjacency.
///
/// Every node mixes its own features with its neighbours' (and only theirs: Â has entries on edges and the diagonal),
/// then a shared linear map is applied. The activation σ of H' = σ(Â·H·W) is applied by the caller, as with `Linear`.
/// The feature map runs first, so the sparse product works on the smaller of the two widths when the layer narrows.
/// Â is a `SparseMatrix`: the layer costs O(edges × features), never O(N²).
///
/// The weight is laid out [out, in] like `Linear` (PyTorch Geometric's `GCNConv.lin.weight`), Glorot-initialised, and
/// the bias starts at zero.
///
/// ```swift
/// let graph = try Graph(directory: "datasets/karate-club")
/// let a = graph.normalizedAdjacency()
/// let conv = GraphConvolution(34, 16, generator: &rng)
/// let h = conv(graph.features, adjacency: a).tanh()      // [34, 16]
/// ```
public final class GraphConvolution: Module {
    public var weight: Tensor
    public var bias: Tensor?

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputFeatures > 0 && outputFeatures > 0,
                     "GraphConvolution: feature counts must be positive, got \(inputFeatures) → \(outputFeatures)")
        weight = Tensor.xavierUniform([outputFeatures, inputFeatures], generator: &generator).requiringGrad()
        self.bias = bias ? Tensor.zeros([outputFeatures]).requiringGrad() : nil
        super.init()
    }

    public override func members() -> ModuleMembers { .weightAndBias(weight, bias) }

    /// Â·(H·Wᵀ) + b for node features H of shape [N, in] and Â of size N×N.
    public func callAsFunction(_ features: Tensor, adjacency: SparseMatrix) -> Tensor {
        precondition(features.rank == 2 && features.shape[1] == inputFeatures,
                     "GraphConvolution: features of shape \(features.shape) for a layer with \(inputFeatures) inputs")
        precondition(adjacency.rows == adjacency.columns && adjacency.columns == features.shape[0],
                     "GraphConvolution: a \(adjacency.rows)×\(adjacency.columns) adjacency for \(features.shape[0]) nodes")
        let mixed: Tensor
        if outputFeatures <= inputFeatures {
            mixed = adjacency.matmul(features.linear(weight: weight))
        } else {
            mixed = adjacency.matmul(features).linear(weight: weight)
        }
        return bias.map { mixed + $0 } ?? mixed
    }
}
