/// Graph-level readout: one vector per graph from the vectors of its nodes, for classifying or regressing whole graphs.
///
/// Several graphs can share one node tensor (a batch of graphs stacked node-wise); `graphIndex[i]` says which graph
/// node i belongs to, as in PyTorch Geometric's `global_mean_pool(x, batch)`. The readout is a sparse product with the
/// [graphs, nodes] assignment matrix, so its gradient flows back to every node.
///
/// ```swift
/// let h = conv(graph.features, adjacency: a).relu()         // [N, F]
/// let g = GraphPooling.mean.pool(h)                          // [1, F]: the whole graph
/// let batch = GraphPooling.sum.pool(h, graphIndex: [0, 0, 1, 1, 1], graphCount: 2)   // [2, F]
/// ```
public enum GraphPooling: String, Sendable, CaseIterable {
    /// The average of the graph's node vectors (independent of graph size).
    case mean
    /// The sum of the graph's node vectors (grows with the graph).
    case sum

    /// Pools [N, F] node features into [graphCount, F]. Without `graphIndex` all nodes form one graph.
    public func pool(_ nodes: Tensor, graphIndex: [Int]? = nil, graphCount: Int? = nil) -> Tensor {
        precondition(nodes.rank == 2, "GraphPooling.\(rawValue): expected [nodes, features], got \(nodes.shape)")
        let n = nodes.shape[0]
        let index = graphIndex ?? [Int](repeating: 0, count: n)
        precondition(index.count == n, "GraphPooling.\(rawValue): \(index.count) graph indices for \(n) nodes")
        let graphs = graphCount ?? ((index.max() ?? -1) + 1)
        precondition(index.allSatisfy { $0 >= 0 && $0 < graphs },
                     "GraphPooling.\(rawValue): graph indices must lie in 0..<\(graphs)")
        var sizes = [Int](repeating: 0, count: graphs)
        for g in index { sizes[g] += 1 }
        let entries = index.enumerated().map { node, g in
            (row: g, column: node, value: self == .sum ? Float(1) : 1 / Float(sizes[g]))
        }
        return SparseMatrix(rows: graphs, columns: n, entries: entries).matmul(nodes)
    }
}
