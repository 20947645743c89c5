import Foundation
import Testing
@testable import Synapse

/// The PyTorch-generated cases of Fixtures/half_precision.json (scripts/make_half_fixtures.py).
private struct HalfPrecisionFixture {
    var float32: [UInt32]
    var float16: [UInt16]
    var bfloat16: [UInt16]
    var widenBits: [UInt16]
    var float16ToFloat32: [UInt32]
    var bfloat16ToFloat32: [UInt32]

    static func load() throws -> HalfPrecisionFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/half_precision.json", withExtension: nil))
        let json = try StrictJSON.parse([UInt8](try Data(contentsOf: url)))
        guard case let .object(fields) = json else { throw FixtureError.malformed("root") }
        func integers(_ key: String) throws -> [UInt64] {
            guard case let .array(items)? = fields[key] else { throw FixtureError.malformed(key) }
            return try items.map { item in
                guard case let .number(text) = item, let value = UInt64(text) else { throw FixtureError.malformed(key) }
                return value
            }
        }
        return HalfPrecisionFixture(
            float32: try integers("float32").map { UInt32($0) },
            float16: try integers("float16").map { UInt16($0) },
            bfloat16: try integers("bfloat16").map { UInt16($0) },
            widenBits: try integers("widen_bits").map { UInt16($0) },
            float16ToFloat32: try integers("float16_to_float32").map { UInt32($0) },
            bfloat16ToFloat32: try integers("bfloat16_to_float32").map { UInt32($0) })
    }

    enum FixtureError: Error { case malformed(String) }
}

private func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }

@Suite(.synapseRuntime) struct HalfPrecisionTests {
    @Test func float16MatchesPyTorchBitForBit() throws {
        let fixture = try HalfPrecisionFixture.load()
        #expect(fixture.float32.count > 300 && fixture.float32.count == fixture.float16.count)
        var mismatches: [String] = []
        for (input, expected) in zip(fixture.float32, fixture.float16) {
            let got = HalfPrecision.float16Bits(from: Float(bitPattern: input))
            if got != expected { mismatches.append("\(hex(input)) → \(hex(got)), PyTorch \(hex(expected))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test func bfloat16MatchesPyTorchBitForBit() throws {
        let fixture = try HalfPrecisionFixture.load()
        var mismatches: [String] = []
        for (input, expected) in zip(fixture.float32, fixture.bfloat16) {
            let got = HalfPrecision.bfloat16Bits(from: Float(bitPattern: input))
            if got != expected { mismatches.append("\(hex(input)) → \(hex(got)), PyTorch \(hex(expected))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test func arrayConversionsMatchScalarOnes() throws {
        let fixture = try HalfPrecisionFixture.load()
        let floats = fixture.float32.map { Float(bitPattern: $0) }
        #expect(HalfPrecision.float16Bits(from: floats) == fixture.float16)
        #expect(HalfPrecision.bfloat16Bits(from: floats) == fixture.bfloat16)
        let widenedHalf = HalfPrecision.floats(fromFloat16Bits: fixture.widenBits).map(\.bitPattern)
        let widenedBrain = HalfPrecision.floats(fromBFloat16Bits: fixture.widenBits).map(\.bitPattern)
        #expect(widenedHalf == fixture.float16ToFloat32)
        #expect(widenedBrain == fixture.bfloat16ToFloat32)
        #expect(HalfPrecision.float16Bits(from: []) == [])
    }

    @Test func widensLikePyTorchIncludingNaNPayloads() throws {
        let fixture = try HalfPrecisionFixture.load()
        for (i, bits) in fixture.widenBits.enumerated() {
            #expect(Float(float16Bits: bits).bitPattern == fixture.float16ToFloat32[i], "half \(hex(bits))")
            #expect(Float(bfloat16Bits: bits).bitPattern == fixture.bfloat16ToFloat32[i], "bfloat16 \(hex(bits))")
        }
    }

    @Test func everyHalfPatternRoundTripsThroughFloat() {
        for raw in 0...0xFFFF {
            let bits = UInt16(raw)
            let half = Float(float16Bits: bits)
            if half.isNaN {
                // NaNs come back quiet with sign and payload: the quiet bit is the only change.
                #expect(half.float16Bits == bits | 0x0200, "half NaN \(hex(bits))")
            } else {
                #expect(half.float16Bits == bits, "half \(hex(bits))")
            }
            let brain = Float(bfloat16Bits: bits)
            #expect(brain.isNaN ? brain.bfloat16Bits == 0x7FC0 : brain.bfloat16Bits == bits, "bfloat16 \(hex(bits))")
        }
    }

    @Test func specialValues() {
        #expect(Float(1.5).float16Bits == 0x3E00)
        #expect(Float(65504).float16Bits == 0x7BFF)
        #expect(Float(65520).float16Bits == 0x7C00)          // halfway to the next binade: rounds to infinity
        #expect(Float(-1e10).float16Bits == 0xFC00)
        #expect(Float(0x1p-24).float16Bits == 0x0001)        // smallest subnormal
        #expect(Float(0x1p-25).float16Bits == 0x0000)        // tie between 0 and 2^-24: even is 0
        #expect(Float(0x1.8p-25).float16Bits == 0x0001)
        #expect((-Float.zero).float16Bits == 0x8000)
        #expect(Float.infinity.bfloat16Bits == 0x7F80)
        #expect(Float.greatestFiniteMagnitude.bfloat16Bits == 0x7F80)
        #expect((-Float.nan).bfloat16Bits == 0x7FC0)
        #expect(Float(bitPattern: 0x3F80_8000).bfloat16Bits == 0x3F80)  // tie to even (down)
        #expect(Float(bitPattern: 0x3F81_8000).bfloat16Bits == 0x3F82)  // tie to even (up)
        #expect(Float(float16Bits: 0x7BFF) == 65504)
        #expect(Float(float16Bits: 0x0001) == 0x1p-24)
        #expect(Float(float16Bits: 0xFC00) == -.infinity)
    }

    #if !(os(macOS) && arch(x86_64))
    /// Swift's `Float16` converts with IEEE round-to-nearest-even in the compiler runtime: an independent reference.
    @Test func agreesWithSwiftFloat16OnRandomInputs() {
        var generator = SystemRandomNumberGenerator()
        var mismatches = 0
        for i in 0..<200_000 {
            // Half the inputs are arbitrary bit patterns, half lie in Float16's range where rounding matters.
            let bits = i % 2 == 0 ? UInt32.random(in: .min ... .max, using: &generator)
                                   : UInt32.random(in: 0x3300_0000...0x4780_1000, using: &generator) | (UInt32(i & 4) << 29)
            let value = Float(bitPattern: bits)
            if value.float16Bits != Float16(value).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
    #endif
}
