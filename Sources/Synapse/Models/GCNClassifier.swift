/// A node classifier made of graph convolutions: GCN layers with tanh between them produce a node embedding, and a
/// linear layer turns each embedding into class scores.
///
/// With a 2-wide last GCN layer the embedding can be drawn directly (`NodeClassificationTraining` does so).
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let model = GCNClassifier(inputFeatures: 34, hidden: [16, 2], classes: 2, generator: &rng)
/// let logits = model(graph.features, adjacency: graph.normalizedAdjacency())   // [34, 2]
/// ```
public final class GCNClassifier: Module {
    public let convolutions: [GraphConvolution]
    public let classifier: Linear

    public init(inputFeatures: Int, hidden: [Int], classes: Int, generator: inout RandomGenerator) {
        precondition(!hidden.isEmpty, "GCNClassifier: needs at least one hidden GCN layer")
        var layers: [GraphConvolution] = []
        var width = inputFeatures
        for size in hidden {
            layers.append(GraphConvolution(width, size, generator: &generator))
            width = size
        }
        convolutions = layers
        classifier = Linear(width, classes, generator: &generator)
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: convolutions.enumerated().map { ("convolutions.\($0.offset)", $0.element as Module) }
                      + [("classifier", classifier)])
    }

    /// The node embeddings: the output of the last GCN layer, after its tanh. [N, hidden.last]
    public func embed(_ features: Tensor, adjacency: SparseMatrix) -> Tensor {
        var h = features
        for conv in convolutions { h = conv(h, adjacency: adjacency).tanh() }
        return h
    }

    /// Class scores (logits) for every node. [N, classes]
    public func callAsFunction(_ features: Tensor, adjacency: SparseMatrix) -> Tensor {
        classifier(embed(features, adjacency: adjacency))
    }
}
