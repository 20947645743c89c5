import Foundation
import Testing
@testable import Synapse

/// Sizes a model file states are checked against the tensors it stores before anything is allocated: a small file
/// whose metadata claims a huge model is refused in a moment, naming the tensor and the metadata keys.
@Suite(.synapseRuntime) struct ModelFileSizeTests {
    static func savedModel(_ model: any LanguageModel, tokenizer: CharacterTokenizer) throws -> (URL, SafeTensorsFile) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-lm-\(UUID().uuidString).safetensors")
        try LanguageModelFile.save(model, tokenizer: tokenizer, to: url)
        return (url, try SafeTensorsFile(contentsOf: url))
    }

    /// The saved file with one metadata value replaced.
    static func edited(_ file: SafeTensorsFile, _ key: String, _ value: String) throws -> URL {
        var copy = file
        copy.metadata[key] = value
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-lm-\(UUID().uuidString).safetensors")
        try copy.write(to: url)
        return url
    }

    @Test(arguments: [("synapse.lm.hidden", "100000"), ("synapse.lm.embedding", "1000000"),
                      ("synapse.lm.layers", "1000000")])
    func aRecurrentModelWithInflatedSizesIsRefused(key: String, value: String) throws {
        let tokenizer = CharacterTokenizer(corpus: "abcd\n")
        var rng = RandomGenerator(seed: 1)
        let model = RecurrentLanguageModel(.init(kind: .lstm, vocabularySize: tokenizer.vocabularySize, embeddingSize: 4,
                                                 hiddenSize: 6, layers: 1), generator: &rng)
        let (original, file) = try Self.savedModel(model, tokenizer: tokenizer)
        defer { try? FileManager.default.removeItem(at: original) }
        _ = try LanguageModelFile.load(from: original)               // the unedited file loads
        let url = try Self.edited(file, key, value)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            try LanguageModelFile.load(from: url)
        } throws: { error in
            guard case .shapeMismatch(_, _, _, _, let keys)? = error as? LanguageModelFile.Error else { return false }
            return keys.contains(key) && "\(error)".contains("damaged")
        }
    }

    @Test(arguments: [("synapse.lm.block", "100000000"), ("synapse.lm.embedding", "65536"), ("synapse.lm.layers", "4096")])
    func aGPTWithInflatedSizesIsRefused(key: String, value: String) throws {
        let tokenizer = CharacterTokenizer(corpus: "abcd\n")
        let model = GPT(GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: 8, layers: 1, heads: 2,
                                         embedding: 8), seed: 1)
        let (original, file) = try Self.savedModel(model, tokenizer: tokenizer)
        defer { try? FileManager.default.removeItem(at: original) }
        let url = try Self.edited(file, key, value)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: LanguageModelFile.Error.self) { try LanguageModelFile.load(from: url) }
    }

    /// Sizes beyond `maximumSize` are refused as values, before any product of them (gates × hidden) can overflow:
    /// a recurrent file claiming hidden size 2^62 used to trap on the multiplication.
    @Test(arguments: [("lstm", "synapse.lm.hidden"), ("lstm", "synapse.lm.embedding"), ("gpt", "synapse.lm.embedding"),
                      ("gpt", "synapse.lm.heads"), ("gpt", "synapse.lm.block")])
    func sizesBeyondTheLimitAreRefusedBeforeArithmetic(kind: String, key: String) throws {
        let tokenizer = CharacterTokenizer(corpus: "abcd\n")
        var rng = RandomGenerator(seed: 3)
        let model: any LanguageModel = kind == "gpt"
            ? GPT(GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: 8, layers: 1, heads: 2, embedding: 8), seed: 1)
            : RecurrentLanguageModel(.init(kind: .lstm, vocabularySize: tokenizer.vocabularySize, embeddingSize: 4,
                                           hiddenSize: 6, layers: 1), generator: &rng)
        let (original, file) = try Self.savedModel(model, tokenizer: tokenizer)
        defer { try? FileManager.default.removeItem(at: original) }
        for value in ["4611686018427387904", String(LanguageModelFile.maximumSize + 1), "0", "-3"] {
            let url = try Self.edited(file, key, value)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(throws: LanguageModelFile.Error.badMetadata(file: url.lastPathComponent, key: key, value: value)) {
                try LanguageModelFile.load(from: url)
            }
        }
    }
}

