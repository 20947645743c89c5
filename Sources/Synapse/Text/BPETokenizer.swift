/// GPT-2's byte-level byte-pair encoding, as LLMs such as SmolLM2, GPT-2 and Llama 3 use, read from a GGUF file's
/// `tokenizer.ggml.tokens` and `tokenizer.ggml.merges`. It gives the same ids as llama.cpp's own tokenizer.
///
/// A text becomes tokens in four steps:
/// 1. **Control tokens** such as `<|im_start|>` are cut out whole wherever they occur (longest first).
/// 2. **Pre-tokenization** splits the rest into pieces that merges never cross. `tokenizer.ggml.pre` names the rule;
///    for `smollm` (and GPT-2's relatives) every digit is first a piece of its own, then GPT-2's pattern
///    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` splits words, numbers,
///    punctuation runs and whitespace (a space sticks to the word after it).
/// 3. Each piece's UTF-8 **bytes** are written as 256 printable characters (`Ġ` is the space), one symbol per byte.
/// 4. **Merges**: the adjacent pair with the best rank in the merge list is joined, again and again, until no pair
///    of the piece is in the list. What is left are tokens.
///
/// ```swift
/// let tokenizer = try BPETokenizer(gguf: try GGUFFile(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
/// let ids = tokenizer.encode("Hello world 42")          // [19556, 905, 216, 36, 34]
/// tokenizer.pieces(ids)                                  // ["Hello", " world", " ", "4", "2"]
/// tokenizer.decode(ids)                                  // "Hello world 42"
/// ```
public struct BPETokenizer: Sendable {
    /// How a GGUF file marks a token (`tokenizer.ggml.token_type`).
    public enum TokenKind: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The pre-tokenizers Synapse implements, by their `tokenizer.ggml.pre` names.
    public enum PreTokenizer: String, Sendable, CaseIterable {
        /// GPT-2's pattern alone (`gpt2`, `default`, and files that name none).
        case gpt2
        /// Every digit its own piece, then GPT-2's pattern: `smollm`, `starcoder`, `refact`, `command-r`, `codeshell`.
        case digitsThenGPT2

        public init?(ggufName: String) {
            switch ggufName {
            case "gpt2", "default", "gpt-2", "mpt", "olmo": self = .gpt2
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone": self = .digitsThenGPT2
            default: return nil
            }
        }
    }

    /// Token texts in the byte-level alphabet (`Ġworld`), indexed by id.
    public let tokens: [String]
    public let kinds: [TokenKind]
    public let preTokenizer: PreTokenizer
    public let beginOfText: Int?
    public let endOfText: Int?
    let ids: [String: Int]
    /// (left id, right id) → (rank, merged id).
    let merges: [MergePair: (rank: Int32, merged: Int32)]
    /// Control and user-defined tokens, longest first: the texts cut out of the input before pre-tokenization.
    let specials: [(text: [UInt8], id: Int)]
    /// Each byte's token id, for pieces whose bytes have no merged token.
    let byteTokens: [Int]

    struct MergePair: Hashable { var left: Int32, right: Int32 }

    public var vocabularySize: Int { tokens.count }

