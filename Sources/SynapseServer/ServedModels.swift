import Foundation
import Synapse

/// Why a request cannot be served: the HTTP status, OpenAI's error type and code, and a one-line message.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var type: String
    public var code: String?
    public var param: String?
    public var message: String
    /// Seconds a client should wait before retrying (429).
    public var retryAfter: Int?

    public init(_ status: Int, _ message: String, type: String? = nil, code: String? = nil, param: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? (status == 401 ? "authentication_error" : status == 429 ? "rate_limit_error"
                             : status >= 500 ? "server_error" : "invalid_request_error")
        (self.code, self.param, self.retryAfter) = (code, param, retryAfter)
    }

    public var description: String { message }

    static func invalid(_ message: String, param: String? = nil) -> APIError { APIError(400, message, param: param) }
}

/// The models a server holds: any of an MNIST classifier, a sentence embedder and a GGUF LLM.
public final class ServedModels: @unchecked Sendable {
    /// An MNIST classifier from `synapse train mnist`, run one request at a time (a forward pass takes microseconds).
    public final class Classifier: @unchecked Sendable {
        public let id: String
        let network: Sequential
        let info: ClassifierFile.Info
        let lock = NSLock()

        init(path: String) throws {
            (network, info) = try ClassifierFile.load(from: URL(fileURLWithPath: path))
            network.eval()
            id = "mnist-" + info.architecture.rawValue
        }

        /// Every layer's output for one 28×28 input (values in 0...1), and the class probabilities.
        func classify(_ pixels: [Float]) -> (probabilities: [Float], layers: [(kind: String, values: [Float])]) {
            lock.lock()
            defer { lock.unlock() }
            return noGrad {
                var x = info.architecture.inputs(Tensor(shape: [1, 784], scalars: pixels))
                var layers: [(kind: String, values: [Float])] = []
                for layer in network.layers {
                    x = layer(x)
                    layers.append((String(describing: type(of: layer)), x.scalars))
                }
                return (x.softmax(axis: 1).scalars, layers)
            }
        }

        /// The sizes of the network's dense layers, input first (for the page's picture), or nil for a CNN.
        var denseSizes: [Int]? {
            let linears = network.layers.compactMap { $0 as? Linear }
            guard info.architecture != .cnn, let first = linears.first else { return nil }
            return [first.inputFeatures] + linears.map(\.outputFeatures)
        }

        /// What neuron `neuron` of dense layer `layer` (0 = the first hidden layer) responds to, in input space: its
        /// incoming weights for the first layer; for deeper ones the product of the weight rows down to the input,
        /// a linear picture that leaves the activations out.
        func inputPattern(layer: Int, neuron: Int) throws(APIError) -> [Float] {
            let linears = network.layers.compactMap { $0 as? Linear }
            guard info.architecture != .cnn else { throw APIError(404, "the convolutional network has no per-neuron input weights to show") }
            guard layer >= 0, layer < linears.count else { throw APIError.invalid("layer must lie in 0..<\(linears.count)", param: "layer") }
            guard neuron >= 0, neuron < linears[layer].outputFeatures else {
                throw APIError.invalid("neuron must lie in 0..<\(linears[layer].outputFeatures)", param: "neuron")
            }
            lock.lock()
            defer { lock.unlock() }
            return noGrad {
                var pattern = linears[layer].weight.slice(axis: 0, neuron..<(neuron + 1))           // [1, in]
                for l in stride(from: layer - 1, through: 0, by: -1) { pattern = pattern.matmul(linears[l].weight) }
                return pattern.scalars
            }
        }

        var classNames: [String] { info.classNames }
        var architecture: String { info.architecture.description }
    }

    /// A sentence embedder (MiniLM); requests that arrive together are encoded as one batch (`EmbeddingBatcher`).
    public final class Embedder: @unchecked Sendable {
        public let id: String
        let embedder: SentenceEmbedder
        let batcher: EmbeddingBatcher

        init(path: String) throws {
            embedder = try SentenceEmbedder(folder: URL(fileURLWithPath: path))
            batcher = EmbeddingBatcher(embedder: embedder)
            id = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        }

