import CSynapseKernels

/// Attention of one new token for a group of query heads that share one key/value head (grouped-query attention),
/// over a cache whose rows are `stride` floats apart: each cached row is read once for the whole group.
extension Kernels {
    /// - Parameters:
    ///   - query: `count` heads of `headSize` floats, side by side.
    ///   - key, value: the shared head's first cached row; `length` rows, `stride` floats apart.
    ///   - scratch: `count · length` floats for the scores.
    ///   - out: `count` heads of `headSize` floats, side by side.
    ///   - vectorised: the AVX2 kernels (CSynapseKernels/attention_avx2.c), else the portable loops below.
    static func decodeAttention(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<Float>,
                                value: UnsafePointer<Float>, stride: Int, length: Int, headSize d: Int, scale: Float,
                                scratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, vectorised: Bool) {
        if vectorised {
            synapse_attention_scores_avx2(query, count, key, stride, length, d, scale, scratch)
        } else {
            for g in 0..<count {
                for j in 0..<length { scratch[g * length + j] = dot(query + g * d, key + j * stride, count: d) * scale }
            }
        }
        for g in 0..<count { softmaxRow(scratch + g * length, scratch + g * length, length, log: false) }
        if vectorised {
            synapse_attention_values_avx2(scratch, count, value, stride, length, d, out, d)
        } else {
            for g in 0..<count {
                let result = out + g * d
                result.update(repeating: 0, count: d)
                for j in 0..<length { addScaled(value + j * stride, scratch[g * length + j], into: result, count: d) }
            }
        }
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var e = 0
        while e + 16 <= count {
            acc += UnsafeRawPointer(a + e).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + e).loadUnaligned(as: SIMD16<Float>.self)
            e += 16
        }
        var total = acc.sum()
        while e < count { total += a[e] * b[e]; e += 1 }
        return total
    }

    /// y += α·x.
    @inline(__always)
    static func addScaled(_ x: UnsafePointer<Float>, _ alpha: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        var e = 0
        while e + 16 <= count {
            let raw = UnsafeMutableRawPointer(y + e)
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + alpha * UnsafeRawPointer(x + e).loadUnaligned(as: SIMD16<Float>.self),
                           as: SIMD16<Float>.self)
            e += 16
        }
        while e < count { y[e] += alpha * x[e]; e += 1 }
    }
}

extension Kernels {
    /// `decodeAttention` over a Float16 cache: `key` and `value` hold half-precision bit patterns, widened to Float32
    /// as they are read (F16C in the vectorised kernels, `HalfPrecision` in the portable loops).
    static func decodeAttentionHalf(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<UInt16>,
                                    value: UnsafePointer<UInt16>, stride: Int, length: Int, headSize d: Int, scale: Float,
                                    scratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, vectorised: Bool) {
        if vectorised {
            synapse_attention_scores_f16_avx2(query, count, key, stride, length, d, scale, scratch)
        } else {
            for g in 0..<count {
                let q = query + g * d
                for j in 0..<length {
                    let k = key + j * stride
                    var total: Float = 0
                    for e in 0..<d { total += q[e] * HalfPrecision.float(fromFloat16Bits: k[e]) }
                    scratch[g * length + j] = total * scale
                }
            }
        }
        for g in 0..<count { softmaxRow(scratch + g * length, scratch + g * length, length, log: false) }
        if vectorised {
            synapse_attention_values_f16_avx2(scratch, count, value, stride, length, d, out, d)
        } else {
            for g in 0..<count {
                let result = out + g * d
                result.update(repeating: 0, count: d)
                for j in 0..<length {
                    let p = scratch[g * length + j], v = value + j * stride
                    for e in 0..<d { result[e] += p * HalfPrecision.float(fromFloat16Bits: v[e]) }
                }
            }
        }
    }

    /// Float32 copies of `rows` rows of `count` half-precision values, `stride` apart, into `destination` (rows
    /// `count` apart).
    static func widenHalfRows(_ source: UnsafePointer<UInt16>, stride: Int, rows: Int, count: Int,
                              into destination: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let s = source + r * stride, d = destination + r * count
            for e in 0..<count { d[e] = HalfPrecision.float(fromFloat16Bits: s[e]) }
        }
    }

    /// Half-precision bit patterns of `rows` rows of `count` floats (`sourceStride` apart) into rows `stride` apart.
    static func narrowToHalfRows(_ source: UnsafePointer<Float>, sourceStride: Int, rows: Int, count: Int,
                                 into destination: UnsafeMutablePointer<UInt16>, stride: Int) {
        for r in 0..<rows {
            let s = source + r * sourceStride, d = destination + r * stride
            for e in 0..<count { d[e] = HalfPrecision.float16Bits(from: s[e]) }
        }
    }
}
