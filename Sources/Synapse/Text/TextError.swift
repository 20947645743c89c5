/// A problem with text input: a corpus file, a prompt, or a saved vocabulary. One line that names the culprit.
///
/// ```swift
/// do { _ = try tokenizer.encode("ROMEO€") }
/// catch let error as TextError { print(error) }   // prompt: character '€' (U+20AC) at position 5 is not in ...
/// ```
public enum TextError: Error, CustomStringConvertible, Equatable {
    /// The corpus file could not be read or is not UTF-8.
    case unreadable(path: String, reason: String)
    /// The corpus holds no characters.
    case empty(path: String)
    /// The corpus is too short to cut windows of the requested length from both splits.
    case tooShort(path: String, characters: Int, needed: Int)
    /// A character the vocabulary does not contain.
    case unknownCharacter(source: String, character: String, position: Int)
    /// A token id outside the vocabulary.
    case unknownToken(id: Int, vocabularySize: Int)
    /// A saved vocabulary that cannot be decoded.
    case badVocabulary(source: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read text: \(reason)"
        case let .empty(path):
            return "\(path): the file is empty; a language model needs some text to learn from"
        case let .tooShort(path, characters, needed):
            return "\(path): \(characters) characters is too short: the validation split (last 10%) needs at least \(needed) (use a longer text or a smaller --block)"
        case let .unknownCharacter(source, character, position):
            let code = character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
                .joined(separator: " ")
            return "\(source): character '\(character.debugEscaped)' (\(code)) at position \(position) is not in the model's vocabulary"
        case let .unknownToken(id, size):
            return "token id \(id) is outside the vocabulary of \(size) characters"
        case let .badVocabulary(source, reason):
            return "\(source): bad vocabulary: \(reason)"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    fileprivate var debugEscaped: String {
        switch self {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default: return self
        }
    }
}
