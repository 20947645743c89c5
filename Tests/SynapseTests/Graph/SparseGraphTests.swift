import Foundation
import Testing
@testable import Synapse

/// The sparse product and the GCN layer against dense references and finite differences; the graph's normalisation.
@Suite(.synapseRuntime) struct SparseGraphTests {
    /// A 5-node graph: a path 0-1-2-3 plus the edge 1-3, and node 4 isolated.
    static let small = Graph(nodeIDs: ["a", "b", "c", "d", "e"], edges: [(0, 1), (1, 2), (2, 3), (1, 3)])

    @Test func csrMergesDuplicatesAndRoundTripsThroughDense() {
        let a = SparseMatrix(rows: 3, columns: 4, entries: [(2, 0, 1), (0, 3, 2), (0, 1, -1), (2, 0, 0.5), (1, 2, 4)])
        #expect(a.nonZeroCount == 4)
        #expect(a.rowOffsets == [0, 2, 3, 4])
        #expect(a.columnIndices == [1, 3, 2, 0])
        #expect(a.dense().scalars == [0, -1, 0, 2, 0, 0, 4, 0, 1.5, 0, 0, 0])
        #expect(a.transposed.dense().scalars == a.dense().transposed().scalars)
        #expect(SparseMatrix(dense: a.dense()).values == a.values)
    }

