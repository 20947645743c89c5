import Foundation
import Testing
@testable import Synapse

enum FinetuneFixtures {
    static func url(_ name: String) -> URL { Fixtures.url("finetune/" + name) }
    static var gguf: GGUFFile { get throws { try GGUFFile(path: url("tiny_llama.gguf").path) } }
}

/// LoRA on the Llama decoder against PyTorch + PEFT (scripts/make_finetune_fixtures.py): the same GGUF-stored tiny
/// model, PEFT's own adapter files read back, logits, the masked loss and every adapter gradient.
@Suite("LoRA Llama (against PyTorch + PEFT)", .synapseRuntime)
struct TrainableLlamaTests {
    /// The worst |a − e| relative to the largest |e|.
    static func relativeError(_ a: [Float], _ e: [Float]) -> Float { LlamaTests.relativeError(a, e) }

    @Test(arguments: TrainableLlama.Base.allCases)
    func logitsLossAndGradientsMatchPEFT(base: TrainableLlama.Base) throws {
        let gguf = try FinetuneFixtures.gguf
        let configuration = try LlamaConfiguration(gguf: gguf)
        let lora = try LoRAAdapterFile.load(FinetuneFixtures.url("peft_adapter"), model: configuration)
        #expect(lora.configuration.rank == 4 && lora.configuration.alpha == 8)
        #expect(lora.configuration.targets == Set(LlamaProjection.allCases))
        let model = try TrainableLlama(gguf: gguf, base: base, lora: lora)
        let fixture = try Fixtures.json("finetune/peft.json")
        let tokens = (fixture["tokens"] as! [NSNumber]).map(\.intValue)
        let targets = (fixture["targets"] as! [NSNumber]).map { $0.intValue < 0 ? -1 : $0.intValue }
        let logits = model.logits(tokens, batch: 2)
        #expect(Self.relativeError(logits.scalars, (fixture["logits"] as! [NSNumber]).map(\.floatValue)) < 1e-5)

        let (loss, count) = model.loss(tokens: tokens, targets: targets, batch: 2)
        #expect(count == targets.filter { $0 >= 0 }.count)
        let expectedLoss = (fixture["loss_sum"] as! NSNumber).floatValue
        #expect(abs(loss.item - expectedLoss) / expectedLoss < 1e-5)
        loss.backward()
        let expected = fixture["gradients"] as! [String: [NSNumber]]
        let ours = try gradientsInPEFTLayout(lora, model: configuration)
        #expect(Set(ours.keys) == Set(expected.keys))
        for (name, values) in expected {
            let error = Self.relativeError(ours[name]!.scalars, values.map(\.floatValue))
            #expect(error < 1e-4, "\(name): relative error \(error)")
        }
    }

