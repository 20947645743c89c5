import CSynapseKernels
import Foundation
import Testing
@testable import Synapse

/// The block products (int16 activations) against their Swift reference, and the reference against plain float arithmetic on the
/// dequantised blocks.
@Suite("ggml block products (int16 activations)", .synapseRuntime)
struct GGMLMatmulTests {
    /// Random blocks of `type`: random codes, finite scales (and minimums) of a realistic size.
    static func randomMatrix(_ type: GGMLType, rows: Int, blocks: Int, generator g: inout RandomGenerator) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: rows * blocks * type.blockByteCount)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: g.next()) }
        for b in 0..<(rows * blocks) {
            let base = b * type.blockByteCount
            func put(_ value: Float, at offset: Int) {
                let bits = HalfPrecision.float16Bits(from: value)
                bytes[base + offset] = UInt8(bits & 0xFF)
                bytes[base + offset + 1] = UInt8(bits >> 8)
            }
            put(g.nextUniform() * 0.02 + 0.001, at: 0)
            if type == .q4_1 { put(g.nextUniform() * 0.2 - 0.1, at: 2) }
            // Q8_0 codes span −128...127, the edge the sign trick must survive.
        }
        return bytes
    }

    static func randomActivations(_ count: Int, generator g: inout RandomGenerator) -> [Float] {
        (0..<count).map { i in i % 97 == 0 ? 0 : g.nextNormal() * (i % 7 == 0 ? 4 : 1) }
    }

    @Test func quantisingIsBitIdenticalOnEveryPath() {
        var g = RandomGenerator(seed: 11)
        var x = Self.randomActivations(32 * 40, generator: &g)
        for j in 0..<32 { x[j] = 0 }                            // an all-zero block: d = 0
        x[40] = 1e30; x[70] = -3.5                                // a huge value, exact halves after scaling
        for path in GGMLMatmul.availablePaths {
            var expected = [UInt8](repeating: 0, count: 40 * GGMLMatmul.activationBlockBytes), actual = expected
            GGMLMatmul.portableQuantize(x, count: x.count, into: &expected)
            GGMLMatmul.quantize(x, count: x.count, into: &actual, path: path)
            #expect(actual == expected, "\(path)")
        }
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func everyPathMatchesTheReference(type: GGMLType) {
        var g = RandomGenerator(seed: 5 + UInt64(type.rawValue))
        // Shapes that cross the VNNI path's panels (8 rows at 48 blocks), its 4 × 4 tiles and their tails, its token
        // groups (64), and its direct kernel (below 9 tokens, and for rows of more than 128 blocks).
        for (rows, blocks, tokens) in [(1, 1, 1), (37, 3, 7), (16, 18, 4), (33, 48, 5), (33, 48, 13), (5, 2, 9), (6, 130, 4), (8, 3, 8), (21, 5, 70)] {
            let weights = Self.randomMatrix(type, rows: rows, blocks: blocks, generator: &g)
            let x = Self.randomActivations(tokens * blocks * 32, generator: &g)
            var q = [UInt8](repeating: 0, count: tokens * blocks * GGMLMatmul.activationBlockBytes)
            GGMLMatmul.portableQuantize(x, count: x.count, into: &q)
            let rowBytes = blocks * type.blockByteCount
            var expected = [Float](repeating: 0, count: tokens * rows)
            GGMLMatmul.portableMatmul(type, weight: weights, rowBytes: rowBytes, rows: 0..<rows, blocks: blocks, x: q,
                                      tokens: tokens, xStride: blocks, out: &expected, ldo: rows, accumulate: false)
            for path in GGMLMatmul.availablePaths {
                // A sub-range of rows, written at its own offset, and accumulation onto what is there.
                let sub = (rows / 3)..<rows
                var out = [Float](repeating: 1, count: tokens * rows)
                out.withUnsafeMutableBufferPointer { o in
                    GGMLMatmul.matmul(type, weight: weights, rowBytes: rowBytes, rows: sub, blocks: blocks, x: q, tokens: tokens,
                                      xStride: blocks, out: o.baseAddress! + sub.lowerBound, ldo: rows, accumulate: true, path: path)
                }
                for t in 0..<tokens {
                    for r in 0..<rows {
                        let e = sub.contains(r) ? expected[t * rows + r] + 1 : 1
                        let a = out[t * rows + r]
                        #expect(abs(a - e) <= 5e-5 * max(1, abs(e)), "\(type) \(path) rows \(rows) blocks \(blocks) token \(t) row \(r): \(a) vs \(e)")
                    }
                }
            }
        }
    }

    /// The integer formulas equal the dot product of the dequantised weights with the dequantised activations.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func theReferenceIsTheDotProductOfTheBlocksValues(type: GGMLType) {
        var g = RandomGenerator(seed: 99)
        let (rows, blocks) = (6, 4)
        let weights = Self.randomMatrix(type, rows: rows, blocks: blocks, generator: &g)
        let x = Self.randomActivations(blocks * 32, generator: &g)
        var q = [UInt8](repeating: 0, count: blocks * GGMLMatmul.activationBlockBytes)
        GGMLMatmul.portableQuantize(x, count: x.count, into: &q)
        var activations = [Float](repeating: 0, count: blocks * 32)
        for b in 0..<blocks {
            let base = b * GGMLMatmul.activationBlockBytes
            q.withUnsafeBytes { raw in
                let d = raw.load(fromByteOffset: base, as: Float.self)
                for j in 0..<32 { activations[b * 32 + j] = d * Float(raw.load(fromByteOffset: base + 8 + 2 * j, as: Int16.self)) }
            }
        }
        var dense = [Float](repeating: 0, count: rows * blocks * 32)
        weights.withUnsafeBytes { w in
            dense.withUnsafeMutableBufferPointer { GGMLBlocks.dequantize(type, w.baseAddress!, into: $0.baseAddress!, count: rows * blocks * 32) }
        }
        var out = [Float](repeating: 0, count: rows)
        GGMLMatmul.portableMatmul(type, weight: weights, rowBytes: blocks * type.blockByteCount, rows: 0..<rows, blocks: blocks,
                                  x: q, tokens: 1, xStride: blocks, out: &out, ldo: rows, accumulate: false)
        for r in 0..<rows {
            var e: Double = 0
            for j in 0..<(blocks * 32) { e += Double(dense[r * blocks * 32 + j]) * Double(activations[j]) }
            #expect(abs(Double(out[r]) - e) <= 1e-4 * max(1, abs(e)), "\(type) row \(r): \(out[r]) vs \(e)")
        }
    }

    @Test func theDecodeAttentionKernelsMatchPlainLoops() {
        guard CPUFeatures.avx2 else { return }
        var g = RandomGenerator(seed: 21)
        let (heads, rows, d, stride) = (3, 37, 64, 192)
        let q = (0..<(heads * d)).map { _ in g.nextNormal() }
        // The Float16 cache the kernels read, and the values it holds, for the plain loops.
        let halfKeys = (0..<(rows * stride)).map { _ in HalfPrecision.float16Bits(from: g.nextNormal()) }
        let keys = halfKeys.map(HalfPrecision.float(fromFloat16Bits:))
        var scores = [Float](repeating: 0, count: heads * rows)
        synapse_attention_scores_f16_avx2(q, heads, halfKeys, stride, rows, d, 0.125, &scores)
        for h in 0..<heads {
            for j in 0..<rows {
                var e: Float = 0
                for k in 0..<d { e += q[h * d + k] * keys[j * stride + k] }
                #expect(abs(scores[h * rows + j] - 0.125 * e) < 1e-4)
            }
        }
        var out = [Float](repeating: 7, count: heads * d)
        synapse_attention_values_f16_avx2(scores, heads, halfKeys, stride, rows, d, &out, d)
        for h in 0..<heads {
            for k in 0..<d {
                var e: Float = 0
                for j in 0..<rows { e += scores[h * rows + j] * keys[j * stride + k] }
                #expect(abs(out[h * d + k] - e) < 1e-3)
            }
        }
    }
}
