import CSynapseKernels

/// Matrix products straight from ggml blocks (Q4_0, Q4_1, Q8_0), the way llama.cpp computes them on a CPU but with
/// finer activations: they are quantised per block of 32 to int16 (with the block's scale d and its scaled sum
/// s = d·Σq, as ggml's q8_1 keeps them), and each weight block meets each activation block in one integer dot product:
///
///     Q8_0:  Σ (dw·qw)(da·qa)            = dw·da · Σ qw·qa
///     Q4_1:  Σ (dw·qw + mw)(da·qa)       = dw·da · Σ qw·qa  +  mw · s
///     Q4_0:  Σ (dw·(qw − 8))(da·qa)      = dw·da · Σ qw·qa  −  8·dw · s
///
/// The weights are never dequantised: a Q4_1 matrix stays 0.625 bytes per weight, read from the memory-mapped file.
/// Why int16 and not llama.cpp's int8: int8 activations (127 levels per block, against the block's largest value)
/// moved SmolLM2's next-token log-probabilities by up to 0.89 from the float reference; int16 ones keep them within
/// hundredths, and cost the same on AVX2 (`vpmaddwd` does two products per lane where int8 needs two instructions too)
/// and one extra instruction per block with VNNI — while a decode step is bound by reading the weights anyway.
/// `portableMatmul` and `portableQuantize` are the readable reference and the path on CPUs without AVX2; the C builds
/// (AVX2, AVX-512 VNNI) are pinned to them by `GGMLMatmulTests`.
public enum GGMLMatmul {
    /// Bytes of one quantised activation block: Float d, Float s, 32 Int16 codes (`synapse_q16_block`).
    public static let activationBlockBytes = 72

    /// The block types whose rows these products read.
    public static let supportedTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0]

    public enum Path: String, Sendable, CaseIterable { case portable, avx2, vnni }

    /// The fastest path this CPU runs (`SYNAPSE_KERNELS=portable` forces the Swift one).
    public static var bestPath: Path { CPUFeatures.avx512VNNI ? .vnni : (CPUFeatures.avx2 ? .avx2 : .portable) }

    /// The paths this CPU can run, for tests.
    public static var availablePaths: [Path] {
        var paths: [Path] = [.portable]
        if CPUFeatures.avx2 { paths.append(.avx2) }
        if CPUFeatures.avx512VNNI { paths.append(.vnni) }
        return paths
    }

    /// Quantises `count` floats (a multiple of 32) into `count / 32` activation blocks at `out`.
    @inline(__always)
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer, path: Path = bestPath) {
        precondition(count % 32 == 0, "GGMLMatmul.quantize: \(count) values do not fill whole blocks of 32")
        if path != .portable {
            synapse_ggml_quantize_avx2(x, count, out.assumingMemoryBound(to: synapse_q16_block.self))
        } else {
            portableQuantize(x, count: count, into: out)
        }
    }

    /// out[t·ldo + (r − rows.lowerBound)] (+)= row r of `weight` · token t of `x`, for r in `rows` and t < tokens.
    /// Weight rows are `rowBytes` apart and hold `blocks` blocks; token t's activation blocks start at
    /// x + t·xStride·72 bytes (`activationBlockBytes`).
    @inline(__always)
    public static func matmul(_ type: GGMLType, weight: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, blocks: Int,
                              x: UnsafeRawPointer, tokens: Int, xStride: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                              accumulate: Bool = false, path: Path = bestPath) {
        precondition(supportedTypes.contains(type), "GGMLMatmul.matmul: \(type) is not a block type these products read")
        precondition(rowBytes >= blocks * type.blockByteCount && xStride >= blocks,
                     "GGMLMatmul.matmul: rows of \(rowBytes) bytes / activations of \(xStride) blocks for \(blocks) blocks of \(type)")
        if rows.isEmpty || tokens == 0 { return }
        let w = weight.assumingMemoryBound(to: UInt8.self), a = x.assumingMemoryBound(to: synapse_q16_block.self)
        switch path {
        case .vnni:
            synapse_ggml_matmul_vnni(Int32(type.rawValue), w, rowBytes, rows.lowerBound, rows.upperBound, blocks, a, tokens,
                                     xStride, out, ldo, accumulate ? 1 : 0)
        case .avx2:
            synapse_ggml_matmul_avx2(Int32(type.rawValue), w, rowBytes, rows.lowerBound, rows.upperBound, blocks, a, tokens,
                                     xStride, out, ldo, accumulate ? 1 : 0)
        case .portable:
            portableMatmul(type, weight: weight, rowBytes: rowBytes, rows: rows, blocks: blocks, x: x, tokens: tokens,
                           xStride: xStride, out: out, ldo: ldo, accumulate: accumulate)
        }
    }

    /// The reference quantiser: d = max|x| / 32767, q = x / d rounded to nearest even, s = d·Σq.
    public static func portableQuantize(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let v = x + 32 * b, block = out + b * activationBlockBytes
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(v[j])) }
            let d = amax / 32767, inverse: Float = d != 0 ? 1 / d : 0
            var sum: Int32 = 0
            for j in 0..<32 {
                let q = Int16(clamping: Int32((v[j] * inverse).rounded(.toNearestOrEven)))
                block.storeBytes(of: q, toByteOffset: 8 + 2 * j, as: Int16.self)
                sum += Int32(q)
            }
            block.storeBytes(of: d, toByteOffset: 0, as: Float.self)
            block.storeBytes(of: d * Float(sum), toByteOffset: 4, as: Float.self)
        }
    }

    /// The reference product, block by block as the formulas above say.
    public static func portableMatmul(_ type: GGMLType, weight: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, blocks: Int,
                                      x: UnsafeRawPointer, tokens: Int, xStride: Int, out: UnsafeMutablePointer<Float>,
                                      ldo: Int, accumulate: Bool) {
        for r in rows {
            let row = weight + r * rowBytes
            for t in 0..<tokens {
                var total: Float = 0
                for b in 0..<blocks {
                    let a = x + (t * xStride + b) * activationBlockBytes
                    let da = a.load(as: Float.self), sa = a.load(fromByteOffset: 4, as: Float.self)
                    var dot: Int32 = 0
                    switch type {
                    case .q8_0:
                        let w = row + b * 34
                        for j in 0..<32 { dot += Int32(w.load(fromByteOffset: 2 + j, as: Int8.self)) * code(a, j) }
                        total += half(w) * da * Float(dot)
                    default:
                        let w = row + b * type.blockByteCount, codes = type == .q4_1 ? 4 : 2
                        for j in 0..<16 {
                            let byte = w.load(fromByteOffset: codes + j, as: UInt8.self)
                            dot += Int32(byte & 0x0F) * code(a, j)
                            dot += Int32(byte >> 4) * code(a, 16 + j)
                        }
                        let dw = half(w), mw = type == .q4_1 ? half(w + 2) : -8 * dw
                        total += dw * da * Float(dot) + mw * sa
                    }
                }
                let o = out + t * ldo + (r - rows.lowerBound)
                o.pointee = accumulate ? o.pointee + total : total
            }
        }
    }

    /// Activation code j of the block at `a`.
    @inline(__always)
    static func code(_ a: UnsafeRawPointer, _ j: Int) -> Int32 { Int32(a.load(fromByteOffset: 8 + 2 * j, as: Int16.self)) }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer) -> Float {
        HalfPrecision.float(fromFloat16Bits: UInt16(p.load(as: UInt8.self)) | UInt16(p.load(fromByteOffset: 1, as: UInt8.self)) << 8)
    }
}
