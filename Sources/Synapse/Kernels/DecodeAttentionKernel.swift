import CSynapseKernels
import Foundation

/// Attention of one new token for a group of query heads that share one key/value head (grouped-query attention),
/// over a cache whose rows are `stride` floats apart: each cached row is read once for the whole group.
extension Kernels {
    /// The readable reference of the decode step's attention, over a Float32 cache: scores, softmax, weighted values.
    /// The Float16-cache kernels below are tested against it.
    /// - Parameters:
    ///   - query: `count` heads of `headSize` floats, side by side.
    ///   - key, value: the shared head's first cached row; `length` rows, `stride` floats apart.
    ///   - scratch: `count · length` floats for the scores.
    ///   - out: `count` heads of `headSize` floats, side by side.
    static func referenceDecodeAttention(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<Float>,
                                         value: UnsafePointer<Float>, stride: Int, length: Int, headSize d: Int, scale: Float,
                                         scratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        for g in 0..<count {
            for j in 0..<length {
                var total: Float = 0
                for e in 0..<d { total += query[g * d + e] * key[j * stride + e] }
                scratch[g * length + j] = total * scale
            }
            softmaxRow(scratch + g * length, scratch + g * length, length, log: false)
            let result = out + g * d
            result.update(repeating: 0, count: d)
            for j in 0..<length {
                for e in 0..<d { result[e] += scratch[g * length + j] * value[j * stride + e] }
            }
        }
    }
}

extension Kernels {
    /// The decode step's attention over a Float16 cache: `key` and `value` hold half-precision bit patterns, widened to
    /// Float32 as they are read (F16C in the vectorised kernels, `HalfPrecision` in the portable loops). Parameters as
    /// `referenceDecodeAttention`'s; `vectorised` picks the AVX2 kernels (CSynapseKernels/attention_avx2.c).
    static func decodeAttentionHalf(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<UInt16>,
                                    value: UnsafePointer<UInt16>, stride: Int, length: Int, headSize d: Int, scale: Float,
                                    scratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, vectorised: Bool) {
        halfScores(query: query, count: count, key: key, stride: stride, length: length, headSize: d, scale: scale,
                   into: scratch, vectorised: vectorised)
        for g in 0..<count { softmaxRow(scratch + g * length, scratch + g * length, length, log: false) }
        halfWeightedValues(scratch, count: count, value: value, stride: stride, length: length, headSize: d, into: out,
                           vectorised: vectorised)
    }

    /// scores[g · length + j] = scale · q_g · k_j over a Float16 cache.
    private static func halfScores(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<UInt16>, stride: Int,
                                   length: Int, headSize d: Int, scale: Float, into scores: UnsafeMutablePointer<Float>,
                                   vectorised: Bool) {
        if vectorised { return synapse_attention_scores_f16_avx2(query, count, key, stride, length, d, scale, scores) }
        for g in 0..<count {
            let q = query + g * d
            for j in 0..<length {
                let k = key + j * stride
                var total: Float = 0
                for e in 0..<d { total += q[e] * HalfPrecision.float(fromFloat16Bits: k[e]) }
                scores[g * length + j] = total * scale
            }
        }
    }

    /// out_g = Σ_j p[g · length + j] · v_j over a Float16 cache.
    private static func halfWeightedValues(_ p: UnsafePointer<Float>, count: Int, value: UnsafePointer<UInt16>, stride: Int,
                                           length: Int, headSize d: Int, into out: UnsafeMutablePointer<Float>,
                                           vectorised: Bool) {
        if vectorised { return synapse_attention_values_f16_avx2(p, count, value, stride, length, d, out, d) }
        for g in 0..<count {
            let result = out + g * d
            result.update(repeating: 0, count: d)
            for j in 0..<length {
                let w = p[g * length + j], v = value + j * stride
                for e in 0..<d { result[e] += w * HalfPrecision.float(fromFloat16Bits: v[e]) }
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

extension Kernels {
    /// One thread's share of a decode step's attention when the cached positions, not the heads, are split between
    /// threads (each row of the cache is then read by one thread only): over `length` rows, for `count` query heads,
    /// the unnormalised result Σ exp(s − m)·v into `out`, with each head's maximum score m and Σ exp(s − m) in
    /// `maxima` and `sums`. `combineAttentionPartials` joins the shares. An empty share gives m = −∞, sums and out 0.
    static func decodeAttentionPartialHalf(query: UnsafePointer<Float>, count: Int, key: UnsafePointer<UInt16>,
                                           value: UnsafePointer<UInt16>, stride: Int, length: Int, headSize d: Int,
                                           scale: Float, scratch: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>,
                                           maxima: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>, vectorised: Bool) {
        guard length > 0 else {
            for g in 0..<count { (maxima[g], sums[g]) = (-.infinity, 0) }
            out.update(repeating: 0, count: count * d)
            return
        }
        halfScores(query: query, count: count, key: key, stride: stride, length: length, headSize: d, scale: scale,
                   into: scratch, vectorised: vectorised)
        for g in 0..<count {
            let row = scratch + g * length
            let m = rowMaximum(row, length)
            for j in 0..<length { row[j] -= m }
            VectorMath.exp(row, row, length)
            (maxima[g], sums[g]) = (m, sumContiguous(row, length))
        }
        halfWeightedValues(scratch, count: count, value: value, stride: stride, length: length, headSize: d, into: out,
                           vectorised: vectorised)
    }

    /// Joins the threads' partial results of head `h` (`decodeAttentionPartialHalf`; each share holds H × D outputs,
    /// then H maxima, then H sums): out = Σₛ wₛ·outₛ / Σₛ wₛ·sumₛ with wₛ = exp(mₛ − max m), the softmax over all
    /// positions.
    static func combineAttentionPartials(_ shares: [UnsafeMutablePointer<Float>], head h: Int, heads: Int, headSize d: Int,
                                         into result: UnsafeMutablePointer<Float>) {
        var top = -Float.infinity
        for share in shares { top = max(top, share[heads * d + h]) }
        var total: Float = 0
        result.update(repeating: 0, count: d)
        for share in shares where share[heads * d + h] > -.infinity {
            let w = Foundation.exp(share[heads * d + h] - top), out = share + h * d
            total += w * share[heads * d + heads + h]
            for e in 0..<d { result[e] += w * out[e] }
        }
        let inverse = total > 0 ? 1 / total : 0
        for e in 0..<d { result[e] *= inverse }
    }
}
