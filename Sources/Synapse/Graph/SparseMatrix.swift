/// A constant sparse matrix in compressed sparse row (CSR) form: the normalised adjacency of a graph, or the
/// node-to-graph assignment of a pooling step. Only the non-zero entries are stored, so a graph of N nodes and E edges
/// costs O(N + E), never O(N²).
///
/// The transpose is built once at construction, because the backward pass of `matmul(_:)` needs Aᵀ·G on every step.
///
/// ```swift
/// // [[0, 2], [1, 0]]
/// let a = SparseMatrix(rows: 2, columns: 2, entries: [(0, 1, 2), (1, 0, 1)])
/// let y = a.matmul(Tensor([[1, 2], [3, 4]]))     // [[6, 8], [1, 2]]
/// ```
public struct SparseMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    /// Row r's entries are `columnIndices[rowOffsets[r]..<rowOffsets[r + 1]]` (sorted by column) and their `values`.
    public let rowOffsets: [Int]
    public let columnIndices: [Int]
    public let values: [Float]
    /// The CSR arrays of the transpose (offsets, column indices, values), for the backward pass.
    let transposeArrays: (rowOffsets: [Int], columnIndices: [Int], values: [Float])

    /// The number of stored entries.
    public var nonZeroCount: Int { values.count }

    /// A matrix from (row, column, value) triples in any order. Entries at the same position are added together
    /// (as in `scipy.sparse.coo_matrix(...).tocsr()`); positions must lie inside the matrix.
    public init(rows: Int, columns: Int, entries: [(row: Int, column: Int, value: Float)]) {
        precondition(rows >= 0 && columns >= 0, "SparseMatrix: negative size \(rows)×\(columns)")
        for e in entries {
            precondition(e.row >= 0 && e.row < rows && e.column >= 0 && e.column < columns,
                         "SparseMatrix: entry (\(e.row), \(e.column)) outside a \(rows)×\(columns) matrix")
        }
        let forward = SparseMatrix.compress(rows: rows, entries.map { ($0.row, $0.column, $0.value) })
        self.rows = rows
        self.columns = columns
        rowOffsets = forward.rowOffsets
        columnIndices = forward.columnIndices
        values = forward.values
        transposeArrays = SparseMatrix.compress(rows: columns, entries.map { ($0.column, $0.row, $0.value) })
    }

    /// The sparse form of a 2-D tensor (zeros are dropped).
    public init(dense: Tensor) {
        precondition(dense.rank == 2, "SparseMatrix(dense:): expected a 2-D tensor, got shape \(dense.shape)")
        let (r, c) = (dense.shape[0], dense.shape[1])
        var entries: [(row: Int, column: Int, value: Float)] = []
        dense.withUnsafeBufferPointer { d in
            for i in 0..<r { for j in 0..<c where d[i * c + j] != 0 { entries.append((i, j, d[i * c + j])) } }
        }
        self.init(rows: r, columns: c, entries: entries)
    }

    /// Aᵀ as a sparse matrix.
    public var transposed: SparseMatrix {
        var entries: [(row: Int, column: Int, value: Float)] = []
        entries.reserveCapacity(nonZeroCount)
        for r in 0..<columns {
            for k in transposeArrays.rowOffsets[r]..<transposeArrays.rowOffsets[r + 1] {
                entries.append((r, transposeArrays.columnIndices[k], transposeArrays.values[k]))
            }
        }
        return SparseMatrix(rows: columns, columns: rows, entries: entries)
    }

    /// The dense [rows, columns] tensor (for tests and small examples: it costs rows × columns floats).
    public func dense() -> Tensor {
        var out = Tensor.zeros([rows, columns])
        out.withUnsafeMutableBufferPointer { d in
            for r in 0..<rows {
                for k in rowOffsets[r]..<rowOffsets[r + 1] { d[r * columns + columnIndices[k]] = values[k] }
            }
        }
        return out
    }

    /// Sorts triples by (row, column), merges duplicates by summing, and builds the CSR arrays.
    static func compress(rows: Int, _ triples: [(Int, Int, Float)]) -> (rowOffsets: [Int], columnIndices: [Int], values: [Float]) {
        let sorted = triples.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var offsets = [Int](repeating: 0, count: rows + 1)
        var indices: [Int] = []
        var values: [Float] = []
        indices.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        var previous: (Int, Int)?
        for (r, c, v) in sorted {
            if let p = previous, p == (r, c) {
                values[values.count - 1] += v
                continue
            }
            indices.append(c)
            values.append(v)
            offsets[r + 1] += 1
            previous = (r, c)
        }
        for r in 0..<rows { offsets[r + 1] += offsets[r] }
        return (offsets, indices, values)
    }
}
