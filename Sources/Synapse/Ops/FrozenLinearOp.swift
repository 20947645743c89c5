/// A linear map through a frozen weight kept in ggml blocks — the base projection of QLoRA: y = x·Wᵀ, and in the
/// backward pass only ∂L/∂x = G·W, since a frozen weight has no gradient.
///
/// W is dequantised a panel of rows at a time into Float32 and multiplied with sgemm, so the result equals
/// `x.linear(weight: w.dequantized())` — the readable reference, which the tests pin it to — while memory holds the
/// 4-bit blocks and one panel instead of a Float32 copy of every weight. The panels cost one pass over the blocks in
/// the forward and one in the backward, against products of 2·N multiply-adds per weight for N rows of x.
extension Tensor {
    /// `x.linear(frozen:)` for x of shape [..., in] and a frozen weight [out, in]: [..., out].
    public func linear(frozen weight: GGMLMatrix) -> Tensor {
        let (outFeatures, inFeatures) = (weight.rows, weight.columns)
        precondition(rank >= 1 && shape[rank - 1] == inFeatures,
                     "linear(frozen:): input of shape \(shape) does not end in \(inFeatures) features (weight \(weight.shape))")
        let rows = count / Swift.max(inFeatures, 1)
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures])
        let x = detached()
        FrozenPanels(weight).forEach { panel, range in
            // out[:, range] = x · panelᵀ
            Kernels.gemm(transposeA: false, transposeB: true, m: rows, n: range.count, k: inFeatures, alpha: 1,
                         x.storage.pointer, lda: inFeatures, panel, ldb: inFeatures,
                         beta: 0, out.storage.pointer + range.lowerBound, ldc: outFeatures)
        }
        return Tensor.record(out, op: "linear(frozen)", inputs: [self]) { g in
            let gx = Tensor(uninitializedShape: x.shape)
            FrozenPanels(weight).forEach { panel, range in
                // ∂L/∂x += G[:, range] · panel
                Kernels.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: range.count, alpha: 1,
                             g.storage.pointer + range.lowerBound, lda: outFeatures, panel, ldb: inFeatures,
                             beta: range.lowerBound == 0 ? 0 : 1, gx.storage.pointer, ldc: inFeatures)
            }
            return [gx]
        }
    }
}

/// The rows of a frozen block matrix in Float32 panels of at most `panelFloats` values, each dequantised into one
/// reused buffer just before it is used.
struct FrozenPanels {
    /// 2M floats (8 MB): every matrix of a small Llama block in one panel; a 49152-row head in 14.
    static let panelFloats = 1 << 21

    let matrix: GGMLMatrix
    init(_ matrix: GGMLMatrix) { self.matrix = matrix }

    func forEach(_ body: (UnsafePointer<Float>, Range<Int>) -> Void) {
        let panelRows = Swift.max(1, Swift.min(matrix.rows, Self.panelFloats / Swift.max(matrix.columns, 1)))
        let buffer = Tensor(uninitializedShape: [panelRows * matrix.columns])
        var start = 0
        while start < matrix.rows {
            let range = start..<Swift.min(matrix.rows, start + panelRows)
            matrix.dequantizeRows(range, into: buffer.storage.pointer)
            body(buffer.storage.pointer, range)
            start = range.upperBound
        }
    }
}

/// A weight that fine-tuning leaves alone: Float32 in memory, or ggml blocks read in place from the GGUF mapping
/// (QLoRA's base: products dequantise a panel at a time, `Tensor.linear(frozen:)`).
public enum FrozenWeight: @unchecked Sendable {
    case dense(Tensor)
    case blocks(GGMLMatrix)

    /// [out, in].
    public var shape: [Int] {
        switch self {
        case .dense(let w): w.shape
        case .blocks(let m): m.shape
        }
    }

    /// x·Wᵀ, differentiable in x only.
    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .dense(let w): x.linear(weight: w)
        case .blocks(let m): x.linear(frozen: m)
        }
    }

    /// Rows `ids` (an embedding lookup), [ids.count, in]; no gradient.
    public func rows(_ ids: [Int]) -> Tensor {
        switch self {
        case .dense(let w): return noGrad { w.gather(ids) }
        case .blocks(let m):
            let out = Tensor(uninitializedShape: [ids.count, m.columns])
            for (i, id) in ids.enumerated() { m.dequantizeRows(id..<(id + 1), into: out.storage.pointer + i * m.columns) }
            return out
        }
    }

    /// The rows of the weight in Float32: all at once when dense, a dequantised panel at a time from blocks.
    func forEachPanel(_ body: (UnsafePointer<Float>, Range<Int>) -> Void) {
        switch self {
        case .dense(let w): body(w.storage.pointer, 0..<w.shape[0])
        case .blocks(let m): FrozenPanels(m).forEach(body)
        }
    }

    /// Bytes the weight holds in memory.
    public var byteCount: Int {
        switch self {
        case .dense(let w): w.count * MemoryLayout<Float>.size
        case .blocks(let m): m.byteCount
        }
    }
}
