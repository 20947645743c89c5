import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

struct EmbedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentences per second embedding tiny Shakespeare sentences at batch 32 (PyTorch side: scripts/bench_embed.py).")

    @Option(help: "The model folder (all-MiniLM-L6-v2).") var model: String
    @Option(help: "Number of sentences.") var sentences: Int = 320
    @Option(help: "Sentences per batch.") var batchSize: Int = 32
    @Option(help: "Text file the sentences come from (default: ../shared/data/tinyshakespeare/input.txt).") var data: String?
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        if sentences <= 0 || batchSize <= 0 { throw ValidationError("--sentences and --batch-size must be positive") }
    }

    func run() throws {
        warnIfDebug()
        precision.apply()
        let url = data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile()
        let text = try TextDataset.readText(url)
        let embedder = try SentenceEmbedder(folder: URL(fileURLWithPath: model))
        let list = EmbeddingBenchmark.sentences(from: text, count: sentences)
        let r = EmbeddingBenchmark.run(embedder: embedder, sentences: list, batchSize: batchSize)
        let peak = PeakMemory.megabytes  // the workload's own, before the Float32 comparison below
        // With bf16 products, how far the embeddings moved: the smallest cosine to the Float32 ones.
        var cosine = 1.0
        if Runtime.matmulPrecision == .bfloat16 {
            let mixed = embedder.embed(list, batchSize: batchSize)
            let reference = Runtime.withMatmulPrecision(.float32) { embedder.embed(list, batchSize: batchSize) }
            for (x, y) in zip(mixed, reference) {
                let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let norms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } * y.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
                cosine = Swift.min(cosine, dot / Swift.max(norms, 1e-30))
            }
        }
        let tag = precision.precision.rawValue
        if json {
            print("{\"workload\": \"embed\", \"impl\": \"synapse\", \"precision\": \"\(tag)\", \"sentences\": \(r.sentences), \"batch\": \(r.batchSize), \"seconds\": \(String(format: "%.4f", r.seconds)), \"sentences_per_s\": \(String(format: "%.1f", r.sentencesPerSecond)), \"mean_tokens\": \(String(format: "%.1f", r.meanTokens)), \"min_cosine_to_float32\": \(String(format: "%.6f", cosine)), \"peak_rss_mb\": \(String(format: "%.1f", peak))}")
        } else {
            print(String(format: "embed (%@): %d sentences (%.1f tokens on average) at batch %d in %.3f s: %.1f sentences/s%@",
                         tag, r.sentences, r.meanTokens, r.batchSize, r.seconds, r.sentencesPerSecond,
                         Runtime.matmulPrecision == .bfloat16 ? String(format: "; smallest cosine to the float32 embeddings %.6f", cosine) : ""))
        }
    }
}