    /// The adapters' gradients under PEFT's keys and row order (what `LoRAAdapterFile.save` would write).
    func gradientsInPEFTLayout(_ lora: LlamaLoRA, model: LlamaConfiguration) throws -> [String: Tensor] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lora-grad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let gradients = LlamaLoRA(lora.configuration, adapters: lora.adapters.map { layer in
            layer.mapValues { LoRAAdapter(a: $0.down.weight.grad!, b: $0.up.weight.grad!, alpha: $0.alpha) }
        })
        try LoRAAdapterFile.save(gradients, model: model, to: directory)
        return try SafeTensorsFile(contentsOf: directory.appendingPathComponent(LoRAAdapterFile.weightsName)).floatTensors()
    }

    @Test func inferenceModelsApplyTheAdapterAsTrainingComputesIt() throws {
        let gguf = try FinetuneFixtures.gguf
        let lora = try LoRAAdapterFile.load(FinetuneFixtures.url("peft_adapter"), model: try LlamaConfiguration(gguf: gguf))
        let tokens = [3, 50, 17, 8, 90, 1, 64, 33, 12, 5, 77]
        let training = try TrainableLlama(gguf: gguf, lora: lora).logits(tokens, batch: 1).scalars
        let float = try Llama(gguf: gguf, adapter: lora)
        let merged = float.forward(tokens, cache: float.makeCache()).scalars
        #expect(Self.relativeError(merged, training) < 1e-5)
        // The native path adds B·A·x beside its integer block products, by token and by chunk alike.
        let plain = try Llama(gguf: gguf).forward(tokens, cache: float.makeCache()).scalars
        for path in GGMLMatmul.availablePaths {
            for threads in [1, 2] {
                let native = try QuantizedLlama(gguf: gguf, threads: threads, path: path, adapter: lora)
                let whole = native.forward(tokens, cache: native.makeCache()).scalars
                let error = QuantizedLlamaTests.worstTopLogProbabilityError(whole, merged, vocabulary: 96)
                #expect(error < 0.1, "\(path), \(threads) threads: worst top-20 |Δ log p| = \(error)")
                #expect(QuantizedLlamaTests.worstTopLogProbabilityError(plain, merged, vocabulary: 96) > 10 * error,
                        "the adapter must make a difference the native path reproduces")
                let cache = native.makeCache()
                var stepwise = native.forward(Array(tokens[0..<5]), cache: cache).scalars
                for t in tokens[5...] { stepwise += native.forward([t], cache: cache).scalars }
                #expect(LlamaTests.relativeError(stepwise, whole) < 2e-4)
            }
        }
    }

    @Test func zeroAdaptersGiveTheFloatReferenceModel() throws {
        let gguf = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        let configuration = try LlamaConfiguration(gguf: gguf)
        var rng = RandomGenerator(seed: 3)
        let lora = LlamaLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: [.query, .value, .down]), model: configuration, generator: &rng)
        let model = try TrainableLlama(gguf: gguf, lora: lora)
        let reference = try Llama(gguf: gguf)
        let tokens = [5, 17, 200, 3, 99, 42, 7, 0, 150]
        let expected = reference.forward(tokens, cache: reference.makeCache())
        #expect(Self.relativeError(model.logits(tokens, batch: 1).scalars, expected.scalars) < 1e-5)
        // Three sequences at once: each row of the batch is its own sequence.
        let batch = model.logits(tokens + tokens.reversed() + tokens, batch: 3)
        #expect(Self.relativeError(Array(batch.scalars[(2 * 9 * 300)...]), expected.scalars) < 1e-5)
        // A fresh adapter changes nothing (B = 0) and its B gets a gradient, its A none yet.
        let (loss, _) = model.loss(tokens: tokens, targets: Array(tokens.dropFirst()) + [-1], batch: 1)
        loss.backward()
        let adapter = lora.adapter(layer: 1, .value)!
        #expect(adapter.up.weight.grad!.scalars.contains { $0 != 0 })
        #expect(adapter.down.weight.grad!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func adapterFilesRoundTripAndRefuseWhatDoesNotFit() throws {
        let gguf = try FinetuneFixtures.gguf
        let configuration = try LlamaConfiguration(gguf: gguf)
        let peft = try LoRAAdapterFile.load(FinetuneFixtures.url("peft_adapter"), model: configuration)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lora-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try LoRAAdapterFile.save(peft, model: configuration, to: directory, baseModel: "tiny")
        // PEFT's file and ours hold the same tensors under the same keys, bit for bit.
        let theirs = try SafeTensorsFile(contentsOf: FinetuneFixtures.url("peft_adapter/adapter_model.safetensors")).floatTensors()
        let mine = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(LoRAAdapterFile.weightsName)).floatTensors()
        #expect(Set(theirs.keys) == Set(mine.keys))
        for (key, tensor) in theirs { #expect(mine[key]!.scalars == tensor.scalars, "\(key)") }
        let again = try LoRAAdapterFile.load(directory.appendingPathComponent(LoRAAdapterFile.weightsName), model: configuration)
        #expect(again.configuration == peft.configuration)

        // Another model's shape, a rank that the config does not state, a missing B: one clear error each.
        var other = configuration
        other.feedForward = 128
        #expect(throws: LoRAAdapterError.self) { try LoRAAdapterFile.load(directory, model: other) }
        let config = directory.appendingPathComponent(LoRAAdapterFile.configurationName)
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "\"r\": 4", with: "\"r\": 8").write(to: config, atomically: true, encoding: .utf8)
        do {
            _ = try LoRAAdapterFile.load(directory, model: configuration)
            Issue.record("a rank that does not match the tensors was accepted")
        } catch {
            // The modules are checked in name order: layer 0's down projection (in-features 96) comes first.
            #expect(error.description.contains("\"model.layers.0.mlp.down_proj\" has A [4, 96] and B [64, 4]; this model with r 8 needs [8, 96] and [64, 8]"), "\(error)")
        }
        try text.replacingOccurrences(of: "\"use_dora\": false", with: "\"use_dora\": true").write(to: config, atomically: true, encoding: .utf8)
        #expect(throws: LoRAAdapterError.self) { try LoRAAdapterFile.load(directory, model: configuration) }
        try text.write(to: config, atomically: true, encoding: .utf8)
        var file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(LoRAAdapterFile.weightsName))
        file.tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"] = nil
        try file.write(to: directory.appendingPathComponent(LoRAAdapterFile.weightsName))
        do {
            _ = try LoRAAdapterFile.load(directory, model: configuration)
            Issue.record("an adapter without its B was accepted")
        } catch {
            #expect(error.description.contains("has lora_A but no lora_B"), "\(error)")
        }
    }

    @Test func rowOrderConversionIsAPermutationAndItsInverse() {
        var rng = RandomGenerator(seed: 9)
        let b = Tensor.randn([12, 3], generator: &rng)
        let gguf = LoRAAdapterFile.reorderRows(b, headDim: 6, toGGUF: true)
        #expect(LoRAAdapterFile.reorderRows(gguf, headDim: 6, toGGUF: false).scalars == b.scalars)
        // Hugging Face row 3 of head 0 (second half, pair 0) is GGUF row 1.
        #expect(Array(gguf.scalars[3..<6]) == Array(b.scalars[9..<12]))
    }
}

