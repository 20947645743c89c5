import Foundation
import Testing
@testable import Synapse

/// State dicts through safetensors, to and from PyTorch. The fixtures were saved by PyTorch
/// (scripts/torch_roundtrip.py); when SYNAPSE_EXPORT_DIR is set, the Synapse-saved files are also written there for
/// that script to load into PyTorch.
@Suite(.synapseRuntime) struct CheckpointTests {
    static func mlp() -> Sequential { Sequential(Linear(4, 8), ReLU(), Linear(8, 3)) }
    static func mlpWithBatchNorm() -> Sequential { Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3)) }

    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("synapse-\(UUID().uuidString)-\(name)")
    }

    @Test(arguments: ["mlp_4_8_3", "mlp_bn_4_8_3"])
    func loadsPyTorchSavedModelAndMatchesItsOutputs(name: String) throws {
        let model = name == "mlp_4_8_3" ? Self.mlp() : Self.mlpWithBatchNorm()
        try model.load(from: Fixtures.url(name + ".safetensors"))
        model.eval()
        let reference = try Fixtures.json(name + ".json")
        let output = noGrad { model(Fixtures.tensor(reference["input"]!)) }
        expectClose(output, Fixtures.tensor(reference["output"]!), rtol: 1e-5, atol: 1e-6, name)
        if name == "mlp_bn_4_8_3" {
            #expect(model.stateDict()["1.num_batches_tracked"]!.item == 3)   // stored by PyTorch as I64
        }
    }

    @Test(arguments: ["mlp_4_8_3", "mlp_bn_4_8_3"])
    func synapseSavedFileHasExactlyPyTorchsKeysDtypesAndShapes(name: String) throws {
        var rng = RandomGenerator(seed: 21)
        let model = name == "mlp_4_8_3" ? Self.mlp() : Self.mlpWithBatchNorm()
        if name == "mlp_bn_4_8_3" {
            _ = model(Tensor.randn([16, 4], generator: &rng))   // move the running statistics
            model.eval()
        }
        let url = Self.temporaryURL(name + ".safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)

        let saved = try SafeTensorsFile(contentsOf: url)
        let pytorch = try SafeTensorsFile(contentsOf: Fixtures.url(name + ".safetensors"))
        #expect(saved.names == pytorch.names)
        for key in pytorch.names {
            #expect(saved.tensors[key]?.dtype == pytorch.tensors[key]!.dtype, "\(key) dtype")
            #expect(saved.tensors[key]?.shape == pytorch.tensors[key]!.shape, "\(key) shape")
        }
        // The keys PyTorch's state_dict() lists, in its order.
        let reference = try Fixtures.json(name + ".json")
        #expect(model.orderedStateDict().map(\.key) == reference["keys"] as! [String])

        // Round trip: a fresh model loaded from the file computes the same function.
        let copy = name == "mlp_4_8_3" ? Self.mlp() : Self.mlpWithBatchNorm()
        try copy.load(from: url)
        copy.eval()
        let x = Tensor.randn([5, 4], generator: &rng)
        let y = noGrad { model(x) }
        #expect(noGrad { copy(x) }.scalars == y.scalars)

        if let directory = ProcessInfo.processInfo.environment["SYNAPSE_EXPORT_DIR"] {
            let base = URL(fileURLWithPath: directory)
            try model.save(to: base.appendingPathComponent("synapse_\(name).safetensors"))
            let json: [String: Any] = [
                "input": ["shape": x.shape, "data": x.scalars.map(Double.init)],
                "output": ["shape": y.shape, "data": y.scalars.map(Double.init)],
            ]
            try JSONSerialization.data(withJSONObject: json).write(to: base.appendingPathComponent("synapse_\(name).json"))
        }
    }

    @Test func loadingIntoTheWrongArchitectureNamesTheFileAndKeys() throws {
        let wide = Sequential(Linear(4, 16), ReLU(), Linear(16, 3), ReLU())
        let before = wide.stateDict()["0.weight"]!.scalars
        do {
            try wide.load(from: Fixtures.url("mlp_4_8_3.safetensors"))
            Issue.record("loading a 4-8-3 checkpoint into a 4-16-3 model should fail")
        } catch let error as StateDictError {
            #expect(error.file == "mlp_4_8_3.safetensors")
            #expect(error.shapeMismatches.map(\.key) == ["0.weight", "0.bias", "2.weight"])
            #expect(error.description.hasPrefix("mlp_4_8_3.safetensors: "))
            #expect(error.description.contains("0.weight: checkpoint has [8, 4], the model expects [16, 4]"))
        }
        #expect(wide.stateDict()["0.weight"]!.scalars == before)

        let withNorm = Self.mlpWithBatchNorm()
        #expect(throws: StateDictError.self) { try Self.mlp().load(from: Fixtures.url("mlp_bn_4_8_3.safetensors")) }
        do {
            try withNorm.load(from: Fixtures.url("mlp_4_8_3.safetensors"))
            Issue.record("loading a plain MLP checkpoint into a model with BatchNorm should fail")
        } catch let error as StateDictError {
            #expect(error.missingKeys == ["1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"])
            #expect(error.unexpectedKeys == ["2.bias", "2.weight"])
        }
    }

    @Test func unreadableFilesThrowSafeTensorsErrors() throws {
        let url = Self.temporaryURL("garbage.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([1, 2, 3]).write(to: url)
        #expect(throws: SafeTensorsError.self) { try Self.mlp().load(from: url) }
        #expect(throws: SafeTensorsError.self) { try Self.mlp().load(from: Self.temporaryURL("missing.safetensors")) }
    }
}
