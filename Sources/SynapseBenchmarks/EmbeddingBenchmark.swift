import Synapse
import Foundation

/// Sentence-embedding throughput: a sentence-transformers model (all-MiniLM-L6-v2) encoding a few hundred sentences
/// at batch 32, tokenisation included. scripts/bench_embed.py runs the same model and sentences in PyTorch.
///
/// The sentences are built the same way on both sides: the non-empty lines of tiny Shakespeare, three consecutive
/// lines joined by a space per sentence.
public enum EmbeddingBenchmark {
    public struct Result: Sendable {
        public var sentences: Int
        public var batchSize: Int
        public var seconds: Double
        public var sentencesPerSecond: Double { Double(sentences) / seconds }
        /// Mean tokens per sentence, [CLS] and [SEP] included.
        public var meanTokens: Double
    }

    /// `count` sentences of three lines each from `text`.
    public static func sentences(from text: String, count: Int) -> [String] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return (0..<count).compactMap { i in
            guard 3 * i + 2 < lines.count else { return nil }
            return lines[(3 * i)..<(3 * i + 3)].joined(separator: " ")
        }
    }

    /// Embeds `sentences` once to warm up (first-touch allocations, BLAS buffers), then times `repeats` passes and
    /// keeps the fastest.
    public static func run(embedder: SentenceEmbedder, sentences: [String], batchSize: Int = 32, repeats: Int = 3) -> Result {
        _ = embedder.embed(Array(sentences.prefix(batchSize)), batchSize: batchSize)
        var best = Double.infinity
        for _ in 0..<max(repeats, 1) {
            let start = Stopwatch.now()
            _ = embedder.embed(sentences, batchSize: batchSize)
            best = min(best, Stopwatch.now() - start)
        }
        let tokens = sentences.reduce(0) { $0 + embedder.tokenizer.encode($1).count }
        return Result(sentences: sentences.count, batchSize: batchSize, seconds: best,
                      meanTokens: Double(tokens) / Double(max(sentences.count, 1)))
    }
}
