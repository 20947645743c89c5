import Foundation

/// An undirected graph whose nodes carry feature vectors and, optionally, class labels: the input of a graph network.
///
/// In a graph network a node's neurons connect only to its neighbours, so what the model needs from the graph is its
/// edge list, turned into the sparse normalised adjacency Â = D^−½(A + I)D^−½ (`normalizedAdjacency()`).
///
/// Read from two CSV files:
/// - nodes: a header `id[,label][,feature…]`, one row per node. `id` is any text. `label` (optional; the column
///   name is configurable) is a class name, empty for an unlabelled node. Every other column is a numeric feature.
///   Without feature columns each node gets a one-hot identity feature (the usual choice for a bare graph).
/// - edges: a header `source,target` (the first two columns are used), one row per edge, by node id.
///
/// Edges are undirected. A repeated edge, in either direction, is the same edge and is kept once
/// (`duplicateEdgeCount` says how many rows were merged). An unknown node id, an edge from a node to itself,
/// a duplicate node id or a non-numeric feature throws a `GraphError` naming the file and line.
///
/// ```swift
/// let club = try Graph(nodesFile: "datasets/karate-club/nodes.csv", edgesFile: "datasets/karate-club/edges.csv")
/// club.nodeCount                     // 34
/// club.edges.count                   // 78
/// let a = club.normalizedAdjacency() // 34×34 sparse, 34 + 2·78 entries
/// ```
public struct Graph: Sendable {
    /// An undirected edge between node indices, stored with `a < b`.
    public struct Edge: Hashable, Sendable {
        public let a: Int
        public let b: Int
        public init(_ a: Int, _ b: Int) {
            self.a = Swift.min(a, b)
            self.b = Swift.max(a, b)
        }
    }

    /// The node ids as written in the file; node i of every tensor is `nodeIDs[i]`.
    public let nodeIDs: [String]
    /// [N, F] node features.
    public let features: Tensor
    /// The names of the feature columns (`["onehot"]`-style names are not invented: empty when features are one-hot).
    public let featureNames: [String]
    /// The class of each node, as an index into `classNames`; `nil` for unlabelled nodes.
    public let labels: [Int?]
    /// The distinct class names, in order of first appearance.
    public let classNames: [String]
    /// Unique undirected edges, sorted.
    public let edges: [Edge]
    /// How many edge rows repeated an edge already seen (in either direction) and were merged.
    public let duplicateEdgeCount: Int

    public var nodeCount: Int { nodeIDs.count }

    /// The most nodes a graph without feature columns may have: its one-hot features are dense, N × N floats
    /// (16384 nodes: 1 GiB).
    public static let maximumOneHotNodes = 16_384

    /// A graph from node indices. Edges are made undirected and unique; self-loops are not allowed here either.
    public init(nodeIDs: [String], features: Tensor? = nil, featureNames: [String] = [], labels: [Int?]? = nil,
                classNames: [String] = [], edges: [(Int, Int)]) {
        let n = nodeIDs.count
        let features = features ?? Tensor.identity(n)
        precondition(features.rank == 2 && features.shape[0] == n,
                     "Graph: features of shape \(features.shape) for \(n) nodes")
        var seen = Set<Edge>()
        var unique: [Edge] = []
        for (a, b) in edges {
            precondition(a >= 0 && a < n && b >= 0 && b < n, "Graph: edge (\(a), \(b)) outside 0..<\(n)")
            precondition(a != b, "Graph: self-loop at node \(a); the GCN adds self-loops itself")
            let edge = Edge(a, b)
            if seen.insert(edge).inserted { unique.append(edge) }
        }
        self.nodeIDs = nodeIDs
        self.features = features
        self.featureNames = featureNames
        self.labels = labels ?? [Int?](repeating: nil, count: n)
        self.classNames = classNames
        self.edges = unique.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
        self.duplicateEdgeCount = edges.count - unique.count
    }

