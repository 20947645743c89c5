import ArgumentParser
import Foundation
import Synapse
import SynapseServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve models over HTTP: OpenAI's chat, completion and embedding APIs, a classifier API, and a page to draw digits on.",
        discussion: """
            Give any of --classifier, --embedder and --llm. Open http://127.0.0.1:8080/ to draw a digit and watch the \
            network think; point an OpenAI client at http://127.0.0.1:8080/v1. Binding to another address than \
            127.0.0.1 needs --api-key (or --no-auth). Ctrl-C stops the server.
            """)

    @Option(help: "An MNIST classifier from `synapse train mnist` (model.safetensors).") var classifier: String?
    @Option(help: "A sentence embedder folder (MiniLM: config.json, vocab.txt, model.safetensors).") var embedder: String?
    @Option(help: "A GGUF LLM (e.g. models/SmolLM2-135M-Instruct.Q4_1.gguf), run on the native 4-bit path.") var llm: String?
    @Option(help: "A LoRA adapter for the LLM (a PEFT folder from `synapse finetune`).") var adapter: String?
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port: Int = 8080
    @Option(help: "Require this key as 'Authorization: Bearer KEY' (needed to bind to another address than 127.0.0.1).")
    var apiKey: String?
    @Flag(help: "Serve on another address than 127.0.0.1 without an API key (only on a network you trust).") var noAuth = false
    @Option(help: "Generation streams decoded together.") var streams: Int = 8
    @Option(help: "Generation requests that may wait for a stream before the server answers 429.") var queue: Int = 32
    @Option(help: "The most tokens one request may generate.") var maxTokens: Int = 2048
    @Option(help: "The largest request body in bytes.") var maxBodyBytes: Int = 8 << 20
    @Option(help: "Seconds after which a request stops generating.") var timeout: Double = 300

    func validate() throws {
        if classifier == nil && embedder == nil && llm == nil {
            throw ValidationError("give at least one model: --classifier, --embedder or --llm")
        }
        if adapter != nil && llm == nil { throw ValidationError("--adapter applies to --llm") }
        for (name, value, limit) in [("--streams", streams, 256), ("--max-tokens", maxTokens, 1 << 20),
                                     ("--max-body-bytes", maxBodyBytes, 1 << 30)] {
            try OptionLimits.check(name, value, limit: limit)
        }
        if !(0...4096).contains(queue) { throw ValidationError("--queue must lie in 0...4096") }
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must lie in (0, 86400] seconds") }
        if let problem = configuration().problem { throw ValidationError(problem) }
    }

    func configuration() -> ServerConfiguration {
        var c = ServerConfiguration()
        (c.host, c.port, c.apiKey, c.allowNoAuth) = (host, port, apiKey, noAuth)
        (c.maximumStreams, c.queueLimit, c.maximumTokens, c.maximumBodyBytes, c.requestTimeout) = (streams, queue, maxTokens, maxBodyBytes, timeout)
        c.defaultChatTokens = min(c.defaultChatTokens, maxTokens)
        return c
    }

    func run() async throws {
        let c = configuration()
        let start = Date()
        let models = try ServedModels(classifier: classifier, embedder: embedder, llm: llm, adapter: adapter, configuration: c)
        let names = models.list.map { "\($0.id) (\($0.kind))" }.joined(separator: ", ")
        FileHandle.standardError.write(Data(String(format: "loaded %@ in %.1f s\n", names, Date().timeIntervalSince(start)).utf8))
        let app = SynapseServer.application(models: models, configuration: c) { port in
            let where_ = "http://\(c.host.contains(":") ? "[\(c.host)]" : c.host):\(port)"
            writeUnbuffered("serving on \(where_)/ (page), \(where_)/v1 (OpenAI API), \(where_)/metrics; Ctrl-C stops\n")
        }
        try await app.runService()
    }
}
