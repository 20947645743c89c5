/// A character-level language model with a recurrent core: embedding → RNN/LSTM/GRU → linear head.
///
/// Child names follow the PyTorch reference (shared/bench/torch_char_lstm.py): `embed.weight`,
/// `lstm.weight_ih_l0` … (or `gru.`/`rnn.`), `head.weight`, `head.bias`, so the file loads into that model.
///
/// ```swift
/// var rng = RandomGenerator(seed: 1337)
/// let model = RecurrentLanguageModel(.init(kind: .lstm, vocabularySize: 65), generator: &rng)
/// let logits = model.logits(tokens: batch.inputs, batchSize: 32)       // [32·64, 65]
/// ```
public final class RecurrentLanguageModel: Module, LanguageModel {
    public enum Kind: String, CaseIterable, Sendable { case lstm, gru, rnn }

    public struct Configuration: Sendable, Equatable {
        public var kind: Kind
        public var vocabularySize: Int
        public var embeddingSize: Int
        public var hiddenSize: Int
        public var layers: Int

        /// Defaults: the char-lstm workload of shared/bench/WORKLOADS.md (embedding 128, one layer of 256).
        public init(kind: Kind, vocabularySize: Int, embeddingSize: Int = 128, hiddenSize: Int = 256, layers: Int = 1) {
            self.kind = kind
            self.vocabularySize = vocabularySize
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.layers = layers
        }
    }

    public let configuration: Configuration
    public let embed: Embedding
    public let recurrent: RecurrentLayer
    public let head: Linear

    public init(_ configuration: Configuration, generator: inout RandomGenerator) {
        self.configuration = configuration
        let c = configuration
        embed = Embedding(c.vocabularySize, c.embeddingSize, generator: &generator)
        switch c.kind {
        case .lstm: recurrent = LSTM(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, layers: c.layers, generator: &generator)
        case .gru: recurrent = GRU(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, layers: c.layers, generator: &generator)
        case .rnn: recurrent = RNN(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, layers: c.layers, generator: &generator)
        }
        head = Linear(c.hiddenSize, c.vocabularySize, generator: &generator)
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("embed", embed), (configuration.kind.rawValue, recurrent), ("head", head)])
    }

    public var vocabularySize: Int { configuration.vocabularySize }

    /// Next-token logits [B·T, V] from tokens [B, T] (row-major) and an optional carried state; also returns the
    /// final state, for truncated backpropagation through time (detach it before the next batch).
    public func logits(tokens: [Int], batchSize: Int, state: RecurrentState?) -> (logits: Tensor, state: RecurrentState) {
        precondition(batchSize > 0 && tokens.count % batchSize == 0,
                     "RecurrentLanguageModel: \(tokens.count) tokens do not split into \(batchSize) rows")
        let steps = tokens.count / batchSize
        let (h, final) = recurrent(tokens: tokens, shape: [batchSize, steps], embedding: embed, state: state)
        return (head(h.reshaped([batchSize * steps, configuration.hiddenSize])), final)
    }

    public func logits(tokens: [Int], batchSize: Int) -> Tensor { logits(tokens: tokens, batchSize: batchSize, state: nil).logits }

    public var architectureMetadata: [String: String] {
        [LanguageModelFile.kindKey: configuration.kind.rawValue,
         "synapse.lm.embedding": String(configuration.embeddingSize),
         "synapse.lm.hidden": String(configuration.hiddenSize),
         "synapse.lm.layers": String(configuration.layers)]
    }

    /// Rebuilds a model from `architectureMetadata` (the registered builder for lstm, gru and rnn).
    static func build(metadata: [String: String], vocabularySize: Int, shapes: [String: [Int]],
                      file: String) throws(LanguageModelFile.Error) -> any LanguageModel {
        let kindName = metadata[LanguageModelFile.kindKey] ?? ""
        guard let kind = Kind(rawValue: kindName) else { throw .unknownKind(file: file, kind: kindName) }
        func int(_ key: String) throws(LanguageModelFile.Error) -> Int {
            try LanguageModelFile.size(key, in: metadata, file: file)
        }
        let configuration = Configuration(kind: kind, vocabularySize: vocabularySize, embeddingSize: try int("synapse.lm.embedding"),
                                          hiddenSize: try int("synapse.lm.hidden"), layers: try int("synapse.lm.layers"))
        // Every size against the stored tensors before anything is allocated.
        let (e, h, layers) = (configuration.embeddingSize, configuration.hiddenSize, configuration.layers)
        let gates = kind == .lstm ? 4 : kind == .gru ? 3 : 1
        let layer = kind.rawValue
        try LanguageModelFile.requireShape("embed.weight", [vocabularySize, e], in: shapes, file: file,
                                           from: "vocabulary, synapse.lm.embedding")
        try LanguageModelFile.requireShape("\(layer).weight_hh_l0", [gates * h, h], in: shapes, file: file,
                                           from: "synapse.lm.hidden")
        try LanguageModelFile.requireShape("\(layer).weight_ih_l\(layers - 1)", [gates * h, layers == 1 ? e : h],
                                           in: shapes, file: file, from: "synapse.lm.layers, synapse.lm.hidden")
        try LanguageModelFile.requireShape("head.weight", [vocabularySize, h], in: shapes, file: file,
                                           from: "vocabulary, synapse.lm.hidden")
        var rng = RandomGenerator(seed: 0)
        return RecurrentLanguageModel(configuration, generator: &rng)
    }

    public func makeSession() -> any LanguageModelSession { Session(model: self) }

    /// Generation carries the recurrent state: each new token costs one step, whatever the length so far.
    struct Session: LanguageModelSession {
        let model: RecurrentLanguageModel
        var state: RecurrentState?

        init(model: RecurrentLanguageModel) { self.model = model }

        mutating func feed(_ tokens: [Int]) -> [Float] {
            precondition(!tokens.isEmpty, "LanguageModelSession.feed: no tokens")
            let (logits, final) = noGrad { model.logits(tokens: tokens, batchSize: 1, state: state) }
            state = final.detached()
            let v = model.vocabularySize
            return Array(logits.scalars[((tokens.count - 1) * v)...])
        }
    }
}