    @Test func sparseProductMatchesDenseAndItsGradientIsATransposedProduct() {
        var rng = RandomGenerator(seed: 3)
        let dense = Tensor.randn([6, 5], generator: &rng) * (Tensor.uniform([6, 5], generator: &rng) .> 0.6)
        let a = SparseMatrix(dense: dense)
        let x = Tensor.randn([5, 3], generator: &rng)
        let sparse = a.matmul(x).scalars, reference = dense.matmul(x).scalars
        for (s, r) in zip(sparse, reference) { #expect(abs(s - r) < 1e-5) }
        #expect(a.matmul(Tensor([1, 2, 3, 4, 5])).shape == [6])

        let weights = Tensor.randn([6, 3], generator: &rng)
        let report = GradCheck.check([x]) { v in (a.matmul(v[0]) * weights).sum() }
        #expect(report.passed, "\(report)")
        // The analytic gradient is exactly Aᵀ·G.
        let leaf = x.requiringGrad()
        (a.matmul(leaf) * weights).sum().backward()
        let expected = dense.transposed().matmul(weights).scalars
        for (g, e) in zip(leaf.grad!.scalars, expected) { #expect(abs(g - e) < 1e-5) }
    }

    @Test func normalizedAdjacencyIsSymmetricRenormalisation() {
        let graph = Self.small
        #expect(graph.degrees == [1, 3, 2, 2, 0])
        let a = graph.normalizedAdjacency().dense()
        // Dense reference: D^−½ (A + I) D^−½ with D the degrees of A + I.
        let ai = graph.adjacency(selfLoops: true).dense()
        let d = ai.sum(axis: 1).pow(-0.5)
        let reference = d.reshaped([5, 1]) * ai * d.reshaped([1, 5])
        for (x, y) in zip(a.scalars, reference.scalars) { #expect(abs(x - y) < 1e-6) }
        #expect(abs(a[0, 1] - 1 / (2 * 4).squareRoot()) < 1e-6)
        #expect(a[4, 4] == 1)        // an isolated node keeps its own features
        #expect(a[0, 2] == 0)        // no edge, no entry
        #expect(graph.normalizedAdjacency().nonZeroCount == 5 + 2 * 4)
    }

    @Test func graphConvolutionMatchesDenseReferenceAndGradChecks() {
        var rng = RandomGenerator(seed: 5)
        let graph = Self.small
        let adjacency = graph.normalizedAdjacency()
        let denseA = adjacency.dense()
        for (input, output) in [(4, 3), (2, 6)] {   // both orders of the product
            let conv = GraphConvolution(input, output, generator: &rng)
            conv.bias = Tensor.randn([output], generator: &rng).requiringGrad()
            let h = Tensor.randn([5, input], generator: &rng)
            let y = conv(h, adjacency: adjacency)
            let reference = denseA.matmul(h).matmul(conv.weight.detached().transposed()) + conv.bias!.detached()
            for (a, b) in zip(y.scalars, reference.scalars) { #expect(abs(a - b) < 1e-5) }

            let target = Tensor.randn([5, output], generator: &rng)
            let report = GradCheck.check([h, conv.weight, conv.bias!]) { v in
                let z = adjacency.matmul(v[0].linear(weight: v[1])) + v[2]
                return (z.tanh() * target).sum()
            }
            #expect(report.passed, "\(input)→\(output): \(report)")
        }
    }

    @Test func poolingAveragesOrSumsEachGraphsNodes() {
        let nodes = Tensor([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])
        #expect(GraphPooling.mean.pool(nodes).scalars == [5, 6])
        #expect(GraphPooling.sum.pool(nodes, graphIndex: [0, 0, 1, 1, 1]).scalars == [4, 6, 21, 24])
        #expect(GraphPooling.mean.pool(nodes, graphIndex: [0, 0, 1, 1, 1]).scalars == [2, 3, 7, 8])
        let report = GradCheck.check([nodes]) { v in
            (GraphPooling.mean.pool(v[0], graphIndex: [1, 0, 1, 0, 1]) * Tensor([[1, -2], [3, 0.5]])).sum()
        }
        #expect(report.passed, "\(report)")
    }

    @Test func karateClubIsSplitFromOneLabelPerFaction() throws {
        let club = try Graph(directory: packageRoot + "/datasets/karate-club")
        #expect(club.nodeCount == 34 && club.edges.count == 78)
        #expect(club.classNames == ["Mr. Hi", "Officer"])
        #expect(club.features.shape == [34, 34])
        let run = try NodeClassificationTraining(options: .init(epochs: 100, seed: 1)).run(on: club, trainNodes: [0, 33])
        #expect(run.evaluationNodes.count == 32)
        #expect(run.accuracy >= 0.9, "accuracy \(run.accuracy)")
        #expect(run.losses.last! < run.losses.first!)
        let svg = run.embeddingChart(graph: club, title: "karate").svg()
        #expect(svg.contains("Officer") && svg.components(separatedBy: "<circle").count > 34)
    }
}

/// Graph CSV files that are wrong in the ways people get them wrong.
@Suite(.synapseRuntime) struct GraphCSVTests {
    func read(nodes: String, edges: String) throws -> Graph {
        let dir = TemporaryDirectory()
        return try Graph(nodesFile: dir.write("nodes.csv", text: nodes), edgesFile: dir.write("edges.csv", text: edges))
    }

    func expectError(nodes: String, edges: String, _ check: (GraphError) -> Bool, _ text: String) {
        do {
            _ = try read(nodes: nodes, edges: edges)
            Issue.record("expected an error containing '\(text)'")
        } catch let error as GraphError {
            #expect(check(error), "\(error)")
            #expect(error.description.contains(text), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func featuresLabelsAndDuplicateEdgesAreRead() throws {
        let graph = try read(nodes: "id,label,x,y\nn1,cat,1,2\nn2,,3,4\nn3,dog,5,6\n",
                             edges: "source,target\nn1,n2\nn2,n1\nn2,n3\nn1,n2\n")
        #expect(graph.features.scalars == [1, 2, 3, 4, 5, 6])
        #expect(graph.featureNames == ["x", "y"])
        #expect(graph.labels == [0, nil, 1])
        #expect(graph.edges == [Graph.Edge(0, 1), Graph.Edge(1, 2)])
        #expect(graph.duplicateEdgeCount == 2)
        #expect(graph.labelledNodes == [0, 2])
    }

    @Test func badFilesGiveClearErrors() {
        let nodes = "id,label,x\na,p,1\nb,q,2\n"
        expectError(nodes: nodes, edges: "source,target\na,b\na,zz\n", {
            if case .unknownNode(_, 3, "zz", _) = $0 { return true } else { return false }
        }, "unknown node 'zz'")
        expectError(nodes: nodes, edges: "source,target\nb,b\n", {
            if case .selfLoop(_, 2, "b") = $0 { return true } else { return false }
        }, "to itself")
        expectError(nodes: "id,x\na,1\nb,seven\n", edges: "source,target\n", {
            if case .nonNumericFeature(_, 3, "x", "seven") = $0 { return true } else { return false }
        }, "not a finite number")
        expectError(nodes: "id,x\na,1\na,2\n", edges: "source,target\n", {
            if case .duplicateNode(_, 3, "a", 2) = $0 { return true } else { return false }
        }, "already defined")
        expectError(nodes: "id,label\n", edges: "source,target\n", {
            if case .noNodes = $0 { return true } else { return false }
        }, "no nodes")
        #expect(throws: CSVError.self) { _ = try read(nodes: "name,label\na,p\n", edges: "source,target\n") }
    }

    /// Without feature columns the features are one-hot, N × N: a graph past the limit is refused with the size it
    /// would need and what to do, before the matrix (or the edges) is touched. One node fewer is read.
    @Test func oneHotFeaturesHaveALimit() throws {
        let limit = Graph.maximumOneHotNodes
        func nodes(_ count: Int) -> String { "id,label\n" + (0..<count).map { "n\($0),\($0 % 2)\n" }.joined() }
        expectError(nodes: nodes(limit + 1), edges: "source,target\nn0,n1\n", {
            if case .tooManyNodesForOneHot(_, limit + 1, limit) = $0 { return true } else { return false }
        }, "add feature columns")
        let small = try read(nodes: nodes(100), edges: "source,target\nn0,n1\n")
        #expect(small.features.shape == [100, 100])
    }
}
