import Testing
@testable import Synapse

/// A custom model as a user would write it: nested children, an array of layers, an optional layer, a buffer.
private final class Block: Module {
    let fc: Linear
    let norm: LayerNorm
    init(_ width: Int, generator: inout RandomGenerator) {
        fc = Linear(width, width, generator: &generator)
        norm = LayerNorm(width)
        super.init()
    }
    override func callAsFunction(_ x: Tensor) -> Tensor { norm(fc(x).relu()) + x }
}

private final class Tower: Module {
    let embed: Linear
    let blocks: [Block]
    let head: Linear?
    let unused: Linear? = nil
    var scale = Tensor([2])          // no grad: a buffer
    let name = "tower"               // not state
    init(generator: inout RandomGenerator) {
        embed = Linear(3, 4, generator: &generator)
        blocks = [Block(4, generator: &generator), Block(4, generator: &generator)]
        head = Linear(4, 2, bias: false, generator: &generator)
        super.init()
    }
    override func callAsFunction(_ x: Tensor) -> Tensor {
        var h = embed(x)
        for block in blocks { h = block(h) }
        return head!(h) * scale
    }
}

@Suite(.synapseRuntime) struct ModuleTests {
    @Test func customModuleDiscoversNestedParametersByName() {
        var rng = RandomGenerator(seed: 1)
        let model = Tower(generator: &rng)
        #expect(model.namedParameters().map(\.name) == [
            "embed.weight", "embed.bias",
            "blocks.0.fc.weight", "blocks.0.fc.bias", "blocks.0.norm.weight", "blocks.0.norm.bias",
            "blocks.1.fc.weight", "blocks.1.fc.bias", "blocks.1.norm.weight", "blocks.1.norm.bias",
            "head.weight",
        ])
        #expect(model.namedBuffers().map(\.name) == ["scale"])
        #expect(model.parameterCount == (3 * 4 + 4) + 2 * (4 * 4 + 4 + 4 + 4) + 4 * 2)
        #expect(Set(model.stateDict().keys) == Set(model.namedParameters().map(\.name) + ["scale"]))
        #expect(model.namedModules().map(\.name) == ["", "embed", "blocks.0", "blocks.0.fc", "blocks.0.norm",
                                                     "blocks.1", "blocks.1.fc", "blocks.1.norm", "head"])
        #expect(model.children.count == 4)
    }

    @Test func gradientsReachTheStoredParametersAndZeroGradClearsThem() {
        var rng = RandomGenerator(seed: 2)
        let model = Tower(generator: &rng)
        let x = Tensor.randn([5, 3], generator: &rng)
        model(x).sum().backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        #expect(model.blocks[1].fc.weight.grad != nil)
        model.zeroGrad()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test func trainAndEvalReachEveryModule() {
        var rng = RandomGenerator(seed: 3)
        let model = Tower(generator: &rng)
        #expect(model.namedModules().allSatisfy { $0.module.isTraining })
        model.eval()
        #expect(model.namedModules().allSatisfy { !$0.module.isTraining })
        model.train()
        #expect(model.blocks[0].norm.isTraining)
    }

    @Test func sharedParametersAreListedOnce() {
        let a = Linear(2, 2)
        let tied = Sequential(a, ReLU(), a)
        #expect(tied.parameters().count == 2)
        #expect(tied.stateDict().count == 4)  // like PyTorch: both names are kept in the state dict
    }

    @Test func sequentialNamesChildrenByIndexLikePyTorch() {
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        #expect(model.orderedStateDict().map(\.key) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        let nested = Sequential(Sequential(Linear(2, 2)), BatchNorm1d(2))
        #expect(nested.orderedStateDict().map(\.key) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias",
                                                         "1.running_mean", "1.running_var", "1.num_batches_tracked"])
    }

    @Test func loadStateDictCopiesInPlace() throws {
        var rng = RandomGenerator(seed: 4)
        let source = Tower(generator: &rng), target = Tower(generator: &rng)
        let weightBefore = target.embed.weight
        try target.load(stateDict: source.stateDict())
        for (key, value) in source.stateDict() { #expect(target.stateDict()[key]!.scalars == value.scalars, "\(key)") }
        // In place: the tensor the layer held before (and any optimizer holding it) sees the new values.
        #expect(weightBefore.scalars == source.embed.weight.scalars)
        #expect(weightBefore.storageIdentifier == target.embed.weight.storageIdentifier)
        let x = Tensor.randn([2, 3], generator: &rng)
        #expect(source(x).scalars == target(x).scalars)
    }

    @Test func loadStateDictReportsMissingUnexpectedAndMismatchedKeysByName() {
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        var state = model.stateDict()
        state["2.bias"] = nil
        state["3.weight"] = Tensor.zeros([3])
        state["0.weight"] = Tensor.zeros([4, 8])
        let before = model[0].stateDict()["weight"]!.scalars
        do {
            try model.load(stateDict: state)
            Issue.record("load should have thrown")
        } catch {
            #expect(error.missingKeys == ["2.bias"])
            #expect(error.unexpectedKeys == ["3.weight"])
            #expect(error.shapeMismatches == [.init(key: "0.weight", expected: [8, 4], found: [4, 8])])
            #expect(error.description.contains("missing keys: 2.bias"))
            #expect(error.description.contains("unexpected keys: 3.weight"))
            #expect(error.description.contains("0.weight"))
        }
        // Nothing was written.
        #expect(model[0].stateDict()["weight"]!.scalars == before)
        // Non-strict loading ignores missing and unexpected keys, but never a shape mismatch.
        state["0.weight"] = Tensor.ones([8, 4])
        #expect(throws: Never.self) { try model.load(stateDict: state, strict: false) }
        #expect(model[0].stateDict()["weight"]!.scalars == [Float](repeating: 1, count: 32))
    }

    @Test func summaryTabulatesLayersShapesAndCounts() {
        let model = Sequential(Linear(784, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 10))
        let table = model.summary(inputShape: [1, 784])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("0 (Linear)") && $0.contains("[1, 16]") && $0.hasSuffix("12,560") })
        #expect(lines.contains { $0.contains("4 (Linear)") && $0.contains("[1, 10]") && $0.hasSuffix("170") })
        #expect(lines.contains { $0.contains("(Sequential)") && $0.contains("[1, 10]") })
        #expect(lines.contains("Total params: 13,002"))
    }

    @Test func summaryLeavesModesAndRunningStatisticsAlone() {
        let bn = BatchNorm1d(3)
        let model = Sequential(Linear(2, 3), bn, Dropout(probability: 0.5))
        let table = model.summary(inputShape: [4, 2])
        #expect(table.contains("Non-trainable (buffer) values: 7"))
        #expect(model.isTraining && bn.isTraining)
        #expect(bn.stateDict()["num_batches_tracked"]!.item == 0)
        var rng = RandomGenerator(seed: 5)
        let custom = Tower(generator: &rng).summary(inputShape: [2, 3])
        #expect(custom.contains("(Tower)") && custom.contains("[2, 2]") && custom.contains("blocks.1 (Block)"))
    }

    @Test func builtInMemberListsAgreeWithReflection() {
        let layers: [Module] = [Linear(3, 2), Linear(3, 2, bias: false), LayerNorm(4), LayerNorm(4, elementwiseAffine: false),
                                LayerNorm(4, bias: false), BatchNorm1d(3), BatchNorm1d(3, affine: false, trackRunningStatistics: false),
                                ReLU(), LeakyReLU(), Sigmoid(), Tanh(), GELU(), SiLU(), Softmax(), Dropout(), Flatten(),
                                Identity(), Perceptron(inputCount: 2)]
        for layer in layers {
            let fast = layer.members(), reflected = layer.reflectedMembers()
            #expect(fast.tensors.map(\.name) == reflected.tensors.map(\.name), "\(type(of: layer))")
            #expect(fast.tensors.map(\.tensor.storageIdentifier) == reflected.tensors.map(\.tensor.storageIdentifier))
            #expect(fast.children.isEmpty && reflected.children.isEmpty)
        }
        let sequential = Sequential(Linear(2, 2), ReLU())
        #expect(sequential.members().children.map { ObjectIdentifier($0.module) }
                == sequential.reflectedMembers().children.map { ObjectIdentifier($0.module) })
    }

    @Test func sequentialSubclassKeepsItsOwnState() {
        final class Scaled: Sequential {
            var gain = Tensor([3]).requiringGrad()
            let tail = Linear(2, 1)
        }
        let model = Scaled([Linear(2, 2), ReLU()])
        #expect(model.orderedStateDict().map(\.key) == ["gain", "0.weight", "0.bias", "tail.weight", "tail.bias"])
    }

    @Test func groupedNumbers() {
        #expect(Module.grouped(0) == "0")
        #expect(Module.grouped(999) == "999")
        #expect(Module.grouped(13_002) == "13,002")
        #expect(Module.grouped(1_234_567) == "1,234,567")
    }
}