@Suite("LoRA adapters and frozen block products", .synapseRuntime)
struct LoRATests {
    @Test func freshAdapterStartsAtTheBaseAndDrawsAAsPEFT() {
        var rng = RandomGenerator(seed: 1)
        let base = Linear(16, 8, generator: &rng)
        let lora = LoRALinear(base: base, rank: 4, alpha: 8, generator: &rng)
        let x = Tensor.randn([5, 16], generator: &rng)
        #expect(lora(x).scalars == base(x).scalars)
        #expect(lora.adapter.up.weight.scalars.allSatisfy { $0 == 0 })
        #expect(lora.adapter.down.weight.scalars.allSatisfy { abs($0) <= 0.25 })       // 1/√16
        #expect(lora.parameters().count == 2)                                          // A and B only
        #expect(lora.adapter.scale == 2)
    }

    @Test func adapterGradientsAndMergeAreRight() {
        var rng = RandomGenerator(seed: 2)
        let base = Tensor.randn([6, 5], generator: &rng)
        let a = Tensor.randn([3, 5], generator: &rng), b = Tensor.randn([6, 3], generator: &rng)
        let x = Tensor.randn([4, 5], generator: &rng)
        // The module against its formula, (α/r)·x·Aᵀ·Bᵀ on fresh leaves (whose ops have their own checks).
        let adapter = LoRAAdapter(a: a, b: b, alpha: 6)
        let (al, bl) = (a.requiringGrad(), b.requiringGrad())
        let formula = ((x.linear(weight: al) * 2).linear(weight: bl)).tanh().sum()
        let module = adapter(x).tanh().sum()
        #expect(abs(module.item - formula.item) <= 1e-5 * abs(formula.item))
        formula.backward()
        module.backward()
        expectClose(adapter.down.weight.grad!, al.grad!, rtol: 1e-5, atol: 1e-6, "∂A")
        expectClose(adapter.up.weight.grad!, bl.grad!, rtol: 1e-5, atol: 1e-6, "∂B")
        let linear = LoRALinear(base: Linear(weight: base), rank: 3, alpha: 6, generator: &rng)
        linear.adapter.up.weight = b.requiringGrad()
        expectClose(linear.merged()(x), linear(x), rtol: 1e-5, atol: 1e-5, "merged")
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0, .f16, .f32])
    func frozenBlockProductEqualsTheDequantisedReference(type: GGMLType) {
        var rng = RandomGenerator(seed: 3)
        let weight = GGMLMatrix(quantizing: Tensor.randn([40, 64], generator: &rng), to: type)
        let dense = weight.dequantized()
        let x = Tensor.randn([2, 3, 64], generator: &rng).requiringGrad()
        let y = x.linear(frozen: weight)
        let reference = x.linear(weight: dense)
        #expect(y.scalars == reference.scalars)
        let g = Tensor.randn([2, 3, 40], generator: &rng)
        y.backward(g)
        let gx = x.grad!
        x.zeroGrad()
        reference.backward(g)
        expectClose(gx, x.grad!, rtol: 1e-5, atol: 1e-5, "∂x")
        // Finite differences on the frozen product itself.
        let report = GradCheck.check([Tensor.randn([3, 64], generator: &rng)]) { t in t[0].linear(frozen: weight).tanh().sum() }
        #expect(report.passed, "\(report)")
    }

    @Test func frozenProductsSplitIntoPanelsGiveTheSameRows() {
        // A head-sized matrix is multiplied in panels; the panels' seams change nothing.
        var rng = RandomGenerator(seed: 4)
        let rows = FrozenPanels.panelFloats / 32 + 37
        let weight = GGMLMatrix(quantizing: Tensor.randn([rows, 32], generator: &rng), to: .q8_0)
        let x = Tensor.randn([5, 32], generator: &rng).requiringGrad()
        let y = x.linear(frozen: weight)
        expectClose(y, x.linear(weight: weight.dequantized()), rtol: 1e-6, atol: 1e-6, "panels")
        y.sum().backward()
        let expected = noGrad { Tensor.ones([5, rows]).matmul(weight.dequantized()) }
        expectClose(x.grad!, expected, rtol: 1e-4, atol: 1e-3, "∂x over panels")
    }

    @Test func repeatedHeadsCopyAndTheirGradientsAdd() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randn([2, 3, 4], generator: &rng)            // 2 heads of 2
        let y = x.repeatingHeads(groups: 3, headDim: 2)            // 6 heads
        #expect(y.shape == [2, 3, 12])
        #expect(Array(y.scalars[0..<6]) == [x.scalars[0], x.scalars[1], x.scalars[0], x.scalars[1], x.scalars[0], x.scalars[1]])
        let weights = Tensor.randn([2, 3, 12], generator: &rng)
        let checked = GradCheck.check([x]) { t in (t[0].repeatingHeads(groups: 3, headDim: 2) * weights).sum() }
        #expect(checked.passed, "\(checked)")
    }

    @Test func quantisersWriteTheBytesOfTheGGUFPackage() throws {
        let fixture = try Fixtures.json("finetune/quantize.json")
        let values = (fixture["values"] as! [NSNumber]).map(\.floatValue)
        for type in [GGMLType.q4_0, .q4_1, .q8_0] {
            let expected = (fixture[type.description] as! [NSNumber]).map(\.uint8Value)
            let bytes = GGMLBlocks.quantize(type, Tensor(values))
            #expect(bytes == expected, "\(type)")
        }
    }
}
