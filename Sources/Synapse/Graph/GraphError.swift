/// A problem with a graph read from CSV files, in one line naming the file, the line and what to fix.
///
/// ```swift
/// do { _ = try Graph(nodesFile: "nodes.csv", edgesFile: "edges.csv") }
/// catch let error as GraphError { print(error) }   // "edges.csv: line 7: unknown node 'x' (not in nodes.csv)"
/// ```
public enum GraphError: Error, CustomStringConvertible, Equatable {
    /// The nodes file has no data rows.
    case noNodes(path: String)
    /// A node id appears twice in the nodes file.
    case duplicateNode(path: String, line: Int, id: String, firstLine: Int)
    /// An edge names a node that the nodes file does not define.
    case unknownNode(path: String, line: Int, id: String, nodesPath: String)
    /// An edge from a node to itself: the GCN adds every self-loop itself, so one in the file is a data error.
    case selfLoop(path: String, line: Int, id: String)
    /// A feature value that is not a finite number.
    case nonNumericFeature(path: String, line: Int, column: String, value: String)
    /// A node id that is empty.
    case emptyNodeID(path: String, line: Int)
    /// No feature columns and more nodes than one-hot features (an N × N matrix) can be built for.
    case tooManyNodesForOneHot(path: String, nodes: Int, limit: Int)

    public var description: String {
        switch self {
        case let .noNodes(path):
            return "\(path): no nodes; expected a header (id[,label][,feature…]) and one row per node"
        case let .duplicateNode(path, line, id, firstLine):
            return "\(path): line \(line): node '\(id)' is already defined on line \(firstLine); node ids must be unique"
        case let .unknownNode(path, line, id, nodesPath):
            return "\(path): line \(line): unknown node '\(id)' (not in \(nodesPath)); add it there or fix the edge"
        case let .selfLoop(path, line, id):
            return "\(path): line \(line): edge from node '\(id)' to itself; remove it (the GCN adds self-loops itself)"
        case let .nonNumericFeature(path, line, column, value):
            return "\(path): line \(line), feature column '\(column)': '\(value)' is not a finite number"
        case let .emptyNodeID(path, line):
            return "\(path): line \(line): empty node id"
        case let .tooManyNodesForOneHot(path, nodes, limit):
            let gigabytes = Double(nodes) * Double(nodes) * 4 / 1e9
            return "\(path): \(nodes) nodes and no feature columns: one-hot features would be a \(nodes)×\(nodes) matrix "
                + String(format: "(%.1f GB)", gigabytes)
                + "; add feature columns (for example the degree), or use at most \(limit) nodes"
        }
    }
}
