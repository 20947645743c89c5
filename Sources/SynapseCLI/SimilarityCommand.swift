import ArgumentParser
import Foundation
import Synapse

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Cosine similarity of two sentences' embeddings (sentence-transformers model folder).")

    @Option(help: "The model folder.") var model: String
    @OptionGroup var precision: PrecisionOptions
    @Argument(help: "The first sentence.") var first: String
    @Argument(help: "The second sentence.") var second: String

    func run() throws {
        precision.apply()
        let embedder = try SentenceEmbedder(folder: URL(fileURLWithPath: model))
        let v = embedder.embed([first, second])
        print(String(format: "%.4f", SentenceEmbedder.cosineSimilarity(v[0], v[1])))
    }
}
