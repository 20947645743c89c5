import Foundation
import Testing
@testable import Synapse

@Suite("GGUF writer and adapter export", .synapseRuntime)
struct GGUFWriterTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gguf-\(UUID().uuidString)-\(name)")
    }

    @Test func aCopiedFileReadsBackTheSame() throws {
        let source = try GGUFFile(path: LLMFixtures.url("blocks.gguf").path)
        var writer = GGUFWriter()
        writer.copyMetadata(from: source)
        for info in source.tensors {
            writer.addTensor(info.name, dimensions: info.dimensions, type: info.type, bytes: source.data(of: info), owner: source.file)
        }
        writer.set("t.added", .array([.string("x"), .string("ÿ")]))
        writer.set("t.u8", .uint8(7))                                     // replaced in place
        let url = Self.temporary("copy.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        let copy = try GGUFFile(path: url.path)
        #expect(copy.keys == source.keys + ["t.added"])
        for key in source.keys where key != "t.u8" { #expect(copy.metadata[key] == source.metadata[key], "\(key)") }
        #expect(copy.metadata["t.u8"] == .uint8(7))
        #expect(copy.metadata["t.added"] == .array([.string("x"), .string("ÿ")]))
        #expect(copy.tensors.map(\.name) == source.tensors.map(\.name))
        for (a, b) in zip(copy.tensors, source.tensors) {
            #expect(a.dimensions == b.dimensions && a.type == b.type)
            #expect(Array(copy.data(of: a)) == Array(source.data(of: b)), "\(a.name)")
            #expect(a.offset % copy.alignment == 0)
        }
    }

    @Test func anExportedModelIsTheBaseWithTheAdapterMerged() throws {
        let base = try FinetuneFixtures.gguf
        let lora = try LoRAAdapterFile.load(FinetuneFixtures.url("peft_adapter"), model: try LlamaConfiguration(gguf: base))
        let tokens = [3, 50, 17, 8, 90, 1, 64, 33]
        let adapted = try Llama(gguf: base, adapter: lora)
        let expected = adapted.forward(tokens, cache: adapted.makeCache()).scalars
        // In Float32 the merge is exact up to rounding.
        let f32 = Self.temporary("merged-f32.gguf")
        defer { try? FileManager.default.removeItem(at: f32) }
        let report = try AdapterExport.merge(base: base, adapter: lora, type: .f32, to: f32)
        #expect(report.mergedTensors == 14 && report.copiedTensors == base.tensors.count - 14)
        let merged = try Llama(gguf: GGUFFile(path: f32.path))
        #expect(LlamaTests.relativeError(merged.forward(tokens, cache: merged.makeCache()).scalars, expected) < 1e-5)
        // Re-quantised to each matrix's own type: untouched tensors are copied byte for byte, metadata too.
        let same = Self.temporary("merged.gguf")
        defer { try? FileManager.default.removeItem(at: same) }
        let sameReport = try AdapterExport.merge(base: base, adapter: lora, to: same)
        let file = try GGUFFile(path: same.path)
        #expect(file.keys == base.keys)
        for info in base.tensors {
            let out = try #require(file.tensor(named: info.name))
            #expect(out.type == info.type && out.dimensions == info.dimensions)
            if !info.name.contains("attn_") && !info.name.contains("ffn_gate") && !info.name.contains("ffn_up") && !info.name.contains("ffn_down") {
                #expect(Array(file.data(of: out)) == Array(base.data(of: info)), "\(info.name)")
            }
        }
        #expect(sameReport.roundingRMS > 0 && sameReport.updateRMS > 0)
        // In F16 the merged model keeps the adapter's behaviour closely. (This random adapter is as large as the
        // weights and the tiny model's logits are steep: even Q8_0's 0.4% rounding moves its log-probabilities ~0.7.)
        let q8 = Self.temporary("merged-f16.gguf")
        defer { try? FileManager.default.removeItem(at: q8) }
        _ = try AdapterExport.merge(base: base, adapter: lora, type: .f16, to: q8)
        let requantised = try Llama(gguf: GGUFFile(path: q8.path))
        let error = QuantizedLlamaTests.worstTopLogProbabilityError(requantised.forward(tokens, cache: requantised.makeCache()).scalars,
                                                                     expected, vocabulary: 96)
        #expect(error < 0.1, "worst top-20 |Δ log p| after F16 rounding: \(error)")
    }

    @Test func anAdapterForAnotherModelIsRefusedBeforeWriting() throws {
        let base = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        var rng = RandomGenerator(seed: 1)
        var other = try LlamaConfiguration(gguf: base)
        other.feedForward = 128
        let lora = LlamaLoRA(LoRAConfiguration(rank: 2, alpha: 2, targets: [.up]), model: other, generator: &rng)
        let url = Self.temporary("refused.gguf")
        #expect(throws: GGUFError.self) { try AdapterExport.merge(base: base, adapter: lora, to: url) }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }
}

@Suite("Non-finite weights in GGUF files", .synapseRuntime)
struct GGUFNonFiniteTests {
    /// The tiny model with one matrix replaced: `attn_q` of layer 1 as F32 holding a NaN, or its Q4_1 blocks with an
    /// infinite scale (the fuzzer's finding: a float matrix with NaN trapped in the Q8_0 conversion at load).
    static func damaged(_ how: String) throws -> GGUFFile {
        let source = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        var writer = GGUFWriter()
        writer.copyMetadata(from: source)
        for info in source.tensors {
            guard info.name == "blk.1.attn_q.weight" else {
                writer.addTensor(info.name, dimensions: info.dimensions, type: info.type, bytes: source.data(of: info), owner: source.file)
                continue
            }
            if how == "f32" {
                var values = try GGMLBlocks.dequantize(info, of: source).scalars
                values[77] = .nan
                writer.addTensor(info.name, dimensions: info.dimensions, type: .f32, bytes: GGMLBlocks.quantize(.f32, Tensor(values)))
            } else {
                var bytes = Array(source.data(of: info))
                bytes[20 * 5] = 0x00; bytes[20 * 5 + 1] = 0x7C          // block 5's scale d = +∞ (fp16 0x7C00)
                writer.addTensor(info.name, dimensions: info.dimensions, type: info.type, bytes: bytes)
            }
        }
        let url = GGUFWriterTests.temporary("damaged-\(how).gguf")
        try writer.write(to: url)
        return try GGUFFile(path: url.path)
    }

    @Test(arguments: ["f32", "q4_1"])
    func everyModelRefusesThemNamingTheTensor(how: String) throws {
        let gguf = try Self.damaged(how)
        defer { try? FileManager.default.removeItem(atPath: gguf.path) }
        func message(_ load: () throws -> Void) -> String {
            do { try load(); return "loaded" } catch { return "\(error)" }
        }
        for text in [message { _ = try QuantizedLlama(gguf: gguf, threads: 1) }, message { _ = try Llama(gguf: gguf) }] {
            #expect(text.contains("blk.1.attn_q.weight") && text.contains("NaN or infinite"), "\(text)")
        }
    }

    @Test func quantisersNeverTrapOnNonFiniteValues() {
        let values = Tensor([Float.nan, .infinity, -.infinity, 1] + [Float](repeating: 0.5, count: 28))
        for type in GGMLBlocks.writable { _ = GGMLBlocks.quantize(type, values) }
    }
}
