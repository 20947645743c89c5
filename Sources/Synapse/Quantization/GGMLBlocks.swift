/// ggml's tensor types: how llama.cpp stores weights. The notes' int8 absmax scheme keeps one scale per tensor; the
/// block formats keep one per 32 weights, which is what lets real LLMs ship at 4–5 bits per weight.
///
/// | type | block | bytes | bytes/weight | value |
/// |---|---|---|---|---|
/// | Q4_0 | 32 | 18 = fp16 d + 16 nibbles | 0.5625 | (q − 8)·d |
/// | Q4_1 | 32 | 20 = fp16 d, fp16 m + 16 nibbles | 0.625 | q·d + m |
/// | Q8_0 | 32 | 34 = fp16 d + 32 int8 | 1.0625 | q·d |
/// | F16 / BF16 / F32 | 1 | 2 / 2 / 4 | | |
///
/// In Q4_0 and Q4_1 byte j of a block holds element j in its low nibble and element j + 16 in its high nibble.
/// The other ggml types are known by name and size (so `synapse inspect` can list any file) but not dequantised.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30

    /// The types Synapse turns into Float32.
    public static let readable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q8_0]

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: 256
        }
    }

    /// Bytes per block.
    public var blockByteCount: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8: 1
        case .i64, .f64: 8
        case .q4_0: 18
        case .q4_1: 20
        case .q5_0: 22
        case .q5_1: 24
        case .q8_0: 34
        case .q8_1: 36
        case .q2_K: 84
        case .q3_K: 110
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        case .q8_K: 292
        }
    }

    public var bytesPerWeight: Double { Double(blockByteCount) / Double(blockSize) }

    public var isReadable: Bool { GGMLType.readable.contains(self) }

    public var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        }
    }
}

/// Dequantisation of ggml blocks to Float32, exactly as ggml (and the `gguf` Python package) compute it: the fp16
/// scale widened to Float, then one product (and for Q4_1 one sum) per value, rounded after each operation.
public enum GGMLBlocks {
    /// Writes the `count` values stored in `source` (which holds exactly `count / type.blockSize` blocks) to
    /// `destination`. `type` must be one of `GGMLType.readable` and `count` a multiple of its block size.
    public static func dequantize(_ type: GGMLType, _ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        precondition(type.isReadable, "GGMLBlocks.dequantize: \(type) is not supported")
        precondition(count % type.blockSize == 0, "GGMLBlocks.dequantize: \(count) values do not fill whole \(type) blocks")
        switch type {
        case .f32:
            destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
            #if _endian(big)
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: destination[i].bitPattern)) }
            #endif
        case .f16:
            for i in 0..<count { destination[i] = HalfPrecision.float(fromFloat16Bits: load16(source, 2 * i)) }
        case .bf16:
            for i in 0..<count { destination[i] = HalfPrecision.float(fromBFloat16Bits: load16(source, 2 * i)) }
        case .q4_0:
            for b in 0..<(count / 32) {
                let block = source + b * 18, out = destination + b * 32
                let d = HalfPrecision.float(fromFloat16Bits: load16(block, 0))
                for j in 0..<16 {
                    let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                    out[j] = Float(Int(byte & 0x0F) - 8) * d
                    out[j + 16] = Float(Int(byte >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<(count / 32) {
                let block = source + b * 20, out = destination + b * 32
                let d = HalfPrecision.float(fromFloat16Bits: load16(block, 0))
                let m = HalfPrecision.float(fromFloat16Bits: load16(block, 2))
                for j in 0..<16 {
                    let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                    out[j] = Float(byte & 0x0F) * d + m
                    out[j + 16] = Float(byte >> 4) * d + m
                }
            }
        case .q8_0:
            for b in 0..<(count / 32) {
                let block = source + b * 34, out = destination + b * 32
                let d = HalfPrecision.float(fromFloat16Bits: load16(block, 0))
                for j in 0..<32 { out[j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
            }
        default:
            preconditionFailure("unreachable: \(type)")
        }
    }

    /// The values of a whole tensor of a GGUF file as a Float32 tensor of its row-major shape; a tensor holding NaN or
    /// infinite values is refused, naming it.
    public static func dequantize(_ info: GGUFFile.TensorInfo, of file: GGUFFile) throws(GGUFError) -> Tensor {
        guard info.type.isReadable else { throw .unsupportedBlockType(file: file.path, tensor: info.name, type: info.type) }
        let out = Tensor(uninitializedShape: info.shape)
        let raw = file.data(of: info)
        if let base = raw.baseAddress {
            let rows = info.elementCount / info.dimensions[0], rowBytes = info.byteCount / rows, width = info.dimensions[0]
            let pointer = out.storage.pointer
            // Rows are independent: both cores share a large embedding table.
            Parallel.forRanges(rows, threshold: max(2, 131_072 / width)) { r in
                for row in r { dequantize(info.type, base + row * rowBytes, into: pointer + row * width, count: width) }
            }
        }
        if let bad = out.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
            throw .invalidTensor(file: file.path, tensor: info.name, reason: "holds NaN or infinite values (element \(bad)); the file is damaged")
        }
        return out
    }

    @inline(__always)
    static func load16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