    /// Reads a graph from a nodes CSV and an edges CSV (see the type's documentation for the format).
    public init(nodesFile: String, edgesFile: String, labelColumn: String = "label") throws {
        let nodes = try CSVTable(contentsOfFile: nodesFile)
        let edgeTable = try CSVTable(contentsOfFile: edgesFile)
        guard !nodes.rows.isEmpty else { throw GraphError.noNodes(path: nodesFile) }
        let idColumn = try nodes.columnIndex("id")
        let labelIndex = try? nodes.columnIndex(labelColumn)
        let featureColumns = nodes.header.indices.filter { $0 != idColumn && $0 != labelIndex }

        var ids: [String] = []
        var indexOf: [String: (index: Int, line: Int)] = [:]
        var classNames: [String] = []
        var labels: [Int?] = []
        var values: [Float] = []
        for (row, line) in zip(nodes.rows, nodes.lineNumbers) {
            let id = row[idColumn]
            guard !id.isEmpty else { throw GraphError.emptyNodeID(path: nodesFile, line: line) }
            if let first = indexOf[id] {
                throw GraphError.duplicateNode(path: nodesFile, line: line, id: id, firstLine: first.line)
            }
            indexOf[id] = (ids.count, line)
            ids.append(id)
            if let labelIndex, !row[labelIndex].isEmpty {
                let name = row[labelIndex]
                if let c = classNames.firstIndex(of: name) { labels.append(c) } else {
                    labels.append(classNames.count)
                    classNames.append(name)
                }
            } else {
                labels.append(nil)
            }
            for column in featureColumns {
                guard let value = Float(row[column]), value.isFinite else {
                    throw GraphError.nonNumericFeature(path: nodesFile, line: line, column: nodes.header[column],
                                                       value: row[column])
                }
                values.append(value)
            }
        }

        if featureColumns.isEmpty && ids.count > Graph.maximumOneHotNodes {
            throw GraphError.tooManyNodesForOneHot(path: nodesFile, nodes: ids.count, limit: Graph.maximumOneHotNodes)
        }
        guard edgeTable.header.count >= 2 else {
            throw CSVError.missingColumn(path: edgesFile, column: "target", available: edgeTable.header)
        }
        var pairs: [(Int, Int)] = []
        for (row, line) in zip(edgeTable.rows, edgeTable.lineNumbers) {
            var ends: [Int] = []
            for id in row.prefix(2) {
                guard let node = indexOf[id] else {
                    throw GraphError.unknownNode(path: edgesFile, line: line, id: id, nodesPath: nodesFile)
                }
                ends.append(node.index)
            }
            if ends[0] == ends[1] { throw GraphError.selfLoop(path: edgesFile, line: line, id: row[0]) }
            pairs.append((ends[0], ends[1]))
        }
        let features = featureColumns.isEmpty ? nil : Tensor(shape: [ids.count, featureColumns.count], scalars: values)
        self.init(nodeIDs: ids, features: features, featureNames: featureColumns.map { nodes.header[$0] },
                  labels: labels, classNames: classNames, edges: pairs)
    }

    /// Reads `nodes.csv` and `edges.csv` from a directory.
    public init(directory: String, labelColumn: String = "label") throws {
        let url = URL(fileURLWithPath: directory)
        try self.init(nodesFile: url.appendingPathComponent("nodes.csv").path,
                      edgesFile: url.appendingPathComponent("edges.csv").path, labelColumn: labelColumn)
    }

    /// The number of neighbours of each node (self excluded).
    public var degrees: [Int] {
        var d = [Int](repeating: 0, count: nodeCount)
        for e in edges { d[e.a] += 1; d[e.b] += 1 }
        return d
    }

    /// The symmetric 0/1 adjacency matrix A, plus the identity when `selfLoops` is set.
    public func adjacency(selfLoops: Bool = false) -> SparseMatrix {
        var entries: [(row: Int, column: Int, value: Float)] = []
        entries.reserveCapacity(2 * edges.count + nodeCount)
        for e in edges {
            entries.append((e.a, e.b, 1))
            entries.append((e.b, e.a, 1))
        }
        if selfLoops { for i in 0..<nodeCount { entries.append((i, i, 1)) } }
        return SparseMatrix(rows: nodeCount, columns: nodeCount, entries: entries)
    }

    /// Â = D^−½(A + I)D^−½ with D the degree matrix of A + I (Kipf & Welling's renormalisation): each node averages
    /// itself and its neighbours, weighted by 1/√(dᵢ·dⱼ), so repeated propagation neither explodes nor vanishes.
    public func normalizedAdjacency() -> SparseMatrix {
        let scale = degrees.map { 1 / Float($0 + 1).squareRoot() }
        var entries: [(row: Int, column: Int, value: Float)] = []
        entries.reserveCapacity(2 * edges.count + nodeCount)
        for e in edges {
            let v = scale[e.a] * scale[e.b]
            entries.append((e.a, e.b, v))
            entries.append((e.b, e.a, v))
        }
        for i in 0..<nodeCount { entries.append((i, i, scale[i] * scale[i])) }
        return SparseMatrix(rows: nodeCount, columns: nodeCount, entries: entries)
    }

    /// The indices of the nodes that have a label.
    public var labelledNodes: [Int] { labels.indices.filter { labels[$0] != nil } }
}