        // The batcher's thread holds the batcher; the owner going away ends it.
        deinit { batcher.shutdown() }

        func embed(_ texts: [String]) async -> [[Float]] { await batcher.embed(texts) }

        func tokenCount(_ text: String) -> Int { embedder.tokenizer.encode(text).count }
    }

    /// A GGUF LLM on the native path, shared by every request through a `ContinuousBatcher`.
    public final class LanguageModel: @unchecked Sendable {
        public let id: String
        let model: QuantizedLlama
        let tokenizer: BPETokenizer
        let template: ChatTemplate?
        let batcher: ContinuousBatcher
        let stopTokens: Set<Int>

        init(path: String, adapter: String?, configuration: ServerConfiguration) throws {
            let gguf = try GGUFFile(path: path)
            let shape = try LlamaConfiguration(gguf: gguf)
            let lora = try adapter.map { try LoRAAdapterFile.load(URL(fileURLWithPath: $0), model: shape) }
            model = try QuantizedLlama(gguf: gguf, adapter: lora)
            tokenizer = try BPETokenizer(gguf: gguf)
            template = gguf.metadata["tokenizer.chat_template"] == nil ? nil : try ChatTemplate(source: try gguf.string("tokenizer.chat_template"))
            var stops = Set<Int>()
            if let template, let id = tokenizer.id(of: template.endOfTurn) { stops.insert(id) }
            if let eos = tokenizer.endOfText { stops.insert(eos) }
            stopTokens = stops
            batcher = ContinuousBatcher(model: model, configuration: .init(maximumStreams: configuration.maximumStreams,
                                                                          queueLimit: configuration.queueLimit))
            id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        }

        // The batcher's worker thread keeps it alive while it runs; the owner going away ends it.
        deinit { batcher.shutdown() }

        var contextLength: Int { model.configuration.contextLength }
    }

    public let classifier: Classifier?
    public let embedder: Embedder?
    public let languageModel: LanguageModel?
    public let created = Int(Date().timeIntervalSince1970)

    /// Loads whichever models are named; at least one must be.
    public init(classifier: String?, embedder: String?, llm: String?, adapter: String?, configuration: ServerConfiguration) throws {
        self.classifier = try classifier.map { try Classifier(path: $0) }
        self.embedder = try embedder.map { try Embedder(path: $0) }
        languageModel = try llm.map { try LanguageModel(path: $0, adapter: adapter, configuration: configuration) }
    }

    /// Models loaded in code (tests).
    init(classifier: Classifier?, embedder: Embedder?, languageModel: LanguageModel?) {
        (self.classifier, self.embedder, self.languageModel) = (classifier, embedder, languageModel)
    }

    /// Every model's id and kind.
    public var list: [(id: String, kind: String)] {
        var all: [(String, String)] = []
        if let languageModel { all.append((languageModel.id, "llm")) }
        if let embedder { all.append((embedder.id, "embedding")) }
        if let classifier { all.append((classifier.id, "classifier")) }
        return all
    }

    /// The LLM asked for by `name` (OpenAI's `model` field); llama.cpp's server also accepts any name, so an absent
    /// field means the one LLM served.
    func languageModel(named name: String?) throws(APIError) -> LanguageModel {
        guard let languageModel else { throw APIError(404, "this server has no language model; start it with --llm FILE.gguf", code: "model_not_found") }
        if let name, name != languageModel.id {
            throw APIError(404, "the model '\(name)' does not exist here; GET /v1/models lists '\(languageModel.id)'", code: "model_not_found", param: "model")
        }
        return languageModel
    }

    func embedder(named name: String?) throws(APIError) -> Embedder {
        guard let embedder else { throw APIError(404, "this server has no embedding model; start it with --embedder DIR", code: "model_not_found") }
        if let name, name != embedder.id {
            throw APIError(404, "the model '\(name)' does not exist here; GET /v1/models lists '\(embedder.id)'", code: "model_not_found", param: "model")
        }
        return embedder
    }
}
