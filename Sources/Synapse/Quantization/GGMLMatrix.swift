import Foundation

/// A matrix kept in one of ggml's formats: `rows` rows of `columns` values, each row `rowBytes` long — a weight in
/// PyTorch's [out, in] layout, as GGUF stores it. It is a view: `owner` keeps the memory alive (the GGUF file's
/// mapping, or a buffer of the matrix's own), so a 4-bit model stays 4-bit in memory.
///
/// ```swift
/// let w = try GGMLMatrix(gguf.requiredTensor(named: "blk.0.attn_q.weight"), of: gguf)   // Q4_1 [576, 576]
/// let y = x.linear(frozen: w)                                                            // x·Wᵀ from the blocks
/// ```
public struct GGMLMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    let base: UnsafeRawPointer
    let rowBytes: Int
    private let owner: AnyObject

    /// Blocks of 32 per row (the block types).
    var blocks: Int { columns / 32 }
    /// [rows, columns].
    public var shape: [Int] { [rows, columns] }
    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * rowBytes }

    /// Tensor `info` of `file`, a 2-D tensor of a type Synapse reads.
    public init(_ info: GGUFFile.TensorInfo, of file: GGUFFile) throws(GGUFError) {
        guard info.dimensions.count == 2 else {
            throw .wrongShape(file: file.path, tensor: info.name, expected: [info.dimensions.first ?? 0, 0], found: info.dimensions)
        }
        guard info.type.isReadable else { throw .unsupportedBlockType(file: file.path, tensor: info.name, type: info.type) }
        let data = file.data(of: info)
        (type, columns, rows) = (info.type, info.dimensions[0], info.dimensions[1])
        rowBytes = info.byteCount / max(rows, 1)
        base = data.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
        owner = file.file
        if let row = firstNonFiniteRow() {
            throw .invalidTensor(file: file.path, tensor: info.name, reason: "holds NaN or infinite values (row \(row)); the file is damaged")
        }
    }

    /// `values` ([rows, columns], columns a multiple of the type's block size) quantised to `type` into memory of the
    /// matrix's own (`GGMLBlocks.quantize`).
    public init(quantizing values: Tensor, to type: GGMLType) {
        precondition(values.rank == 2 && values.shape[1] % type.blockSize == 0,
                     "GGMLMatrix: \(values.shape) is not a matrix whose rows fill whole \(type) blocks")
        let (rows, columns) = (values.shape[0], values.shape[1])
        let rowBytes = GGMLBlocks.byteCount(type, count: columns)
        (self.type, self.rows, self.columns, self.rowBytes) = (type, rows, columns, rowBytes)
        let buffer = OwnedBytes(count: rows * rowBytes)
        values.withUnsafeBufferPointer { v in
            guard let source = v.baseAddress else { return }
            Parallel.forRanges(rows, threshold: max(2, 65_536 / max(columns, 1))) { range in
                for r in range {
                    GGMLBlocks.quantize(type, source + r * columns, count: columns, into: buffer.pointer + r * rowBytes)
                }
            }
        }
        base = UnsafeRawPointer(buffer.pointer)
        owner = buffer
    }

    /// The values of rows `range`, written row after row to `destination` (`range.count · columns` floats); both
    /// cores share a large range.
    public func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "GGMLMatrix.dequantizeRows: \(range) outside 0..<\(rows)")
        let (type, base, rowBytes, columns) = (type, base, rowBytes, columns)
        Parallel.forRanges(range.count, threshold: max(2, 131_072 / max(columns, 1))) { part in
            for i in part {
                GGMLBlocks.dequantize(type, base + (range.lowerBound + i) * rowBytes, into: destination + i * columns, count: columns)
            }
        }
    }

    /// The whole matrix in Float32, [rows, columns].
    public func dequantized() -> Tensor {
        let out = Tensor(uninitializedShape: [rows, columns])
        dequantizeRows(0..<rows, into: out.storage.pointer)
        return out
    }

    /// All the matrix's bytes, with the object that keeps them alive.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer, AnyObject) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: byteCount), owner)
    }

    /// The first row holding a NaN or an infinity, if any: for the block types a block's scale (and Q4_1's minimum)
    /// is what could be non-finite, so only those are read; for the float types every value.
    public func firstNonFiniteRow() -> Int? {
        for r in 0..<rows {
            let row = base + r * rowBytes
            switch type {
            case .q4_0, .q8_0, .q4_1:
                let stride = type.blockByteCount, halves = type == .q4_1 ? 2 : 1
                for b in 0..<(columns / 32) {
                    for k in 0..<halves where !HalfPrecision.float(fromFloat16Bits: GGMLBlocks.load16(row, b * stride + 2 * k)).isFinite {
                        return r
                    }
                }
            case .f32:
                for j in 0..<columns where !Float(bitPattern: UInt32(littleEndian: row.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))).isFinite {
                    return r
                }
            case .f16:
                for j in 0..<columns where !HalfPrecision.float(fromFloat16Bits: GGMLBlocks.load16(row, 2 * j)).isFinite { return r }
            case .bf16:
                for j in 0..<columns where !HalfPrecision.float(fromBFloat16Bits: GGMLBlocks.load16(row, 2 * j)).isFinite { return r }
            default:
                break
            }
        }
        return nil
    }

    /// The bytes of one row.
    func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }
}

/// Bytes allocated for a matrix of its own, freed with the last copy of it.
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(count: Int) { pointer = .allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}