    public init(gguf: GGUFFile) throws(GGUFError) {
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw .badMetadata(file: gguf.path, key: "tokenizer.ggml.model",
                               reason: "tokenizer '\(model)' is not supported (only GPT-2-style byte-level BPE, 'gpt2', is)")
        }
        let preName = (try? gguf.string("tokenizer.ggml.pre")) ?? "default"
        guard let pre = PreTokenizer(ggufName: preName) else {
            throw .badMetadata(file: gguf.path, key: "tokenizer.ggml.pre", reason: "pre-tokenizer '\(preName)' is not supported")
        }
        let tokens = try gguf.strings("tokenizer.ggml.tokens")
        var kinds = [TokenKind](repeating: .normal, count: tokens.count)
        if case .array(let types)? = gguf.metadata["tokenizer.ggml.token_type"] {
            guard types.count == tokens.count else {
                throw .badMetadata(file: gguf.path, key: "tokenizer.ggml.token_type", reason: "\(types.count) types for \(tokens.count) tokens")
            }
            for (i, t) in types.enumerated() { kinds[i] = t.int.flatMap { TokenKind(rawValue: Int32(truncatingIfNeeded: $0)) } ?? .normal }
        }
        let mergeTexts = try gguf.strings("tokenizer.ggml.merges")
        func special(_ key: String) throws(GGUFError) -> Int? {
            guard gguf.metadata[key] != nil else { return nil }
            return try gguf.integer(key, in: 0...max(0, tokens.count - 1))
        }
        try self.init(tokens: tokens, kinds: kinds, merges: mergeTexts, preTokenizer: pre,
                      beginOfText: try special("tokenizer.ggml.bos_token_id"),
                      endOfText: try special("tokenizer.ggml.eos_token_id"), source: gguf.path)
    }

    /// A tokenizer from its parts; `merges` are "left right" lines in rank order.
    public init(tokens: [String], kinds: [TokenKind], merges mergeTexts: [String], preTokenizer: PreTokenizer,
                beginOfText: Int? = nil, endOfText: Int? = nil, source: String = "tokenizer") throws(GGUFError) {
        guard !tokens.isEmpty, tokens.count <= Int(Int32.max), kinds.count == tokens.count else {
            throw .badMetadata(file: source, key: "tokenizer.ggml.tokens", reason: "\(tokens.count) tokens with \(kinds.count) types")
        }
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = i }
        var merges: [MergePair: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(mergeTexts.count)
        for (rank, line) in mergeTexts.enumerated() {
            // The separator is the first space after the first character (a token text never starts with a space
            // in the byte-level alphabet, where the space is 'Ġ').
            guard !line.isEmpty, let space = line[line.index(after: line.startIndex)...].firstIndex(of: " ") else {
                throw .badMetadata(file: source, key: "tokenizer.ggml.merges", reason: "line \(rank + 1) '\(line)' is not two tokens separated by a space")
            }
            let left = String(line[..<space]), right = String(line[line.index(after: space)...])
            guard let l = ids[left], let r = ids[right], let m = ids[left + right] else { continue }
            let pair = MergePair(left: Int32(l), right: Int32(r))
            if merges[pair] == nil { merges[pair] = (Int32(rank), Int32(m)) }
        }
        var byteTokens = [Int](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[String(Character(BPETokenizer.byteToScalar[b]))] { byteTokens[b] = id }
        }
        let specials = tokens.indices
            .filter { kinds[$0] == .control || kinds[$0] == .userDefined || kinds[$0] == .unknown }
            .map { (text: Array(tokens[$0].utf8), id: $0) }
            .filter { !$0.text.isEmpty }
            .sorted { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }
        (self.tokens, self.kinds, self.ids, self.merges, self.preTokenizer, self.specials, self.byteTokens) =
            (tokens, kinds, ids, merges, preTokenizer, specials, byteTokens)
        (self.beginOfText, self.endOfText) = (beginOfText, endOfText)
    }

    /// The id of a token given in the byte-level alphabet or, for control tokens, as written (`<|im_end|>`).
    public func id(of token: String) -> Int? { ids[token] }

    // MARK: Encoding

    /// Token ids of `text`. With `parseSpecial` (the default, as llama.cpp's server and chat templates need),
    /// control tokens written in the text become their single ids; without it they are tokenized as plain text.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        for segment in splitSpecial(Array(text.utf8), parseSpecial: parseSpecial) {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let bytes):
                for piece in preTokenize(bytes) { bytePairEncode(piece, into: &out) }
            }
        }
        return out
    }

    enum Segment { case special(Int), text([UInt8]) }

    /// Cuts the control tokens out of `bytes`, longest first, as llama.cpp's partitioning does.
    func splitSpecial(_ bytes: [UInt8], parseSpecial: Bool) -> [Segment] {
        guard parseSpecial, !specials.isEmpty else { return bytes.isEmpty ? [] : [.text(bytes)] }
        var segments: [Segment] = bytes.isEmpty ? [] : [.text(bytes)]
        for special in specials {
            var next: [Segment] = []
            for segment in segments {
                guard case .text(let t) = segment else { next.append(segment); continue }
                var start = 0, i = 0
                let pattern = special.text
                while i + pattern.count <= t.count {
                    if t[i] == pattern[0] && t[i..<(i + pattern.count)].elementsEqual(pattern) {
                        if i > start { next.append(.text(Array(t[start..<i]))) }
                        next.append(.special(special.id))
                        i += pattern.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < t.count { next.append(.text(Array(t[start...]))) }
            }
            segments = next
        }
        return segments
    }

    /// The pieces (as UTF-8 bytes) that merges stay inside.
    func preTokenize(_ bytes: [UInt8]) -> [[UInt8]] {
        let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        var fragments: [Range<Int>] = [0..<scalars.count]
        if preTokenizer == .digitsThenGPT2 {
            fragments = fragments.flatMap { r -> [Range<Int>] in
                var parts: [Range<Int>] = [], start = r.lowerBound
                for i in r where ScalarClass(scalars[i]) == .number {
                    if i > start { parts.append(start..<i) }
                    parts.append(i..<(i + 1))
                    start = i + 1
                }
                if start < r.upperBound { parts.append(start..<r.upperBound) }
                return parts
            }
        }
        var pieces: [[UInt8]] = []
        for fragment in fragments {
            for piece in BPETokenizer.gpt2Split(scalars, fragment) {
                var utf8: [UInt8] = []
                for s in scalars[piece] { utf8.append(contentsOf: String(Character(s)).utf8) }
                pieces.append(utf8)
            }
        }
        return pieces
    }

    /// The classes GPT-2's pattern tells apart. `undefined` (unassigned code points) matches none of them.
    enum ScalarClass: Equatable {
        case letter, number, whitespace, other, undefined

        init(_ s: Unicode.Scalar) {
            let p = s.properties
            if p.isWhitespace { self = .whitespace; return }
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: self = .letter
            case .decimalNumber, .letterNumber, .otherNumber: self = .number
            case .unassigned: self = .undefined
            default: self = .other
            }
        }
    }

    /// GPT-2's pattern over `scalars[range]`, matched by hand (the same alternatives in the same order).
    static func gpt2Split(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> [Range<Int>] {
        let end = range.upperBound
        func cls(_ i: Int) -> ScalarClass? { i < end ? ScalarClass(scalars[i]) : nil }
        func isAny(_ i: Int, _ set: String) -> Bool { i < end && set.unicodeScalars.contains(scalars[i]) }
        var pieces: [Range<Int>] = []
        var pos = range.lowerBound
        while pos < end {
            let start = pos
            let c = scalars[pos]
            // 's 't 're 've 'm 'll 'd
            if c == "'" && pos + 1 < end {
                if isAny(pos + 1, "stmd") { pieces.append(pos..<(pos + 2)); pos += 2; continue }
                if pos + 2 < end {
                    let two = String(String.UnicodeScalarView(scalars[(pos + 1)...(pos + 2)]))
                    if two == "re" || two == "ve" || two == "ll" { pieces.append(pos..<(pos + 3)); pos += 3; continue }
                }
            }
            let hasSpace = c == " "
            let headClass = hasSpace ? cls(pos + 1) : cls(pos)
            // ' ?\p{L}+', ' ?\p{N}+' and ' ?[^\s\p{L}\p{N}]+'
            if let head = headClass, head == .letter || head == .number || head == .other {
                pos += hasSpace ? 1 : 0
                while let k = cls(pos), k == head { pos += 1 }
                pieces.append(start..<pos)
                continue
            }
            var spaces = 0
            while cls(pos + spaces) == .whitespace { spaces += 1 }
            // '\s+(?!\S)': a run of whitespace leaves its last character to the word after it.
            if spaces > 1 && pos + spaces < end {
                pos += spaces - 1
                pieces.append(start..<pos)
                continue
            }
            if spaces > 0 {
                pos += spaces
                pieces.append(start..<pos)
                continue
            }
            pos += 1
            pieces.append(start..<pos)
        }
        return pieces
    }

    /// Merges one piece's byte symbols, lowest rank first (the leftmost pair on ties), and appends the tokens.
    func bytePairEncode(_ piece: [UInt8], into out: inout [Int]) {
        if piece.isEmpty { return }
        var symbols = piece.map { Int32(byteTokens[Int($0)]) }
        if symbols.contains(-1) {   // a vocabulary without every byte: fall back to whatever bytes it has
            out.append(contentsOf: symbols.filter { $0 >= 0 }.map(Int.init))
            return
        }
        while symbols.count > 1 {
            var bestRank = Int32.max, bestIndex = -1, bestMerged: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                if let m = merges[MergePair(left: symbols[i], right: symbols[i + 1])], m.rank < bestRank {
                    (bestRank, bestIndex, bestMerged) = (m.rank, i, m.merged)
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] = bestMerged
            symbols.remove(at: bestIndex + 1)
        }
        out.append(contentsOf: symbols.map(Int.init))
    }

    // MARK: Decoding

    /// The bytes of one token: byte-level characters mapped back to bytes; control tokens as their text when
    /// `renderSpecial` is true, nothing otherwise.
    public func bytes(of id: Int, renderSpecial: Bool = false) -> [UInt8] {
        precondition(id >= 0 && id < tokens.count, "BPETokenizer.bytes: id \(id) outside the vocabulary of \(tokens.count)")
        switch kinds[id] {
        case .control, .unknown, .unused: return renderSpecial ? Array(tokens[id].utf8) : []
        case .userDefined: return Array(tokens[id].utf8)
        default:
            var out: [UInt8] = []
            for s in tokens[id].unicodeScalars {
                if let b = BPETokenizer.scalarToByte[s.value] { out.append(b) } else { out.append(contentsOf: String(Character(s)).utf8) }
            }
            return out
        }
    }

    /// The text of `ids` (invalid UTF-8 across the whole sequence becomes U+FFFD).
    public func decode(_ ids: [Int], renderSpecial: Bool = false) -> String {
        String(decoding: ids.flatMap { bytes(of: $0, renderSpecial: renderSpecial) }, as: UTF8.self)
    }

    /// Each token's own text, control tokens as written: what `synapse tokenize` shows. A token that holds only part
    /// of a character (an emoji is often split in two) shows its bytes, as `<0xF0><0x9F>`.
    public func pieces(_ ids: [Int]) -> [String] {
        ids.map { id in
            let raw = bytes(of: id, renderSpecial: true)
            if let text = String(validating: raw, as: UTF8.self) { return text }
            return raw.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "<0x" + String($0, radix: 16, uppercase: true) + ">" }.joined()
        }
    }

    public func isControl(_ id: Int) -> Bool { id >= 0 && id < kinds.count && kinds[id] == .control }

    // MARK: GPT-2's byte alphabet

    /// Byte b as a printable character: the printable Latin-1 bytes stand for themselves; the other 68 (controls,
    /// space, …) are moved to U+0100 and up, in byte order. So the space 0x20 is 'Ġ' (U+0120).
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { table[b] = Unicode.Scalar(UInt32(b))! } else { table[b] = Unicode.Scalar(next)!; next += 1 }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()
}

/// Turns a stream of token bytes into text without ever printing half a character: a multi-byte UTF-8 character
/// split across tokens (an emoji is often two or three tokens) is held back until its last byte arrives.
///
/// ```swift
/// var stream = UTF8StreamDecoder()
/// stream.append([0xF0, 0x9F])          // ""  (waiting)
/// stream.append([0x98, 0x80])          // "😀"
/// ```
public struct UTF8StreamDecoder: Sendable {
    var pending: [UInt8] = []

    public init() {}

    /// The complete characters the new bytes finish; invalid bytes become U+FFFD.
    public mutating func append(_ bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        // Keep back an incomplete sequence at the end (at most 3 bytes of a 4-byte character).
        var cut = pending.count
        var back = 0
        while back < min(3, pending.count) {
            let b = pending[pending.count - 1 - back]
            if b & 0xC0 != 0x80 {   // a lead byte (or ASCII): does its sequence reach the end?
                let need = b >= 0xF8 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                if need > back + 1 { cut = pending.count - 1 - back }
                break
            }
            back += 1
        }
        let ready = Array(pending[..<cut])
        pending.removeFirst(cut)
        return String(decoding: ready, as: UTF8.self)
    }

    /// Whatever is left at the end of the stream (an incomplete character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }
}
