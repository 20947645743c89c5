import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import Synapse
import Testing
@testable import SynapseServer

/// The test bootstrap, as in SynapseTests (`LayeringTests` checks every suite carries it): what `synapse serve` does at
/// start-up, done before the suite runs, so OpenBLAS's thread pool never restarts under a running product.
struct SynapseRuntime: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        Runtime.configureBLAS()
        try await function()
    }
}

extension Trait where Self == SynapseRuntime {
    static var synapseRuntime: Self { Self() }
}

/// Small real models for the server: the notes' 784-16-16-10 network (random weights), the tiny Llama of the
/// fine-tuning fixtures with a byte-level vocabulary and a ChatML template added, and MiniLM when it is there.
enum ServedFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SynapseTests/Fixtures")
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-serve-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static let classifierPath: String = {
        var rng = RandomGenerator(seed: 1)
        let model = Sequential(Linear(784, 16, generator: &rng), Sigmoid(), Linear(16, 16, generator: &rng), Sigmoid(),
                               Linear(16, 10, generator: &rng))
        let url = directory.appendingPathComponent("classifier.safetensors")
        try! ClassifierFile.save(model, architecture: .seed, dataset: .digits, to: url)
        return url.path
    }()

    /// The tiny model (vocabulary 96) with the markers, the newline and the printable bytes as its tokens.
    static let llmPath: String = {
        let source = try! GGUFFile(path: fixtures.appendingPathComponent("finetune/tiny_llama.gguf").path)
        var writer = GGUFWriter()
        writer.copyMetadata(from: source)
        let alphabet = byteAlphabet()
        var tokens = ["<|im_start|>", "<|im_end|>", alphabet[0x0A]]
        tokens += (0x20...0x7C).map { alphabet[$0] }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string("smollm"))
        writer.set("tokenizer.ggml.tokens", .array(tokens.map(GGUFValue.string)))
        writer.set("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 < 2 ? 3 : 1) }))
        writer.set("tokenizer.ggml.merges", .array([.string("a b")]))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(1))
        writer.set("tokenizer.chat_template", .string("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"))
        for info in source.tensors {
            writer.addTensor(info.name, dimensions: info.dimensions, type: info.type, bytes: source.data(of: info), owner: nil)
        }
        let url = directory.appendingPathComponent("tiny-chat.gguf")
        try! writer.write(to: url)
        return url.path
    }()

    /// GPT-2's byte → printable-character table (the alphabet byte-level BPE tokens are written in).
    static func byteAlphabet() -> [String] {
        let keep = Set(Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF))
        var extra = 0
        return (0..<256).map { b in
            if keep.contains(b) { return String(UnicodeScalar(UInt8(b))) }
            defer { extra += 1 }
            return String(UnicodeScalar(UInt32(256 + extra))!)
        }
    }

    static var smolLM2: String? {
        let root = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["SYNAPSE_SMOLLM2_GGUF"] ?? root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static var miniLM: String? {
        let root = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = ProcessInfo.processInfo.environment["SYNAPSE_MINILM_DIR"] ?? root.appendingPathComponent("models/all-MiniLM-L6-v2").path
        return FileManager.default.fileExists(atPath: path + "/config.json") ? path : nil
    }

    static func models(configuration: ServerConfiguration) throws -> ServedModels {
        try ServedModels(classifier: classifierPath, embedder: miniLM, llm: llmPath, adapter: nil, configuration: configuration)
    }

    static func configuration(key: String? = nil) -> ServerConfiguration {
        var c = ServerConfiguration()
        c.port = 0
        c.apiKey = key
        c.maximumBodyBytes = 1 << 16
        c.maximumTokens = 64
        c.maximumStreams = 2
        c.queueLimit = 2
        return c
    }
}

/// Parses a JSON body for the checks.
func object(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8))) as? [String: Any] ?? [:]
}

func post(_ client: some TestClientProtocol, _ uri: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
    var h = headers
    h[.contentType] = "application/json"
    return try await client.execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: body))
}

