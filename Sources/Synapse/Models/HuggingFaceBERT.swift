import Foundation

/// Why a Hugging Face model folder could not be loaded. Each case names the file and what is wrong with it.
public enum HuggingFaceModelError: Error, CustomStringConvertible, Equatable, Sendable {
    case missingFile(folder: String, file: String)
    case invalidConfiguration(file: String, reason: String)
    case missingTensor(file: String, tensor: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int], hint: String)
    case vocabularySizeMismatch(file: String, tokens: Int, configured: Int)
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let folder, let file):
            return "\(folder): missing \(file) (a Hugging Face model folder needs config.json, model.safetensors and vocab.txt)"
        case .invalidConfiguration(let file, let reason): return "\(file): \(reason)"
        case .missingTensor(let file, let tensor): return "\(file): tensor '\(tensor)' is missing (truncated or wrong checkpoint?)"
        case .shapeMismatch(let file, let tensor, let expected, let found, let hint):
            return "\(file): tensor '\(tensor)' has shape \(found), but config.json implies \(expected) (\(hint))"
        case .vocabularySizeMismatch(let file, let tokens, let configured):
            return "\(file): \(tokens) tokens, but config.json says vocab_size \(configured); the vocabulary does not belong to this model"
        case .unreadable(let file, let reason): return "\(file): \(reason)"
        }
    }
}

/// How the tensors of a Hugging Face `BertModel` checkpoint map onto `BERTModel` — the whole correspondence in one
/// table, kept out of the layers so they carry Synapse names.
public enum HuggingFaceBERT {
    /// (Hugging Face name, Synapse name); `{i}` stands for the layer index.
    public static let embeddingNames: [(huggingFace: String, synapse: String)] = [
        ("embeddings.word_embeddings.weight", "tok.weight"),
        ("embeddings.position_embeddings.weight", "pos.weight"),
        ("embeddings.token_type_embeddings.weight", "type.weight"),
        ("embeddings.LayerNorm.weight", "ln.weight"),
        ("embeddings.LayerNorm.bias", "ln.bias"),
    ]

    public static let layerNames: [(huggingFace: String, synapse: String)] = [
        ("encoder.layer.{i}.attention.self.query.weight", "layers.{i}.attention.query.weight"),
        ("encoder.layer.{i}.attention.self.query.bias", "layers.{i}.attention.query.bias"),
        ("encoder.layer.{i}.attention.self.key.weight", "layers.{i}.attention.key.weight"),
        ("encoder.layer.{i}.attention.self.key.bias", "layers.{i}.attention.key.bias"),
        ("encoder.layer.{i}.attention.self.value.weight", "layers.{i}.attention.value.weight"),
        ("encoder.layer.{i}.attention.self.value.bias", "layers.{i}.attention.value.bias"),
        ("encoder.layer.{i}.attention.output.dense.weight", "layers.{i}.attention.proj.weight"),
        ("encoder.layer.{i}.attention.output.dense.bias", "layers.{i}.attention.proj.bias"),
        ("encoder.layer.{i}.attention.output.LayerNorm.weight", "layers.{i}.ln1.weight"),
        ("encoder.layer.{i}.attention.output.LayerNorm.bias", "layers.{i}.ln1.bias"),
        ("encoder.layer.{i}.intermediate.dense.weight", "layers.{i}.mlp.fc.weight"),
        ("encoder.layer.{i}.intermediate.dense.bias", "layers.{i}.mlp.fc.bias"),
        ("encoder.layer.{i}.output.dense.weight", "layers.{i}.mlp.out.weight"),
        ("encoder.layer.{i}.output.dense.bias", "layers.{i}.mlp.out.bias"),
        ("encoder.layer.{i}.output.LayerNorm.weight", "layers.{i}.ln2.weight"),
        ("encoder.layer.{i}.output.LayerNorm.bias", "layers.{i}.ln2.bias"),
    ]

    /// Every (Hugging Face, Synapse) pair for a model with `layers` layers.
    public static func names(layers: Int) -> [(huggingFace: String, synapse: String)] {
        embeddingNames + (0..<layers).flatMap { i in
            layerNames.map { ($0.huggingFace.replacingOccurrences(of: "{i}", with: "\(i)"),
                              $0.synapse.replacingOccurrences(of: "{i}", with: "\(i)")) }
        }
    }

    /// Some exports prefix every name with the architecture ("bert.embeddings…").
    static let prefixes = ["", "bert.", "model."]

