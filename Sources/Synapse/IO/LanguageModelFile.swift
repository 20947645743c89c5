import Foundation

/// A trained language model on disk: a safetensors file whose metadata holds the architecture (for the builder
/// named by `kindKey`) and the character vocabulary, so `synapse generate` needs nothing but the file.
///
/// ```swift
/// try LanguageModelFile.save(model, tokenizer: dataset.tokenizer, to: url)
/// let (model, tokenizer) = try LanguageModelFile.load(from: url)
/// ```
public enum LanguageModelFile {
    public static let kindKey = "synapse.lm.kind"
    public static let vocabularyKey = "synapse.vocabulary"

    /// Rebuilds an untrained model of the right shape from the metadata, by kind. A new model family registers its
    /// builder here (one line), under the name its `architectureMetadata` puts at `kindKey`.
    ///
    /// A builder receives the shapes of the tensors in the file and must check the sizes the metadata states against
    /// them *before* it allocates anything (`requireShape`): a 32 KB file must not make the loader allocate 160 GB.
    public typealias Builder = @Sendable (_ metadata: [String: String], _ vocabularySize: Int, _ shapes: [String: [Int]],
                                          _ file: String) throws -> any LanguageModel
    public static let builders: [String: Builder] = {
        var table: [String: Builder] = [:]
        for kind in RecurrentLanguageModel.Kind.allCases {
            table[kind.rawValue] = { try RecurrentLanguageModel.build(metadata: $0, vocabularySize: $1, shapes: $2, file: $3) }
        }
        table["gpt"] = { try GPT.build(metadata: $0, vocabularySize: $1, shapes: $2, file: $3) }
        return table
    }()

    /// The largest size a metadata entry may state (16 Mi): products of a few of them (gates × hidden, 3 × embedding)
    /// cannot overflow, and `requireShape` then holds them to the tensors actually stored.
    public static let maximumSize = 1 << 24

    /// A positive size from the metadata, at most `maximumSize`.
    static func size(_ key: String, in metadata: [String: String], file: String) throws(Error) -> Int {
        guard let text = metadata[key] else { throw .missingMetadata(file: file, key: key) }
        guard let value = Int(text), (1...maximumSize).contains(value) else {
            throw .badMetadata(file: file, key: key, value: text)
        }
        return value
    }

    /// Throws unless the file holds `tensor` with exactly `shape`, naming the metadata the shape comes from.
    static func requireShape(_ tensor: String, _ shape: [Int], in shapes: [String: [Int]], file: String,
                             from keys: String) throws(Error) {
        guard let found = shapes[tensor] else { throw .shapeMismatch(file: file, tensor: tensor, expected: shape, found: nil, keys: keys) }
        guard found == shape else { throw .shapeMismatch(file: file, tensor: tensor, expected: shape, found: found, keys: keys) }
    }

    /// Why a file is not a language model Synapse can rebuild.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case missingMetadata(file: String, key: String)
        case badMetadata(file: String, key: String, value: String)
        case unknownKind(file: String, kind: String)
        case vocabularyMismatch(file: String, vocabulary: Int, model: Int)
        /// The sizes in the metadata disagree with the tensors actually stored (checked before anything is allocated).
        case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int]?, keys: String)

        public var description: String {
            switch self {
            case let .missingMetadata(file, key):
                return "\(file): no '\(key)' in the metadata; it was not saved by `synapse train text`"
            case let .badMetadata(file, key, value):
                let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
                return "\(file): metadata '\(key)' has the invalid value '\(shown)' (sizes are whole numbers from 1 to \(LanguageModelFile.maximumSize))"
            case let .unknownKind(file, kind):
                return "\(file): unknown language model kind '\(kind)' (known: \(LanguageModelFile.builders.keys.sorted().joined(separator: ", ")))"
            case let .vocabularyMismatch(file, vocabulary, model):
                return "\(file): the vocabulary has \(vocabulary) characters but the model \(model) outputs"
            case let .shapeMismatch(file, tensor, expected, found, keys):
                let what = found.map { "is \($0)" } ?? "is missing"
                return "\(file): tensor '\(tensor)' \(what), but the metadata (\(keys)) implies \(expected); the file is damaged or was edited"
            }
        }
    }

    /// Writes the weights with the architecture and the vocabulary in the metadata (atomically).
    public static func save(_ model: any LanguageModel, tokenizer: CharacterTokenizer,
                            extraMetadata: [String: String] = [:], to url: URL) throws {
        precondition(model.vocabularySize == tokenizer.vocabularySize,
                     "LanguageModelFile.save: model has \(model.vocabularySize) outputs, tokenizer \(tokenizer.vocabularySize) characters")
        var metadata = ModelFile.metadata(extraMetadata.merging(model.architectureMetadata) { _, new in new })
        metadata[vocabularyKey] = tokenizer.vocabularyJSON
        try model.save(to: url, metadata: metadata)
    }

    /// Rebuilds the model the file describes, loads its weights and switches it to evaluation mode.
    public static func load(from url: URL) throws -> (model: any LanguageModel, tokenizer: CharacterTokenizer,
                                                      metadata: [String: String]) {
        let file = try SafeTensorsFile(contentsOf: url)
        let name = url.lastPathComponent
        guard let vocabulary = file.metadata[vocabularyKey] else { throw Error.missingMetadata(file: name, key: vocabularyKey) }
        let tokenizer = try CharacterTokenizer(vocabularyJSON: vocabulary, source: name)
        guard let kind = file.metadata[kindKey] else { throw Error.missingMetadata(file: name, key: kindKey) }
        guard let builder = builders[kind] else { throw Error.unknownKind(file: name, kind: kind) }
        let model = try builder(file.metadata, tokenizer.vocabularySize, file.tensors.mapValues(\.shape), name)
        try ModelFile.loadWeights(of: file, into: model, name: name)
        return (model, tokenizer, file.metadata)
    }
}