/// A model file with NaN or infinite weights is refused at load, naming the tensor.
@Suite(.synapseRuntime) struct NonFiniteWeightTests {
    @Test func aClassifierWithANaNWeightIsRefused() throws {
        var rng = RandomGenerator(seed: 2)
        let model = MNISTArchitecture.mlp.makeModel(generator: &rng)
        let first = try #require(model.namedParameters().first?.parameter)
        first.withSharedMutableStorage { $0[3] = .nan; $0[5] = .infinity }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-nan-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ClassifierFile.save(model, architecture: .mlp, dataset: .digits, to: url)
        #expect(throws: ModelFile.Error.nonFiniteWeights(file: url.lastPathComponent, tensor: "0.weight", count: 2)) {
            try ClassifierFile.load(from: url)
        }
    }
}

/// The same for autoencoder files and Hugging Face BERT folders: stated sizes are checked against stored tensors first.
@Suite(.synapseRuntime) struct StatedSizeTests {
    @Test func anAutoencoderWithInflatedWidthsIsRefused() throws {
        var rng = RandomGenerator(seed: 5)
        let model = Autoencoder(sizes: [784, 16, 4], generator: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-ae-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try AutoencoderFile.save(model, dataset: .digits, threshold: 0.02, to: url)
        _ = try AutoencoderFile.load(from: url)
        var file = try SafeTensorsFile(contentsOf: url)
        file.metadata[AutoencoderFile.sizesKey] = "784,100000,100000,4"
        try file.write(to: url)
        #expect {
            try AutoencoderFile.load(from: url)
        } throws: { "\($0)".contains("more weights than the file") }
    }

    @Test func aBERTConfigWithInflatedSizesIsRefusedBeforeAllocating() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Real small weights, a config that claims a giant model.
        let small = BERTModel(BERTConfiguration(vocabularySize: 6, hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16,
                                                maximumPositions: 16))
        var tensors: [String: Tensor] = [:]
        let state = small.stateDict()
        for (huggingFace, synapse) in HuggingFaceBERT.names(layers: 1) { tensors[huggingFace] = state[synapse] }
        try SafeTensorsFile(floatTensors: tensors).write(to: folder.appendingPathComponent("model.safetensors"))
        let config = #"{"vocab_size": 6, "hidden_size": 65536, "num_hidden_layers": 4096, "num_attention_heads": 2, "intermediate_size": 1048576, "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}"#
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect {
            try HuggingFaceBERT.loadModel(folder: folder)
        } throws: { error in
            guard case .shapeMismatch? = error as? HuggingFaceModelError else { return false }
            return true
        }
    }
}

/// A config.json that is valid JSON but not an object says what it holds.
@Suite(.synapseRuntime) struct ConfigMessageTests {
    @Test(arguments: [("8.5", "a number"), ("\"bert\"", "a string"), ("[1, 2]", "a list")])
    func aScalarConfigIsNamedForWhatItIs(text: String, kind: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(text.utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect {
            try HuggingFaceBERT.configuration(folder: folder)
        } throws: { "\($0)".contains("holds \(kind) where a JSON object") }
    }
}

/// Every loader refuses non-finite weights, not only the classifier's: policies, quantized models, BERT folders.
@Suite(.synapseRuntime) struct NonFinitePolicyTests {
    @Test func aPolicyWithANaNWeightIsRefused() throws {
        var rng = RandomGenerator(seed: 4)
        let agent = ActorCritic(observationSize: 4, actionCount: 2, hidden: [8], generator: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-policy-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try PolicyFile.save(agent, environment: .cartpole, algorithm: "ppo", to: url)
        _ = try PolicyFile.load(from: url, for: .cartpole)
        var file = try SafeTensorsFile(contentsOf: url)
        var values = try file.floatTensor("action_net.weight").scalars
        values[1] = .nan
        file.tensors["action_net.weight"] = .init(Tensor(shape: [2, 8], scalars: values))
        try file.write(to: url)
        #expect(throws: ModelFile.Error.nonFiniteWeights(file: url.lastPathComponent, tensor: "action_net.weight", count: 1)) {
            try PolicyFile.load(from: url, for: .cartpole)
        }
    }
}
