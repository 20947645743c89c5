import Foundation
import Hummingbird
import NIOCore
import Synapse

/// `synapse serve`: Synapse's models over HTTP.
///
/// - `POST /v1/chat/completions`, `POST /v1/completions`: OpenAI's request and response shapes, streamed as server-sent
///   events with `"stream": true`; concurrent requests share the model through a `ContinuousBatcher`.
/// - `POST /v1/embeddings`, `GET /v1/models`: OpenAI's shapes.
/// - `POST /v1/classify`: a PNG or PGM (any size, prepared as `synapse predict` does) or `{"pixels": [784 values]}` →
///   probabilities, label and every layer's activations; `GET /v1/classifier` describes the network and
///   `GET /v1/classifier/pattern?layer=L&neuron=N` what a neuron responds to.
/// - `GET /health`, `GET /metrics` (Prometheus), and the page at `/`.
///
/// Every error is OpenAI's `{"error": {"message", "type", "param", "code"}}` with its HTTP status.
public enum SynapseServer {
    /// Each request's context, with its connection: a generation that is not streamed stops when the client leaves.
    public struct Context: RequestContext {
        public var coreContext: CoreRequestContextStorage
        let channel: any Channel
        public init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            channel = source.channel
        }
    }

    /// The application: routes, the API-key check, limits, metrics.
    public static func application(models: ServedModels, configuration: ServerConfiguration,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: Context.self)
        let metrics = ServerMetrics()
        router.add(middleware: GuardMiddleware(configuration: configuration, metrics: metrics))
        addRoutes(to: router, models: models, configuration: configuration, metrics: metrics)
        // Connections idle for longer than a request may take are closed (a client that opened one and went away).
        let idle = TimeAmount.seconds(Int64(configuration.requestTimeout) + 30)
        return Application(router: router, server: .http1(configuration: .init(idleTimeout: idle)),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "synapse/\(Synapse.version)", backlog: 1024),
                           onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) })
    }

    static func addRoutes(to router: Router<Context>, models: ServedModels, configuration c: ServerConfiguration,
                          metrics: ServerMetrics) {
        router.get("/") { _, _ in Page.response(Page.index, type: "text/html; charset=utf-8") }
        router.get("/health") { _, _ in json(.object([("status", .string("ok"))])) }
        router.get("/metrics") { _, _ in
            let load = models.languageModel?.batcher.load
            metrics.observe(streams: load?.running ?? 0, waiting: load?.waiting ?? 0)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        router.get("/v1/models") { _, _ in
            json(.object([("object", .string("list")), ("data", .array(models.list.map { m in
                .object([("id", .string(m.id)), ("object", .string("model")), ("created", .int(models.created)),
                         ("owned_by", .string("synapse")), ("kind", .string(m.kind))])
            }))]))
        }
        router.post("/v1/chat/completions") { request, context in
            try await generate(request, context: context, models: models, configuration: c, metrics: metrics, parse: GenerationRequest.chat)
        }
        router.post("/v1/completions") { request, context in
            try await generate(request, context: context, models: models, configuration: c, metrics: metrics, parse: GenerationRequest.completion)
        }
        router.post("/v1/embeddings") { request, _ in
            var request = request
            let body = try RequestObject(bytes: try await bodyBytes(&request, limit: c.maximumBodyBytes))
            return try await embeddings(body, models: models, configuration: c)
        }
        addClassifierRoutes(to: router, models: models, configuration: c)
    }

    // MARK: Generation

    static func generate(_ request: Request, context: Context, models: ServedModels, configuration c: ServerConfiguration, metrics: ServerMetrics,
                         parse: (RequestObject, ServedModels, ServerConfiguration) throws(APIError) -> GenerationRequest) async throws -> Response {
        var request = request
        let body = try RequestObject(bytes: try await bodyBytes(&request, limit: c.maximumBodyBytes))
        let generation = try parse(body, models, c)
        let events = try generation.submit(deadline: Date().addingTimeInterval(c.requestTimeout))
        if generation.stream {
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await streamEvents(events, generation: generation, metrics: metrics) { text in
                                    try await writer.write(ByteBuffer(string: text))
                                }
                                try await writer.finish(nil)
                            })
        }
        // Without streaming, a client that closes its connection stops the generation all the same: the connection's
        // inbound side is watched while the answer is made, and the task cancelled when it closes (which ends the
        // token stream and so the generation). Watching consumes the connection, so the answer closes it.
        let answer = try await request.body.consumeWithCancellationOnInboundClose { _ in
            await collect(events, generation: generation, metrics: metrics)
        }
        let choice: JSONText = generation.chat
            ? .object([("index", .int(0)), ("message", .object([("role", .string("assistant")), ("content", .string(answer.text))])),
                       ("logprobs", .null), ("finish_reason", .string(answer.reason))])
            : .object([("text", .string(answer.text)), ("index", .int(0)), ("logprobs", .null), ("finish_reason", .string(answer.reason))])
        var response = json(.object([
            ("id", .string(generation.id)), ("object", .string(generation.chat ? "chat.completion" : "text_completion")),
            ("created", .int(generation.created)), ("model", .string(generation.model.id)), ("choices", .array([choice])),
            ("usage", usage(prompt: generation.prompt.count, completion: answer.tokens)),
        ]))
        response.headers[.connection] = "close"
        return response
    }

    static func usage(prompt: Int, completion: Int) -> JSONText {
        .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)), ("total_tokens", .int(prompt + completion))])
    }

    /// The whole answer: text, tokens generated, and OpenAI's finish reason.
    static func collect(_ events: AsyncStream<ContinuousBatcher.Event>, generation: GenerationRequest,
                        metrics: ServerMetrics) async -> (text: String, tokens: Int, reason: String) {
        var scanner = StopScanner(stops: generation.stops)
        var tokens = 0, reason = "length"
        for await event in events {
            switch event {
            case .token(let id):
                tokens += 1
                metrics.tokensGenerated.increment()
                _ = scanner.append(generation.model.tokenizer.bytes(of: id))
                if scanner.stopped { reason = "stop" }
            case .finished(let why):
                reason = why == .stop ? "stop" : reason
            }
            if scanner.stopped { break }
        }
        _ = scanner.finish()
        return (scanner.text, tokens, reason)
    }

    /// Server-sent events, as OpenAI sends them: a first chunk with the role (chat), one per piece of text, a last
    /// one with the finish reason, then `data: [DONE]`.
    static func streamEvents(_ events: AsyncStream<ContinuousBatcher.Event>, generation g: GenerationRequest, metrics: ServerMetrics,
                             write: (String) async throws -> Void) async throws {
        func chunk(_ delta: JSONText?, text: String?, finish: String?) -> String {
            let choice: JSONText = g.chat
                ? .object([("index", .int(0)), ("delta", delta ?? .object([])), ("logprobs", .null), ("finish_reason", finish.map(JSONText.string) ?? .null)])
                : .object([("text", .string(text ?? "")), ("index", .int(0)), ("logprobs", .null), ("finish_reason", finish.map(JSONText.string) ?? .null)])
            let object: JSONText = .object([("id", .string(g.id)), ("object", .string(g.chat ? "chat.completion.chunk" : "text_completion")),
                                            ("created", .int(g.created)), ("model", .string(g.model.id)), ("choices", .array([choice]))])
            return "data: " + object.text + "\n\n"
        }
        if g.chat { try await write(chunk(.object([("role", .string("assistant")), ("content", .string(""))]), text: nil, finish: nil)) }
        var scanner = StopScanner(stops: g.stops)
        var reason = "length"
        for await event in events {
            switch event {
            case .token(let id):
                metrics.tokensGenerated.increment()
                let piece = scanner.append(g.model.tokenizer.bytes(of: id))
                if !piece.isEmpty { try await write(chunk(.object([("content", .string(piece))]), text: piece, finish: nil)) }
                if scanner.stopped { reason = "stop" }
            case .finished(let why):
                if why == .stop { reason = "stop" }
            }
            if scanner.stopped { break }
        }
        let rest = scanner.finish()
        if !rest.isEmpty { try await write(chunk(.object([("content", .string(rest))]), text: rest, finish: nil)) }
        try await write(chunk(.object([]), text: "", finish: reason))
        try await write("data: [DONE]\n\n")
    }

    // MARK: Embeddings

    static func embeddings(_ body: RequestObject, models: ServedModels, configuration c: ServerConfiguration) async throws -> Response {
        let embedder = try models.embedder(named: try body.string("model"))
        var inputs: [String]
        switch body.object["input"] {
        case .string(let s)?: inputs = [s]
        case .array(let items)?:
            inputs = []
            for item in items {
                guard case .string(let s) = item else {
                    throw APIError.invalid("'input' must be a string or a list of strings (token arrays are not supported)", param: "input")
                }
                inputs.append(s)
            }
        default: throw APIError.invalid("'input' must be a string or a list of strings", param: "input")
        }
        guard !inputs.isEmpty, inputs.count <= c.maximumEmbeddingInputs else {
            throw APIError.invalid("'input' must hold 1 to \(c.maximumEmbeddingInputs) strings", param: "input")
        }
        guard inputs.allSatisfy({ !$0.isEmpty && $0.count <= c.maximumInputCharacters }) else {
            throw APIError.invalid("each input must be a non-empty string of at most \(c.maximumInputCharacters) characters", param: "input")
        }
        let format = try body.string("encoding_format") ?? "float"
        guard format == "float" || format == "base64" else { throw APIError.invalid("'encoding_format' must be float or base64", param: "encoding_format") }
        let vectors = await embedder.embed(inputs)
        let tokens = inputs.reduce(0) { $0 + embedder.tokenCount($1) }
        let data: [JSONText] = vectors.enumerated().map { i, v in
            let embedding: JSONText = format == "float" ? .floats(v)
                : .string(v.withUnsafeBytes { Data($0) }.base64EncodedString())       // little-endian Float32, as OpenAI
            return .object([("object", .string("embedding")), ("index", .int(i)), ("embedding", embedding)])
        }
        return json(.object([("object", .string("list")), ("data", .array(data)), ("model", .string(embedder.id)),
                             ("usage", .object([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))]))]))
    }

    // MARK: Helpers

    /// The request body, refused with 413 past `limit` bytes.
    static func bodyBytes(_ request: inout Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(413, "the body is \(length) bytes, more than this server's limit of \(limit)", code: "request_too_large")
        }
        do {
            var buffer = try await request.collectBody(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(413, "the body is more than this server's limit of \(limit) bytes", code: "request_too_large")
        }
    }

    static func json(_ value: JSONText, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: value.text)))
    }
}