    /// Reads `config.json` from a model folder.
    public static func configuration(folder: URL) throws(HuggingFaceModelError) -> BERTConfiguration {
        let url = try file("config.json", in: folder)
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(file: url.path, reason: "\(error.localizedDescription)") }
        // Say what is there when it is valid JSON but not an object (`8.5`, a string, a list).
        if let top = try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed), !(top is [String: Any]) {
            let kind = top is NSNumber ? "a number" : top is String ? "a string" : top is [Any] ? "a list" : "null"
            throw .invalidConfiguration(file: url.path, reason: "holds \(kind) where a JSON object with the model's settings is expected")
        }
        let configuration: BERTConfiguration
        do { configuration = try JSONDecoder().decode(BERTConfiguration.self, from: data) } catch let error as DecodingError {
            throw .invalidConfiguration(file: url.path, reason: describe(error))
        } catch {
            throw .invalidConfiguration(file: url.path, reason: "not a BERT config.json: \(error)")
        }
        let c = configuration
        guard c.hiddenSize > 0, c.layers > 0, c.heads > 0, c.hiddenSize % c.heads == 0, c.intermediateSize > 0,
              c.vocabularySize > 0, c.maximumPositions > 0, c.typeVocabularySize > 0 else {
            throw .invalidConfiguration(file: url.path, reason: "sizes must be positive and hidden_size (\(c.hiddenSize)) divisible by num_attention_heads (\(c.heads))")
        }
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh"].contains(c.hiddenActivation) else {
            throw .invalidConfiguration(file: url.path, reason: "hidden_act \"\(c.hiddenActivation)\" is not supported (gelu, gelu_new)")
        }
        return configuration
    }

    /// Builds a `BERTModel` from `config.json` and fills it from `model.safetensors`, checking every tensor's presence
    /// and shape against the configuration first.
    public static func loadModel(folder: URL) throws(HuggingFaceModelError) -> BERTModel {
        let configuration = try self.configuration(folder: folder)
        let weightsURL = try file("model.safetensors", in: folder)
        let weights: SafeTensorsFile
        do { weights = try SafeTensorsFile(contentsOf: weightsURL) } catch {
            throw .unreadable(file: weightsURL.path, reason: "\(error)")
        }
        // The sizes config.json states, against the tensors actually stored, before the model is allocated from them.
        let c = configuration
        let prefix = prefixes.first { weights.tensors["\($0)embeddings.word_embeddings.weight"] != nil } ?? ""
        let hint = "hidden_size \(c.hiddenSize), intermediate_size \(c.intermediateSize), vocab_size \(c.vocabularySize), max_position_embeddings \(c.maximumPositions), num_hidden_layers \(c.layers)"
        for (name, shape) in [("embeddings.word_embeddings.weight", [c.vocabularySize, c.hiddenSize]),
                              ("embeddings.position_embeddings.weight", [c.maximumPositions, c.hiddenSize]),
                              ("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, c.hiddenSize]),
                              ("encoder.layer.\(c.layers - 1).attention.self.query.weight", [c.hiddenSize, c.hiddenSize]),
                              ("encoder.layer.\(c.layers - 1).intermediate.dense.weight", [c.intermediateSize, c.hiddenSize])] {
            guard let entry = weights.tensors[prefix + name] else {
                throw .missingTensor(file: weightsURL.path, tensor: prefix + name)
            }
            guard entry.shape == shape else {
                throw .shapeMismatch(file: weightsURL.path, tensor: prefix + name, expected: shape, found: entry.shape, hint: hint)
            }
        }
        let model = BERTModel(configuration, seed: nil)
        let expectedShapes = Dictionary(uniqueKeysWithValues: model.orderedStateDict().map { ($0.key, $0.tensor.shape) })
        var state: [String: Tensor] = [:]
        for (huggingFace, synapse) in names(layers: configuration.layers) {
            guard let entry = weights.tensors[prefix + huggingFace] else {
                throw .missingTensor(file: weightsURL.path, tensor: prefix + huggingFace)
            }
            let expected = expectedShapes[synapse] ?? []
            guard entry.shape == expected else {
                throw .shapeMismatch(file: weightsURL.path, tensor: prefix + huggingFace, expected: expected, found: entry.shape,
                                     hint: hint)
            }
            guard [.f32, .f16, .bf16, .f64].contains(entry.dtype) else {
                throw .unreadable(file: weightsURL.path, reason: "tensor '\(prefix + huggingFace)' is stored as \(entry.dtype), not floating point")
            }
            state[synapse] = entry.floatTensor()
        }
        do {
            try ModelFile.requireFinite(state, file: weightsURL.path)
            try model.load(stateDict: state)
        } catch {
            throw .unreadable(file: weightsURL.path, reason: "\(error)")
        }
        model.eval()
        return model
    }

    /// The tokenizer of a model folder: `vocab.txt`, lower-casing from `tokenizer_config.json` (default on), and the
    /// sequence limit sentence-transformers uses (`sentence_bert_config.json`'s max_seq_length), else the model's
    /// position count.
    public static func loadTokenizer(folder: URL, configuration: BERTConfiguration) throws -> WordPieceTokenizer {
        let url = try file("vocab.txt", in: folder)
        var lowercase = true
        if let settings = jsonObject(folder.appendingPathComponent("tokenizer_config.json")),
           let flag = settings["do_lower_case"] as? Bool { lowercase = flag }
        var maximumLength = configuration.maximumPositions
        if let settings = jsonObject(folder.appendingPathComponent("sentence_bert_config.json")),
           let limit = settings["max_seq_length"] as? Int, limit > 2 { maximumLength = Swift.min(limit, maximumLength) }
        let tokenizer = try WordPieceTokenizer(vocabularyFile: url, lowercase: lowercase, maximumLength: maximumLength)
        guard tokenizer.tokens.count == configuration.vocabularySize else {
            throw HuggingFaceModelError.vocabularySizeMismatch(file: url.path, tokens: tokenizer.tokens.count,
                                                               configured: configuration.vocabularySize)
        }
        return tokenizer
    }

    static func file(_ name: String, in folder: URL) throws(HuggingFaceModelError) -> URL {
        let url = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(folder: folder.path, file: name) }
        return url
    }

    static func jsonObject(_ url: URL) -> [String: Any]? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "key \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case .dataCorrupted(let context): return "not valid JSON (\(context.debugDescription))"
        @unknown default: return "\(error)"
        }
    }
}
