import Foundation
import Testing
@testable import Synapse

@Suite("WordPieceTokenizer", .synapseRuntime)
struct WordPieceTokenizerTests {
    let tokenizer = try! WordPieceTokenizer(
        tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "runn", "##ing", ",", "!", "cafe", "東", "京", "a"],
        maximumLength: 8)

    @Test("Longest-match pieces with ## continuations, punctuation split off, [CLS]/[SEP] around")
    func pieces() {
        #expect(tokenizer.tokenize("unaffable running!") == ["un", "##aff", "##able", "runn", "##ing", "!"])
        #expect(tokenizer.encode("unaffable, running") == [2, 4, 5, 6, 9, 7, 8, 3])
    }

    @Test("Lower-casing, accent stripping, CJK split, and [UNK] for a word with an unknown piece")
    func normalisation() {
        #expect(tokenizer.tokenize("CAFÉ") == ["cafe"])
        #expect(tokenizer.tokenize("東京") == ["東", "京"])
        #expect(tokenizer.tokenize("unx a") == ["[UNK]", "a"])
        #expect(tokenizer.tokenize("a\u{0}\tb\u{200B}") == ["a", "[UNK]"])
    }

    @Test("Encodings are truncated to the maximum length, special tokens included")
    func truncation() {
        let ids = tokenizer.encode(String(repeating: "a ", count: 20))
        #expect(ids.count == 8 && ids.first == 2 && ids.last == 3)
    }

    @Test("A vocabulary without [CLS] is rejected by name")
    func missingSpecial() {
        #expect(throws: WordPieceError.missingSpecialToken(path: "vocabulary", token: "[CLS]")) {
            _ = try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[SEP]"])
        }
        #expect(throws: WordPieceError.empty(path: "vocabulary")) { _ = try WordPieceTokenizer(tokens: []) }
    }
}

/// vocab.txt with Windows line ends reads like the Unix one (Swift treats "\r\n" as one Character).
@Suite(.synapseRuntime) struct WordPieceLineEndTests {
    @Test func crlfVocabularyFilesRead() throws {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "##s"]
        for ending in ["\n", "\r\n"] {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-vocab-\(UUID().uuidString).txt")
            defer { try? FileManager.default.removeItem(at: url) }
            try Data((tokens.joined(separator: ending) + ending).utf8).write(to: url)
            let tokenizer = try WordPieceTokenizer(vocabularyFile: url)
            #expect(tokenizer.tokens == tokens, "line ending \(ending.debugDescription)")
            #expect(tokenizer.encode("hellos") == [2, 5, 6, 3])
        }
    }
}

