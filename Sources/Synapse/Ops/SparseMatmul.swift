/// The product of a constant sparse matrix with a dense one, Y = A·X, the message-passing step of a graph network:
/// row i of Y is Σ_j A[i, j]·X[j, :] over the stored entries of row i only. No dense N×N matrix is ever formed.
///
/// A is constant (a graph's normalised adjacency, a pooling assignment), so only X receives a gradient:
/// ∂L/∂X = Aᵀ·G, computed with the transpose's CSR arrays that `SparseMatrix` keeps.
extension SparseMatrix {
    /// A·X for X of shape [columns, F] (or [columns], treated as one feature); the result is [rows, F] (or [rows]).
    ///
    /// ```swift
    /// let h = adjacency.matmul(features)      // [N, N] sparse × [N, F] → [N, F]
    /// ```
    public func matmul(_ x: Tensor) -> Tensor {
        if x.rank == 1 { return matmul(x.unsqueezed(axis: 1)).squeezed(axis: 1) }
        precondition(x.rank == 2 && x.shape[0] == columns,
                     "sparseMatmul: a \(rows)×\(columns) sparse matrix cannot multiply a tensor of shape \(x.shape)")
        let features = x.shape[1]
        let out = Tensor(uninitializedShape: [rows, features])
        SparseMatrix.product(rows: rows, rowOffsets, columnIndices, values, x.storage.pointer, features, out.storage.pointer)
        let transpose = transposeArrays
        let inputRows = columns
        return Tensor.record(out, op: "sparseMatmul", inputs: [x]) { g in
            let gx = Tensor(uninitializedShape: [inputRows, features])
            SparseMatrix.product(rows: inputRows, transpose.rowOffsets, transpose.columnIndices, transpose.values,
                                 g.storage.pointer, features, gx.storage.pointer)
            return [gx]
        }
    }

    /// out[r, :] = Σ_k values[k]·x[indices[k], :] over row r's entries (CSR × dense), rows split across cores when large.
    static func product(rows: Int, _ offsets: [Int], _ indices: [Int], _ values: [Float],
                        _ x: UnsafePointer<Float>, _ features: Int, _ out: UnsafeMutablePointer<Float>) {
        offsets.withUnsafeBufferPointer { offsetBuffer in
            indices.withUnsafeBufferPointer { indexBuffer in
                values.withUnsafeBufferPointer { valueBuffer in
                    guard let o = offsetBuffer.baseAddress else { return }
                    let (ix, vx) = (indexBuffer.baseAddress, valueBuffer.baseAddress)
                    // Work per row is about (entries in the row) × features; balance on rows, parallel only when large.
                    let work = (indexBuffer.count + rows) * Swift.max(features, 1)
                    Parallel.forRanges(rows, threshold: work >= Parallel.elementwiseThreshold ? 2 : Int.max) { range in
                        for r in range {
                            let y = out + r * features
                            y.update(repeating: 0, count: features)
                            guard let ix, let vx else { continue }
                            for k in o[r]..<o[r + 1] {
                                let row = x + ix[k] * features
                                let v = vx[k]
                                for f in 0..<features { y[f] += v * row[f] }
                            }
                        }
                    }
                }
            }
        }
    }
}
