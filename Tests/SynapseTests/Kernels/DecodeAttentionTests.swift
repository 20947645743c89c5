import Foundation
import Testing
@testable import Synapse

/// The decode step's attention kernels (AVX2 with F16C) against the portable loops, and the Float16 cache against the
/// Float32 reference.
@Suite("Decode attention over the KV cache", .synapseRuntime)
struct DecodeAttentionTests {
    /// Three query heads sharing one key head, 70 cached rows of head size 64 inside rows of 192 (three key heads).
    static func operands(seed: UInt64) -> (q: [Float], keys: [Float], values: [Float]) {
        var rng = RandomGenerator(seed: seed)
        let q = (0..<(3 * 64)).map { _ in rng.nextNormal() }
        let keys = (0..<(70 * 192)).map { _ in rng.nextNormal() * 2 }
        let values = (0..<(70 * 192)).map { _ in rng.nextNormal() }
        return (q, keys, values)
    }

    @Test func halfCacheKernelsEqualThePortableLoops() throws {
        try #require(CPUFeatures.avx2, "no AVX2 here: the portable loops are the only path")
        let (q, keys, values) = Self.operands(seed: 1)
        let halfKeys = keys.map(HalfPrecision.float16Bits(from:)), halfValues = values.map(HalfPrecision.float16Bits(from:))
        func run(vectorised: Bool, length: Int) -> [Float] {
            var scratch = [Float](repeating: 0, count: 3 * length), out = [Float](repeating: 0, count: 3 * 64)
            q.withUnsafeBufferPointer { q in halfKeys.withUnsafeBufferPointer { k in halfValues.withUnsafeBufferPointer { v in
                Kernels.decodeAttentionHalf(query: q.baseAddress!, count: 3, key: k.baseAddress! + 64, value: v.baseAddress! + 64,
                                            stride: 192, length: length, headSize: 64, scale: 0.125, scratch: &scratch,
                                            out: &out, vectorised: vectorised)
            } } }
            return out
        }
        for length in [1, 7, 70] {
            let (fast, portable) = (run(vectorised: true, length: length), run(vectorised: false, length: length))
            #expect(LlamaTests.relativeError(fast, portable) < 1e-5, "length \(length)")
        }
        // And the Float16 cache against a Float32 cache of the same (rounded) values.
        let rounded = (keys.map { HalfPrecision.float(fromFloat16Bits: HalfPrecision.float16Bits(from: $0)) },
                       values.map { HalfPrecision.float(fromFloat16Bits: HalfPrecision.float16Bits(from: $0)) })
        var scratch = [Float](repeating: 0, count: 3 * 70), reference = [Float](repeating: 0, count: 3 * 64)
        q.withUnsafeBufferPointer { q in rounded.0.withUnsafeBufferPointer { k in rounded.1.withUnsafeBufferPointer { v in
            Kernels.referenceDecodeAttention(query: q.baseAddress!, count: 3, key: k.baseAddress! + 64, value: v.baseAddress! + 64,
                                             stride: 192, length: 70, headSize: 64, scale: 0.125, scratch: &scratch,
                                             out: &reference)
        } } }
        #expect(LlamaTests.relativeError(run(vectorised: true, length: 70), reference) < 1e-5)
    }

    @Test func halfRowsRoundTrip() {
        let values: [Float] = [0, 1, -2.5, 65504, 1e-3, 3.14159]
        var halves = [UInt16](repeating: 0, count: 12), back = [Float](repeating: 0, count: 6)
        values.withUnsafeBufferPointer { v in
            halves.withUnsafeMutableBufferPointer { h in
                Kernels.narrowToHalfRows(v.baseAddress!, sourceStride: 3, rows: 2, count: 3, into: h.baseAddress!, stride: 6)
                Kernels.widenHalfRows(h.baseAddress!, stride: 6, rows: 2, count: 3, into: &back)
            }
        }
        #expect(halves[3..<6].allSatisfy { $0 == 0 })
        for (a, b) in zip(back, values) { #expect(abs(a - b) <= abs(b) * 1e-3) }
    }
}
