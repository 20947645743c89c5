import ArgumentParser
import Foundation
import Synapse

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentence embeddings from a sentence-transformers model folder (e.g. all-MiniLM-L6-v2).",
        discussion: """
            The folder is a Hugging Face model: config.json, model.safetensors and vocab.txt. Embeddings are mean-pooled \
            over the tokens and L2-normalised, as sentence-transformers computes them.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, csv }

    @Option(help: "The model folder.") var model: String
    @OptionGroup var precision: PrecisionOptions
    @Argument(help: "Sentences to embed.") var sentences: [String] = []
    @Option(help: "Also embed every non-empty line of this file.") var file: String?
    @Option(help: "Output format: text, json or csv.") var format: Format = .text
    @Option(help: "Write to this file instead of standard output.") var output: String?
    @Option(help: "Sentences per batch.") var batchSize: Int = 32

    func validate() throws {
        if sentences.isEmpty && file == nil { throw ValidationError("give sentences to embed, or --file with one sentence per line") }
        if batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func run() throws {
        precision.apply()
        if let output { try AtomicFile.checkWritable(file: URL(fileURLWithPath: output)) }
        var all = sentences
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("\(file): cannot read it as UTF-8 text")
            }
            all += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        let embedder = try SentenceEmbedder(folder: URL(fileURLWithPath: model))
        let vectors = embedder.embed(all, batchSize: batchSize)
        let rendered: String
        switch format {
        case .text:
            rendered = zip(all, vectors).map { sentence, v in
                "\(sentence)\n  [" + v.map { String(format: "%.6f", $0) }.joined(separator: ", ") + "]"
            }.joined(separator: "\n") + "\n"
        case .json:
            let objects = zip(all, vectors).map { ["text": $0, "embedding": $1.map(Double.init)] as [String: Any] }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.withoutEscapingSlashes])
            rendered = String(decoding: data, as: UTF8.self) + "\n"
        case .csv:
            let header = "text," + (0..<embedder.dimension).map { "e\($0)" }.joined(separator: ",")
            rendered = ([header] + zip(all, vectors).map { sentence, v in
                "\"" + sentence.replacingOccurrences(of: "\"", with: "\"\"") + "\"," + v.map { String(format: "%.6f", $0) }.joined(separator: ",")
            }).joined(separator: "\n") + "\n"
        }
        if let output {
            try AtomicFile.write(text: rendered, to: URL(fileURLWithPath: output))
            print("wrote \(all.count) embeddings of \(embedder.dimension) values to \(output)")
        } else {
            print(rendered, terminator: "")
        }
    }
}
