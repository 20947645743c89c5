import Foundation

/// Why a WordPiece vocabulary could not be used.
public enum WordPieceError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case empty(path: String)
    case duplicateToken(path: String, token: String, line: Int)
    case missingSpecialToken(path: String, token: String)
    case invalidText(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read the vocabulary: \(reason)"
        case .empty(let path): return "\(path): the vocabulary is empty (expected one WordPiece token per line)"
        case .duplicateToken(let path, let token, let line):
            return "\(path): line \(line): token \"\(token)\" appears twice; the vocabulary file is corrupt"
        case .missingSpecialToken(let path, let token):
            return "\(path): the vocabulary has no \(token) token; is this a BERT vocab.txt?"
        case .invalidText(let path): return "\(path): the vocabulary is not valid UTF-8 text"
        }
    }
}

/// BERT's tokenizer: text normalisation, splitting into words and punctuation, then greedy longest-match WordPiece,
/// giving the same ids as Hugging Face's `BertTokenizerFast` (BertNormalizer + BertPreTokenizer + WordPiece).
///
/// 1. Clean: drop NUL, U+FFFD and control characters; every whitespace character becomes a space.
/// 2. Put spaces around CJK ideographs, so each is a word of its own.
/// 3. Lower-case and strip accents (canonical decomposition, then drop non-spacing marks): "Élan" → "elan".
/// 4. Split on whitespace, and make every punctuation character (Unicode P*, and ASCII symbols like `$+<=>^`|~`)
///    a word.
/// 5. Each word becomes the longest vocabulary prefix, then `##`-prefixed continuations; a word with a piece that is
///    not in the vocabulary (or longer than 100 characters) becomes `[UNK]` as a whole.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(vocabularyFile: modelFolder.appendingPathComponent("vocab.txt"))
/// tokenizer.encode("Hello, world!")          // [101, 7592, 1010, 2088, 999, 102]
/// ```
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String: Int]
    public let tokens: [String]
    public let lowercase: Bool
    /// The longest encoding `encode` returns, [CLS] and [SEP] included.
    public var maximumLength: Int

    public let unknownID: Int, classifierID: Int, separatorID: Int, paddingID: Int
    static let maximumWordLength = 100

    /// Builds the tokenizer from the tokens in id order.
    public init(tokens: [String], lowercase: Bool = true, maximumLength: Int = 512, sourceName: String = "vocabulary") throws(WordPieceError) {
        guard !tokens.isEmpty else { throw .empty(path: sourceName) }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if vocabulary[token] != nil { throw .duplicateToken(path: sourceName, token: token, line: id + 1) }
            vocabulary[token] = id
        }
        func special(_ token: String) throws(WordPieceError) -> Int {
            guard let id = vocabulary[token] else { throw .missingSpecialToken(path: sourceName, token: token) }
            return id
        }
        unknownID = try special("[UNK]")
        classifierID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = try special("[PAD]")
        self.vocabulary = vocabulary
        self.tokens = tokens
        self.lowercase = lowercase
        self.maximumLength = maximumLength
    }

    /// Reads a `vocab.txt` (one token per line; the line number, from 0, is the id).
    public init(vocabularyFile url: URL, lowercase: Bool = true, maximumLength: Int = 512) throws(WordPieceError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .invalidText(path: url.path) }
        // Split on the byte, not the Character: Swift reads "\r\n" as one Character, so a Windows-style file would
        // otherwise be one long line.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines, lowercase: lowercase, maximumLength: maximumLength, sourceName: url.path)
    }

    /// Token ids with [CLS] first and [SEP] last, truncated to `maximumLength` in all.
    public func encode(_ text: String) -> [Int] {
        var ids = wordPieceIDs(text)
        if ids.count > maximumLength - 2 { ids.removeLast(ids.count - Swift.max(maximumLength - 2, 0)) }
        return [classifierID] + ids + [separatorID]
    }

    /// The WordPiece strings of `text` (no special tokens), for display and debugging.
    public func tokenize(_ text: String) -> [String] { wordPieceIDs(text).map { tokens[$0] } }

    /// The ids of every word piece of `text`, without special tokens or truncation.
    public func wordPieceIDs(_ text: String) -> [Int] {
        var ids: [Int] = []
        for word in words(normalized(text)) { appendPieces(of: word, to: &ids) }
        return ids
    }

    // MARK: Normalisation and splitting

    /// Steps 1–3: cleaned, CJK spaced, and (when `lowercase`) accent-stripped and lower-cased scalars.
    func normalized(_ text: String) -> [Unicode.Scalar] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if Self.isCJK(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        guard lowercase else { return Array(cleaned) }
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(cleaned.count)
        // Accents go before lower-casing, as in the Rust normalizer.
        for scalar in String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark {
            let lower = scalar.properties.lowercaseMapping
            if lower.unicodeScalars.count == 1, lower.unicodeScalars.first == scalar {
                result.append(scalar)
            } else {
                result.append(contentsOf: lower.unicodeScalars)
            }
        }
        return result
    }

    /// Step 4: whitespace-separated words, with each punctuation character split off as a word of its own.
    func words(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in scalars {
            if scalar.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current = [] }
            } else if Self.isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current = [] }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Step 5: greedy longest-match-first over the word's scalars.
    func appendPieces(of word: [Unicode.Scalar], to ids: inout [Int]) {
        if word.count > Self.maximumWordLength {
            ids.append(unknownID)
            return
        }
        var pieces: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            while start < end {
                var piece = start > 0 ? "##" : ""
                piece.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unknownID)
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }

    // MARK: Character classes (as BERT defines them)

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
