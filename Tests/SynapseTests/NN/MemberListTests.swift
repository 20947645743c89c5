import Foundation
import Testing
@testable import Synapse

/// Every hand-written `members()` list (the fast path that skips `Mirror` on each `parameters()` call, and the place
/// PyTorch's key names come from) against reflection, on one instance of every class that writes one, all the way
/// down the tree. A class that adds an override without an instance here fails the test.
@Suite(.synapseRuntime) struct MemberListTests {
    /// One instance of each class with a hand-written list (the trees hold the nested ones).
    static func catalogue() -> [Module] {
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2d(2, 4, kernelSize: 3, padding: 1, generator: &rng)
        let linear = Linear(4, 3, generator: &rng)
        let bert = BERTModel(BERTConfiguration(vocabularySize: 11, hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16))
        return [
            Autoencoder(sizes: [6, 4, 2], noise: 0.1, generator: &rng),
            Autoencoder(convolutionalWithNoise: 0, generator: &rng),
            bert,
            GCNClassifier(inputFeatures: 3, hidden: [4, 2], classes: 2, generator: &rng),
            GPT(GPTConfiguration(vocabularySize: 7, blockSize: 4, layers: 1, heads: 2, embedding: 8, bias: true), seed: 1),
            RecurrentLanguageModel(.init(kind: .gru, vocabularySize: 5, embeddingSize: 4, hiddenSize: 6, layers: 2),
                                   generator: &rng),
            ReLU(), LeakyReLU(), Sigmoid(), Tanh(), GELU(), SiLU(), Softmax(),
            MultiHeadAttention(embedding: 8, heads: 2, generator: &rng),
            conv, Conv2d(2, 2, kernelSize: 3, bias: false, generator: &rng),
            Conv1d(2, 3, kernelSize: 3, generator: &rng),
            Dropout(), GaussianNoise(std: 0.1),
            Embedding(5, 3, generator: &rng),
            GraphConvolution(3, 2, generator: &rng), GraphConvolution(3, 2, bias: false, generator: &rng),
            linear, Linear(3, 2, bias: false, generator: &rng),
            LayerNorm(4), LayerNorm(4, elementwiseAffine: false), LayerNorm(4, bias: false),
            BatchNorm1d(3), BatchNorm1d(3, affine: false, trackRunningStatistics: false),
            Perceptron(inputCount: 2),
            MaxPool2d(kernelSize: 2), AvgPool2d(kernelSize: 2), AdaptiveAvgPool2d(outputSize: 1), GlobalAvgPool2d(),
            LSTM(inputSize: 3, hiddenSize: 4, layers: 2, generator: &rng),
            GRU(inputSize: 3, hiddenSize: 4, bias: false, generator: &rng),
            RNN(inputSize: 3, hiddenSize: 4, generator: &rng),
            Flatten(), Identity(),
            Sequential(Linear(2, 2, generator: &rng), ReLU()),
            TransformerBlock(embedding: 8, heads: 2, generator: &rng),
            Upsample(scale: 2), Unflatten([2, 2]),
            QATConv2d(conv), QATLinear(linear),
            QuantizedConv2d(conv, scheme: .zeroPoint, granularity: .perChannel),
            QuantizedLinear(linear, scheme: .absmax, granularity: .perTensor),
            ActorCritic(observationSize: 4, actionCount: 2, hidden: [8, 8], generator: &rng),
            LoRALinear(base: Linear(4, 3, generator: &rng), rank: 2, alpha: 4, dropout: 0.1, generator: &rng),
            LlamaLoRA(LoRAConfiguration(rank: 2, alpha: 4, targets: [.query, .down]),
                      model: LlamaConfiguration(vocabularySize: 10, contextLength: 8, layers: 2, embedding: 8, feedForward: 12,
                                                heads: 2, keyValueHeads: 1), generator: &rng),
        ]
    }

    /// The storages of every tensor in the tree below `module`, walked through `members()` or through reflection,
    /// and the type names of the modules met on the way.
    static func walk(_ module: Module, reflected: Bool) -> (storages: [ObjectIdentifier], types: Set<String>) {
        let members = reflected ? module.reflectedMembers() : module.members()
        var storages = members.tensors.map(\.tensor.storageIdentifier)
        // The class and its ancestors (an override in `RecurrentLayer` serves LSTM, GRU and RNN).
        var types: Set<String> = []
        var mirror: Mirror? = Mirror(reflecting: module)
        while let m = mirror { types.insert(String(describing: m.subjectType)); mirror = m.superclassMirror }
        for child in members.children {
            let below = walk(child.module, reflected: reflected)
            storages += below.storages
            types.formUnion(below.types)
        }
        return (storages, types)
    }

    /// The classes in Sources/Synapse that override `members()`.
    static func classesWithHandWrittenLists() throws -> Set<String> {
        var names: Set<String> = []
        let declaration = try Regex(#"^\s*(?:public |open |private |fileprivate |final )*class (\w+)"#)
        for (_, text) in try LayeringTests.files() {
            var current: String?
            for line in text.split(separator: "\n") {
                if let match = line.firstMatch(of: declaration), let name = match.output[1].substring,
                   !["var", "func", "let"].contains(name) {
                    current = String(name)
                }
                if line.contains("override func members()"), let current { names.insert(current) }
            }
        }
        return names
    }

    /// The lists may rename (PyTorch's `weight_ih_l0`, `0.weight`) and reorder, but must reach exactly the tensors
    /// reflection finds: a forgotten parameter would not train, save or load.
    @Test func everyHandWrittenListReachesWhatReflectionFinds() throws {
        var seen: Set<String> = []
        for module in Self.catalogue() {
            let name = String(describing: type(of: module))
            let (fast, fastTypes) = Self.walk(module, reflected: false)
            let (reflected, reflectedTypes) = Self.walk(module, reflected: true)
            #expect(Set(fast).count == fast.count, "\(name): a tensor listed twice")
            #expect(Set(fast) == Set(reflected), "\(name): members() reaches \(fast.count) tensors, reflection \(reflected.count)")
            seen.formUnion(fastTypes.union(reflectedTypes))
        }
        let written = try Self.classesWithHandWrittenLists()
        #expect(written.count > 35, "found \(written.sorted())")
        let missing = written.subtracting(seen)
        #expect(missing.isEmpty, "no instance in MemberListTests.catalogue() for \(missing.sorted())")
    }
}
