import Foundation

/// Maps text to integer tokens one Unicode scalar at a time, with the vocabulary built from a corpus.
///
/// The vocabulary is the sorted set of the corpus's scalars (by code point, as Python's `sorted(set(text))`), so
/// ids agree with the PyTorch references in shared/bench. It travels with a saved model as a JSON string in the
/// safetensors metadata (`vocabularyJSON`).
///
/// ```swift
/// let tokenizer = CharacterTokenizer(corpus: "hello world")
/// tokenizer.vocabularySize                 // 8
/// let ids = try tokenizer.encode("hello")  // [3, 2, 4, 4, 5]
/// tokenizer.decode(ids)                    // "hello"
/// ```
public struct CharacterTokenizer: Sendable, Equatable {
    /// The scalars, in id order.
    public let vocabulary: [Unicode.Scalar]
    private let ids: [UInt32: Int]

    /// A tokenizer whose vocabulary is every distinct scalar of `corpus`.
    public init(corpus: String) {
        self.init(vocabulary: Array(Set(corpus.unicodeScalars)).sorted { $0.value < $1.value })
    }

    /// A tokenizer over `vocabulary` (distinct scalars; id = position).
    public init(vocabulary: [Unicode.Scalar]) {
        var ids: [UInt32: Int] = [:]
        for (id, scalar) in vocabulary.enumerated() {
            precondition(ids[scalar.value] == nil, "CharacterTokenizer: '\(scalar)' appears twice in the vocabulary")
            ids[scalar.value] = id
        }
        self.vocabulary = vocabulary
        self.ids = ids
    }

    public var vocabularySize: Int { vocabulary.count }

    /// The id of one scalar, or `nil` when it is not in the vocabulary.
    public func id(of scalar: Unicode.Scalar) -> Int? { ids[scalar.value] }

    /// Token ids for `text`; throws `TextError.unknownCharacter` naming `source` and the position of the first
    /// scalar outside the vocabulary.
    public func encode(_ text: String, source: String = "text") throws(TextError) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(text.unicodeScalars.count)
        for (position, scalar) in text.unicodeScalars.enumerated() {
            guard let id = ids[scalar.value] else {
                throw .unknownCharacter(source: source, character: String(Character(scalar)), position: position)
            }
            result.append(id)
        }
        return result
    }

    /// The text of `tokens`; ids must be in the vocabulary.
    public func decode(_ tokens: [Int]) -> String {
        var scalars = String.UnicodeScalarView()
        for token in tokens {
            precondition(token >= 0 && token < vocabulary.count,
                         "CharacterTokenizer.decode: token \(token) outside the vocabulary of \(vocabulary.count)")
            scalars.append(vocabulary[token])
        }
        return String(scalars)
    }

    /// The vocabulary as a JSON array of one-scalar strings (what model files store).
    public var vocabularyJSON: String {
        let strings = vocabulary.map { String(Character($0)) }
        let data = try! JSONSerialization.data(withJSONObject: strings, options: [])  // strings always serialise
        return String(decoding: data, as: UTF8.self)
    }

    /// Rebuilds a tokenizer from `vocabularyJSON`; `source` names the file in errors.
    public init(vocabularyJSON json: String, source: String) throws(TextError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)), let strings = object as? [String] else {
            throw .badVocabulary(source: source, reason: "expected a JSON array of strings")
        }
        var scalars: [Unicode.Scalar] = []
        var seen = Set<UInt32>()
        for string in strings {
            let view = string.unicodeScalars
            guard view.count == 1, let scalar = view.first else {
                throw .badVocabulary(source: source, reason: "entry '\(string)' is not a single character")
            }
            guard seen.insert(scalar.value).inserted else {
                throw .badVocabulary(source: source, reason: "entry '\(string)' appears twice")
            }
            scalars.append(scalar)
        }
        guard !scalars.isEmpty else { throw .badVocabulary(source: source, reason: "the vocabulary is empty") }
        self.init(vocabulary: scalars)
    }
}
