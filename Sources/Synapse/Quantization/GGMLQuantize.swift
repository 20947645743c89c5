import Foundation

/// Quantisation to ggml's block formats, the inverse of `GGMLBlocks.dequantize`, rounding exactly as ggml's reference
/// quantisers (`quantize_row_*_ref` in ggml-quants.c) and the `gguf` Python package do, so a file Synapse writes
/// holds the bytes llama.cpp's own converter would write for the same values:
///
///     Q4_0: d = v / −8 for v the value of largest magnitude;  q = min(15, trunc(x/d + 8.5))
///     Q4_1: d = (max − min) / 15, m = min;                     q = min(15, trunc((x − m)/d + 0.5))
///     Q8_0: d = max|x| / 127;                                  q = round(x/d), halves away from zero
///
/// The scales are stored as fp16; the codes are computed with the Float32 scale before that rounding, as ggml does.
extension GGMLBlocks {
    /// The types Synapse writes.
    public static let writable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q8_0]

    /// Bytes that `count` values take in `type` (`count` a multiple of its block size).
    public static func byteCount(_ type: GGMLType, count: Int) -> Int { count / type.blockSize * type.blockByteCount }

    /// Writes `count` values (a multiple of the type's block size) as `type` blocks to `destination`, which must hold
    /// `byteCount(type, count:)` bytes.
    public static func quantize(_ type: GGMLType, _ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutableRawPointer) {
        precondition(writable.contains(type), "GGMLBlocks.quantize: \(type) is not supported")
        precondition(count % type.blockSize == 0, "GGMLBlocks.quantize: \(count) values do not fill whole \(type) blocks")
        switch type {
        case .f32:
            for i in 0..<count { destination.storeBytes(of: source[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for i in 0..<count { store16(HalfPrecision.float16Bits(from: source[i]), destination, 2 * i) }
        case .bf16:
            for i in 0..<count { store16(HalfPrecision.bfloat16Bits(from: source[i]), destination, 2 * i) }
        case .q4_0:
            for b in 0..<(count / 32) { quantizeQ4_0(source + 32 * b, into: destination + 18 * b) }
        case .q4_1:
            for b in 0..<(count / 32) { quantizeQ4_1(source + 32 * b, into: destination + 20 * b) }
        case .q8_0:
            for b in 0..<(count / 32) { quantizeQ8_0(source + 32 * b, into: destination + 34 * b) }
        default:
            preconditionFailure("unreachable: \(type)")
        }
    }

    /// The values of `values` (any shape; row-major) as `type` blocks.
    public static func quantize(_ type: GGMLType, _ values: Tensor) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: byteCount(type, count: values.count))
        bytes.withUnsafeMutableBytes { out in
            values.withUnsafeBufferPointer { if let base = $0.baseAddress { quantize(type, base, count: values.count, into: out.baseAddress!) } }
        }
        return bytes
    }

    private static func quantizeQ4_0(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0, signedMax: Float = 0
        for j in 0..<32 where amax < abs(x[j]) { (amax, signedMax) = (abs(x[j]), x[j]) }
        let d = signedMax / -8, inverse: Float = d != 0 ? 1 / d : 0
        store16(HalfPrecision.float16Bits(from: d), block, 0)
        for j in 0..<16 {
            let low = min(15, code(x[j] * inverse + 8.5)), high = min(15, code(x[j + 16] * inverse + 8.5))
            block.storeBytes(of: UInt8(low | high << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    private static func quantizeQ4_1(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var low = Float.greatestFiniteMagnitude, high = -Float.greatestFiniteMagnitude
        for j in 0..<32 { (low, high) = (min(low, x[j]), max(high, x[j])) }
        let d = (high - low) / 15, inverse: Float = d != 0 ? 1 / d : 0
        store16(HalfPrecision.float16Bits(from: d), block, 0)
        store16(HalfPrecision.float16Bits(from: low), block, 2)
        for j in 0..<16 {
            let a = min(15, code((x[j] - low) * inverse + 0.5)), b = min(15, code((x[j + 16] - low) * inverse + 0.5))
            block.storeBytes(of: UInt8(a | b << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    private static func quantizeQ8_0(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127, inverse: Float = d != 0 ? 1 / d : 0
        store16(HalfPrecision.float16Bits(from: d), block, 0)
        for j in 0..<32 {
            // Finite inputs give codes in −127...127; a NaN or infinity (which no model file Synapse loads holds)
            // must still give a code, not a trap.
            let q = (x[j] * inverse).rounded(.toNearestOrAwayFromZero)
            let code = q.isNaN ? 0 : Int8(Swift.max(-127, Swift.min(127, q)))
            block.storeBytes(of: code, toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// C's `(int8_t)value` for the values the 4-bit quantisers produce from finite inputs (0.5 ... 16.5):
    /// truncation toward zero. Anything else (NaN) becomes 0.
    @inline(__always)
    private static func code(_ value: Float) -> Int {
        guard value.isFinite else { return 0 }
        return Int(Swift.max(0, Swift.min(127, value.rounded(.towardZero))))
    }

    @inline(__always)
    static func store16(_ bits: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: bits.littleEndian, toByteOffset: offset, as: UInt16.self)
    }
}
