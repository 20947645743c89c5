import Foundation
import Testing
@testable import Synapse

/// The fixtures of scripts/make_llm_fixtures.py (made with the `gguf` Python package).
enum LLMFixtures {
    static func url(_ name: String) -> URL { Fixtures.url("llm/" + name) }
    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }
    static func gguf(_ bytes: [UInt8], _ name: String = "mutated.gguf") throws(GGUFError) -> GGUFFile {
        try GGUFFile(file: MappedFile(copying: bytes, name: name))
    }
}

@Suite("GGUF reader and ggml block formats (against the gguf Python package)", .synapseRuntime)
struct GGUFTests {
    @Test func readsEveryMetadataType() throws {
        let file = try GGUFFile(path: LLMFixtures.url("blocks.gguf").path)
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        let m = file.metadata
        #expect(m["t.u8"] == .uint8(200))
        #expect(m["t.i8"] == .int8(-7))
        #expect(m["t.u16"] == .uint16(65000))
        #expect(m["t.i16"] == .int16(-300))
        #expect(m["t.u32"] == .uint32(4_000_000_000))
        #expect(m["t.i32"] == .int32(-123_456))
        #expect(m["t.f32"] == .float32(0.25))
        #expect(m["t.bool"] == .bool(true))
        #expect(m["t.str"] == .string("héllo ✓"))
        #expect(m["t.u64"] == .uint64(1 << 40 + 3))
        #expect(m["t.i64"] == .int64(-(1 << 40)))
        #expect(m["t.f64"] == .float64(-1.5))
        #expect(m["t.ints"] == .array([.int32(1), .int32(2), .int32(3)]))
        #expect(m["t.strs"] == .array([.string("a"), .string(""), .string("ü")]))
        #expect(m["t.nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        #expect(file.keys.first == "general.architecture")
        #expect(try file.string("general.architecture") == "test")
    }

    @Test func dequantisesEachBlockTypeBitExactly() throws {
        let file = try GGUFFile(path: LLMFixtures.url("blocks.gguf").path)
        let expected = try Fixtures.json("llm/blocks.json")["tensors"] as! [String: [String: Any]]
        #expect(expected.count == 6)
        for (name, entry) in expected {
            let info = try #require(file.tensor(named: name), "\(name)")
            #expect(info.type.description == entry["type"] as! String)
            #expect(info.shape == (entry["shape"] as! [NSNumber]).map(\.intValue), "\(name)")
            let values = try GGMLBlocks.dequantize(info, of: file)
            let bits = (entry["bits"] as! [NSNumber]).map(\.uint32Value)
            #expect(values.scalars.map(\.bitPattern) == bits, "\(name): dequantised values differ from gguf's")
        }
    }

    @Test func blockSizesAreGGMLs() {
        #expect(GGMLType.q4_1.bytesPerWeight == 0.625)
        #expect(GGMLType.q8_0.bytesPerWeight == 1.0625)
        #expect(GGMLType.q4_0.bytesPerWeight == 0.5625)
        #expect(GGMLType.f16.blockByteCount == 2 && GGMLType.bf16.blockByteCount == 2)
    }

    @Test func badFilesGiveOneLineErrors() throws {
        let good = try LLMFixtures.bytes("blocks.gguf")
        func error(_ bytes: [UInt8]) -> GGUFError? {
            do { _ = try LLMFixtures.gguf(bytes); return nil } catch { return error }
        }
        #expect(error([]) == .truncated(file: "mutated.gguf", reading: "the magic number"))
        #expect(error(Array("GGML".utf8) + good.dropFirst(4)) == .notGGUF(file: "mutated.gguf"))
        var v4 = good; v4[4] = 4
        #expect(error(v4) == .unsupportedVersion(file: "mutated.gguf", version: 4))
        var hugeCount = good
        for i in 8..<16 { hugeCount[i] = 0xFF }   // tensor count 2^64 − 1
        guard case .invalid(_, let reason)? = error(hugeCount) else { Issue.record("huge tensor count accepted"); return }
        #expect(reason.contains("cannot fit"))
        // Truncated anywhere: an error, never a crash.
        for cut in stride(from: 0, to: good.count, by: 7) {
            #expect(error(Array(good.prefix(cut))) != nil, "a file cut at \(cut) bytes was accepted")
        }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/tmp") }
    }

    @Test func unsupportedBlockTypeNamesTheTensor() throws {
        let file = try GGUFFile(path: LLMFixtures.url("blocks.gguf").path)
        let info = try #require(file.tensor(named: "q4_0"))
        let fake = GGUFFile.TensorInfo(name: "blk.0.ffn_up.weight", dimensions: info.dimensions, type: .q4_K, offset: info.offset, byteCount: 0)
        #expect(throws: GGUFError.unsupportedBlockType(file: file.path, tensor: "blk.0.ffn_up.weight", type: .q4_K)) {
            _ = try GGMLBlocks.dequantize(fake, of: file)
        }
    }

    /// 10,000 mutated files (bit flips, overwritten counts and lengths, truncations, spliced bytes): each loads
    /// or throws a GGUFError; whatever loads can be dequantised and, for the Llama fixture, built into a model.
    @Test func mutatedFilesLoadOrThrowCleanly() throws {
        let seeds = [try LLMFixtures.bytes("blocks.gguf"), try LLMFixtures.bytes("tiny_llama.gguf")]
        var random = RandomGenerator(seed: 2024)
        func next(_ bound: Int) -> Int { random.nextInt(below: max(bound, 1)) }
        let hostile: [UInt64] = [0, 1, 31, 32, 255, 1 << 31, 1 << 32, UInt64(Int32.max), UInt64(Int64.max), UInt64.max, 1 << 62]
        var loaded = 0, built = 0
        for iteration in 0..<10_000 {
            var bytes = seeds[iteration % 2]
            for _ in 0..<(1 + next(4)) where bytes.count > 16 {
                switch next(5) {
                case 0:   // flip a bit in the header region, where every count and offset lives
                    let i = next(min(bytes.count, 2048)); bytes[i] ^= UInt8(1 << next(8))
                case 1:   // overwrite 8 bytes with a hostile number
                    let i = next(max(1, min(bytes.count, 2048) - 8)), v = hostile[next(hostile.count)]
                    for k in 0..<8 where i + k < bytes.count { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
                case 2:   // truncate
                    bytes = Array(bytes.prefix(next(bytes.count + 1)))
                case 3:   // random byte anywhere
                    bytes[next(bytes.count)] = UInt8(next(256))
                default:  // duplicate a span
                    let i = next(bytes.count - 16); bytes.insert(contentsOf: bytes[i..<(i + 16)], at: next(bytes.count))
                }
            }
            guard let file = try? LLMFixtures.gguf(bytes) else { continue }
            loaded += 1
            for info in file.tensors where info.type.isReadable && info.elementCount <= 1 << 20 {
                _ = try? GGMLBlocks.dequantize(info, of: file)
            }
            if (try? Llama(gguf: file)) != nil { built += 1 }
        }
        #expect(loaded > 100, "too few mutations parse (\(loaded)): the mutator is not reaching past the header")
        #expect(built > 10, "too few mutated Llama files build (\(built))")
    }
}