@Suite("synapse serve over loopback", .synapseRuntime)
struct ServerTests {
    static let models = try! ServedFixtures.models(configuration: ServedFixtures.configuration())

    func app(key: String? = nil, models: ServedModels = Self.models) -> some ApplicationProtocol {
        SynapseServer.application(models: models, configuration: ServedFixtures.configuration(key: key))
    }

    @Test func healthModelsPageAndMetrics() async throws {
        try await app().test(.live) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok && String(buffer: health.body) == #"{"status":"ok"}"#)
            let models = object(try await client.execute(uri: "/v1/models", method: .get).body)
            let ids = (models["data"] as! [[String: Any]]).map { $0["id"] as! String }
            #expect(ids.contains("tiny-chat") && ids.contains("mnist-seed"))
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(buffer: page.body).contains("<canvas id=\"pad\""))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("synapse_http_requests_total{route=\"/v1/models\",status=\"200\"} 1"))
        }
    }

    @Test func chatCompletionsAnswerInOpenAIsShapeAndStopWhereAsked() async throws {
        // AsyncHTTPClient: an answer that is not streamed closes its connection (see SynapseServer.generate).
        try await app().test(.ahc(.http)) { client in
            let response = try await post(client, "/v1/chat/completions",
                                          #"{"model": "tiny-chat", "messages": [{"role": "user", "content": "Hi?"}], "max_tokens": 8, "temperature": 0, "seed": 3}"#)
            #expect(response.status == .ok)
            let body = object(response.body)
            #expect(body["object"] as? String == "chat.completion")
            let choice = (body["choices"] as! [[String: Any]])[0]
            let message = choice["message"] as! [String: Any]
            #expect(message["role"] as? String == "assistant")
            let text = message["content"] as! String
            let usage = body["usage"] as! [String: Int]
            #expect(usage["prompt_tokens"]! > 5 && usage["completion_tokens"]! <= 8)
            #expect(usage["total_tokens"] == usage["prompt_tokens"]! + usage["completion_tokens"]!)
            // The same request with a stop string cut from the answer ends before it, reason "stop".
            if let cut = text.dropFirst(2).first.map(String.init), !cut.trimmingCharacters(in: .whitespaces).isEmpty {
                let stopped = object(try await post(client, "/v1/chat/completions",
                                                    #"{"messages": [{"role": "user", "content": "Hi?"}], "max_tokens": 8, "temperature": 0, "stop": [\#(JSONValue.escaped(cut))]}"#).body)
                let choice = (stopped["choices"] as! [[String: Any]])[0]
                #expect(choice["finish_reason"] as? String == "stop")
                #expect(!((choice["message"] as! [String: Any])["content"] as! String).contains(cut))
            }
        }
    }

    @Test func streamedAnswersAreServerSentEventsEndingWithDone() async throws {
        try await app().test(.ahc(.http)) { client in
            let response = try await post(client, "/v1/chat/completions",
                                          #"{"messages": [{"role": "user", "content": "Hi?"}], "max_tokens": 6, "temperature": 0, "stream": true}"#)
            #expect(response.headers[.contentType] == "text/event-stream")
            let text = String(buffer: response.body)
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            #expect(events.last == "data: [DONE]")
            let chunks = events.dropLast().map { object(ByteBuffer(string: String($0.dropFirst(6)))) }
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let first = (chunks.first!["choices"] as! [[String: Any]])[0]["delta"] as! [String: Any]
            #expect(first["role"] as? String == "assistant")
            let last = (chunks.last!["choices"] as! [[String: Any]])[0]
            #expect(last["finish_reason"] as? String == "length")
            // The streamed text equals the whole answer of the same greedy request.
            let streamed = chunks.compactMap { (($0["choices"] as! [[String: Any]])[0]["delta"] as! [String: Any])["content"] as? String }.joined()
            let whole = object(try await post(client, "/v1/chat/completions",
                                              #"{"messages": [{"role": "user", "content": "Hi?"}], "max_tokens": 6, "temperature": 0}"#).body)
            #expect(streamed == ((whole["choices"] as! [[String: Any]])[0]["message"] as! [String: Any])["content"] as! String)
            let completion = try await post(client, "/v1/completions", #"{"prompt": "ab", "max_tokens": 3, "stream": true}"#)
            #expect(String(buffer: completion.body).contains(#""object":"text_completion""#))
        }
    }

    @Test func badRequestsGetOpenAIErrorsWithTheirStatus() async throws {
        try await app().test(.ahc(.http)) { client in
            func check(_ uri: String, _ body: String, status: HTTPResponse.Status, contains: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let response = try await post(client, uri, body)
                #expect(response.status == status, "\(body)", sourceLocation: sourceLocation)
                let error = object(response.body)["error"] as? [String: Any]
                #expect((error?["message"] as? String)?.contains(contains) == true, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
                #expect(error?["type"] is String, sourceLocation: sourceLocation)
            }
            try await check("/v1/chat/completions", "{not json", status: .badRequest, contains: "not valid JSON")
            try await check("/v1/chat/completions", "[1]", status: .badRequest, contains: "not a JSON object")
            try await check("/v1/chat/completions", #"{"messages": "hi"}"#, status: .badRequest, contains: "'messages'")
            try await check("/v1/chat/completions", #"{"messages": [{"role": "robot", "content": "x"}]}"#, status: .badRequest, contains: "role 'robot'")
            try await check("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}"#, status: .badRequest, contains: "'temperature' must be a number")
            try await check("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "temperature": 5}"#, status: .badRequest, contains: "'temperature' must lie in")
            try await check("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 100000}"#, status: .badRequest, contains: "limit of 64")
            try await check("/v1/chat/completions", #"{"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}"#, status: .notFound, contains: "'gpt-4' does not exist")
            let long = String(repeating: "word ", count: 60)
            try await check("/v1/completions", #"{"prompt": "\#(long)"}"#, status: .badRequest, contains: "context")
            try await check("/v1/completions", #"{"prompt": 5}"#, status: .badRequest, contains: "'prompt' must be a string")
            try await check("/v1/embeddings", #"{"input": [1, 2]}"#, status: ServedFixtures.miniLM == nil ? .notFound : .badRequest, contains: ServedFixtures.miniLM == nil ? "no embedding model" : "token arrays")
            try await check("/v1/classify", #"{"pixels": [1, 2, 3]}"#, status: .badRequest, contains: "784 values")
            try await check("/v1/classify", "{\"pixels\": [" + Array(repeating: "2", count: 784).joined(separator: ",") + "]}", status: .badRequest, contains: "0...1")
            let garbage = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                   body: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]))
            #expect(garbage.status == .badRequest && String(buffer: garbage.body).contains("PNG"))
            let huge = String(repeating: "x", count: 70_000)
            try await check("/v1/chat/completions", huge, status: .contentTooLarge, contains: "limit")
            let missing = try await client.execute(uri: "/v1/nosuch", method: .get)
            #expect(missing.status == .notFound && String(buffer: missing.body).contains("no route"))
        }
    }

    @Test func anAPIKeyIsRequiredWhenSetExceptForThePageAndHealth() async throws {
        try await app(key: "secret-key-123").test(.live) { client in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            let none = try await client.execute(uri: "/v1/models", method: .get)
            #expect(none.status == .unauthorized)
            #expect((object(none.body)["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
            #expect(try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer wrong-key-123"]).status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer secret-key-123"]).status == .ok)
        }
        var open = ServerConfiguration()
        open.host = "0.0.0.0"
        #expect(open.problem?.contains("--api-key") == true)
        open.allowNoAuth = true
        #expect(open.problem == nil)
        #expect(GuardMiddleware<SynapseServer.Context>.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!GuardMiddleware<SynapseServer.Context>.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!GuardMiddleware<SynapseServer.Context>.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
    }

    @Test func classifyGivesEveryLayerAndPatternsForHiddenNeurons() async throws {
        try await app().test(.live) { client in
            var pixels = [String](repeating: "0", count: 784)
            for y in 6..<22 { pixels[y * 28 + 14] = "1" }
            let body = object(try await post(client, "/v1/classify", "{\"pixels\": [" + pixels.joined(separator: ",") + "]}").body)
            let probabilities = body["probabilities"] as! [Double]
            #expect(probabilities.count == 10 && abs(probabilities.reduce(0, +) - 1) < 1e-4)
            #expect(body["label"] as? Int == probabilities.indices.max { probabilities[$0] < probabilities[$1] })
            let layers = (body["layers"] as! [[String: Any]]).map { ($0["kind"] as! String, ($0["activations"] as! [Double]).count) }
            #expect(layers.map(\.0) == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"] && layers.map(\.1) == [16, 16, 16, 16, 10])
            // A PNG of any size is prepared as `synapse predict` does.
            var image = GrayImage(width: 60, height: 90, pixels: [Float](repeating: 1, count: 5400))
            for y in 10..<80 { for x in 25..<35 { image[x, y] = 0 } }
            let png = ServedFixtures.directory.appendingPathComponent("digit.png")
            try image.writePNG(to: png.path)
            let upload = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                  body: ByteBuffer(bytes: try Data(contentsOf: png)))
            #expect(upload.status == .ok && (object(upload.body)["input"] as! [Double]).count == 784)
            let pattern = object(try await client.execute(uri: "/v1/classifier/pattern?layer=1&neuron=2", method: .get).body)
            #expect((pattern["pattern"] as! [Double]).count == 784)
            #expect(try await client.execute(uri: "/v1/classifier/pattern?layer=9&neuron=0", method: .get).status == .badRequest)
        }
    }

    @Test(.enabled(if: ServedFixtures.miniLM != nil, "MiniLM not found: run scripts/get-models.sh"))
    func embeddingsAsFloatsAndBase64() async throws {
        try await app().test(.live) { client in
            let floats = object(try await post(client, "/v1/embeddings", #"{"input": ["a cat", "a dog"]}"#).body)
            let data = floats["data"] as! [[String: Any]]
            #expect(data.count == 2 && (data[0]["embedding"] as! [Double]).count == 384)
            let encoded = object(try await post(client, "/v1/embeddings", #"{"input": "a cat", "encoding_format": "base64"}"#).body)
            let base64 = (encoded["data"] as! [[String: Any]])[0]["embedding"] as! String
            let bytes = Data(base64Encoded: base64)!
            let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(zip(values, data[0]["embedding"] as! [Double]).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        }
    }

    @Test(.enabled(if: ServedFixtures.miniLM != nil, "MiniLM is not downloaded (scripts/get-models.sh)"))
    func concurrentEmbeddingRequestsAreBatchedAndEachGetsItsOwn() async throws {
        // Requests that meet in the batcher are encoded together; each must get exactly what it gets alone.
        let embedder = try #require(Self.models.embedder)
        let texts = (0..<12).map { i in String(repeating: "word\(i) ", count: 1 + i % 5) + "ends here." }
        var alone: [[Float]] = []
        for text in texts { alone.append(await embedder.embed([text])[0]) }
        let together = await withTaskGroup(of: (Int, [[Float]]).self) { group in
            for (i, text) in texts.enumerated() {
                group.addTask { (i, await embedder.embed(i % 3 == 0 ? [text, text] : [text])) }
            }
            var result = [[[Float]]](repeating: [], count: texts.count)
            for await (i, vectors) in group { result[i] = vectors }
            return result
        }
        for (i, vectors) in together.enumerated() {
            #expect(vectors.count == (i % 3 == 0 ? 2 : 1))
            for v in vectors {
                let difference = zip(v, alone[i]).map { abs($0 - $1) }.max() ?? .infinity
                #expect(v.count == 384 && difference < 1e-5, "text \(i): max |Δ| \(difference) from its embedding alone")
            }
        }
    }

    @Test func mutatedBodiesGetAnAnswerNeverAFault() async throws {
        // Valid bodies for every POST route, cut, bit-flipped, spliced and retyped (seeded): each must get a 2xx or
        // a 4xx with OpenAI's error object — a 5xx, a malformed answer or a crash fails. In-memory router, so 2,400
        // requests take seconds.
        let digit = "[" + (0..<784).map { String(Float($0 % 7) / 7) }.joined(separator: ",") + "]"
        let seeds: [(String, String)] = [
            ("/v1/chat/completions", #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 3, "temperature": 0.5, "top_p": 0.9, "seed": 7, "stop": ["x", "yz"]}"#),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "abc"}], "max_tokens": 2, "stream": true}"#),
            ("/v1/completions", #"{"prompt": "abc def", "max_tokens": 2, "temperature": 0, "stop": "q", "ignore_eos": true}"#),
            ("/v1/embeddings", #"{"input": ["a cat", "a dog"], "encoding_format": "base64"}"#),
            ("/v1/classify", #"{"pixels": \#(digit)}"#),
        ]
        let fragments = [#"""#, "{", "}", "[", "]", ":", ",", "null", "true", "-1", "1e999", "0.5", #""\u0000""#,
                         #""\ud800""#, "18446744073709551616", #"{"role": "user"}"#, "[[[[[[[[", #""max_tokens": 100000000"#]
        var random = RandomGenerator(seed: 21)
        var cases: [(uri: String, bytes: [UInt8])] = []
        for round in 0..<480 {
            for (uri, seed) in seeds {
                var bytes = Array(seed.utf8)
                switch round % 4 {
                case 0: bytes = Array(bytes.prefix(random.nextInt(below: bytes.count)))                           // cut
                case 1: for _ in 0..<1 + random.nextInt(below: 4) {                                                // flips
                            bytes[random.nextInt(below: bytes.count)] ^= UInt8(1 << random.nextInt(below: 8))
                        }
                case 2: let at = random.nextInt(below: bytes.count)                                                 // splice
                        bytes.insert(contentsOf: Array(fragments[random.nextInt(below: fragments.count)].utf8), at: at)
                default: let at = random.nextInt(below: bytes.count)                                                // replace a span
                         let end = min(bytes.count, at + 1 + random.nextInt(below: 12))
                         bytes.replaceSubrange(at..<end, with: Array(fragments[random.nextInt(below: fragments.count)].utf8))
                }
                cases.append((uri, bytes))
            }
        }
        let mutated = cases
        try await app().test(.router) { client in
            for (uri, bytes) in mutated {
                let response = try await client.execute(uri: uri, method: .post, headers: [.contentType: "application/json"],
                                                        body: ByteBuffer(bytes: bytes))
                let code = Int(response.status.code)
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(code < 500, "\(uri) answered \(code) to \(text.prefix(200))")
                if code >= 400 {
                    let error = object(response.body)["error"] as? [String: Any]
                    #expect(error?["message"] is String && error?["type"] is String,
                            "\(uri): \(code) without OpenAI's error object for \(text.prefix(200))")
                }
            }
        }
    }

    @Test func anAdapterIsServedAsTheLibraryAppliesIt() async throws {
        // The PEFT adapter of the fine-tuning fixtures on the tiny model: the server's greedy completion equals the
        // library's greedy generation with the same adapter, and differs from the base model's.
        let adapter = ServedFixtures.fixtures.appendingPathComponent("finetune/peft_adapter").path
        let c = ServedFixtures.configuration()
        let gguf = try GGUFFile(path: ServedFixtures.llmPath)
        let tokenizer = try BPETokenizer(gguf: gguf)
        func greedy(_ lora: LlamaLoRA?) throws -> String {
            let model = try QuantizedLlama(gguf: gguf, adapter: lora)
            let cache = model.makeCache()
            var logits = model.forward(tokenizer.encode("abc"), cache: cache, lastOnly: true).scalars
            var generated: [Int] = []
            var sampler = TokenSampler(temperature: 0)
            for _ in 0..<12 {
                generated.append(sampler.sample(logits))
                logits = model.forward([generated.last!], cache: cache).scalars
            }
            return tokenizer.decode(generated)
        }
        let lora = try LoRAAdapterFile.load(URL(fileURLWithPath: adapter), model: LlamaConfiguration(gguf: gguf))
        let (adapted, base) = (try greedy(lora), try greedy(nil))
        #expect(adapted != base, "the fixture adapter should change the tiny model's greedy answer")
        for (path, expected) in [(adapter, adapted), (nil, base)] {
            let models = try ServedModels(classifier: nil, embedder: nil, llm: ServedFixtures.llmPath, adapter: path, configuration: c)
            try await SynapseServer.application(models: models, configuration: c).test(.router) { client in
                let body = #"{"prompt": "abc", "max_tokens": 12, "temperature": 0, "ignore_eos": true}"#
                let answer = object(try await post(client, "/v1/completions", body).body)
                let text = ((answer["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? "<no text: \(answer)>"
                #expect(text == expected, "adapter \(path ?? "none")")
            }
            models.languageModel?.batcher.shutdown()
        }
    }

    @Test func aFullQueueAnswers429WithRetryAfter() async throws {
        // One stream and no queue: a second request while the first is generating is refused at once. (Submitted
        // back to back here: over HTTP the tiny model finishes a request before the next one arrives.)
        var c = ServedFixtures.configuration()
        (c.maximumStreams, c.queueLimit) = (1, 0)
        let models = try ServedFixtures.models(configuration: c)
        let body = try RequestObject(bytes: Array(#"{"prompt": "abc", "max_tokens": 60}"#.utf8))
        let first = try GenerationRequest.completion(body, models: models, configuration: c)
        let running = try first.submit(deadline: .distantFuture)
        do {
            _ = try GenerationRequest.completion(body, models: models, configuration: c).submit(deadline: .distantFuture)
            Issue.record("a request beyond the queue was accepted")
        } catch {
            #expect(error.status == 429 && error.retryAfter == 1 && error.code == "rate_limit_exceeded")
            let response = GuardMiddleware<SynapseServer.Context>.errorResponse(error)
            #expect(response.status == .tooManyRequests && response.headers[.retryAfter] == "1")
        }
        for await _ in running {}
    }

    @Test(.enabled(if: ServedFixtures.smolLM2 != nil, "SmolLM2 not found: run scripts/get-models.sh"))
    func aClientThatLeavesStopsItsGeneration() async throws {
        // Raw connections that send a long request, streamed or not, and close after the first bytes of the answer
        // (or at once): SmolLM2 takes seconds for 1000 tokens, so tokens generated after the close would show. The
        // bound is on tokens after the close: under a parallel test run this task may resume late.
        var c = ServedFixtures.configuration()
        c.maximumTokens = 1000
        let models = try ServedModels(classifier: nil, embedder: nil, llm: ServedFixtures.smolLM2, adapter: nil, configuration: c)
        try await SynapseServer.application(models: models, configuration: c).test(.live) { client in
            let port = client.port!
            let batcher = models.languageModel!.batcher
            for stream in [true, false] {
                let before = batcher.load.generated
                let request = "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                let body = #"{"prompt": "Once upon a time", "max_tokens": 1000, "temperature": 1, "stream": \#(stream)}"#
                let socket = try RawSocket(port: port)
                socket.send(request + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
                // Leave once a few tokens have been generated.
                for _ in 0..<2000 where batcher.load.generated - before < 5 { try await Task.sleep(for: .milliseconds(5)) }
                let atClose = batcher.load.generated - before
                socket.close()
                for _ in 0..<4000 where batcher.load.running > 0 { try await Task.sleep(for: .milliseconds(5)) }
                let after = batcher.load.generated - before - atClose
                #expect(atClose >= 5 && atClose < 1000, "stream \(stream): the client left after \(atClose) tokens")
                #expect(after < 40, "stream \(stream): \(after) tokens were generated after the client left")
            }
            let load = models.languageModel!.batcher.load
            #expect(load.running == 0)
        }
    }
}

/// A plain TCP client for the disconnect test.
final class RawSocket {
    let fd: Int32
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }
    func send(_ text: String) { _ = Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } }
    func receive() -> Int { var buffer = [UInt8](repeating: 0, count: 4096); return recv(fd, &buffer, buffer.count, 0) }
    func close() { Glibc.close(fd) }
}
