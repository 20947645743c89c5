import Foundation

/// The fine-tuning recipe behind `synapse finetune`: the notes' last step of an LLM's making — "adding specificity
/// with a relatively small amount of data" — done with LoRA on a frozen pre-trained model (QLoRA when the base stays
/// in its 4-bit blocks).
///
/// Conversations are rendered with the model's chat template and tokenised; the model learns only the assistant's
/// tokens (the prompt is read, not learned). Each step takes `batchSize` conversations padded to the longest of
/// them, `accumulation` times, and averages the loss over every learned token of those batches; then AdamW with a
/// linear warm-up and a cosine decay, after clipping the gradients' global norm. A held-out split gives a loss before
/// training, every `evaluationInterval` steps and at the end, and — greedy answers to its prompts — the share
/// answered exactly as the data says, before and after.
///
/// ```swift
/// let tuning = try FineTuning(gguf: gguf, options: .init(lora: LoRAConfiguration(rank: 8, alpha: 16)))
/// let result = try tuning.run(train: try ChatData.read(url))
/// try result.writeReport(to: URL(fileURLWithPath: "runs/lora"))
/// ```
public final class FineTuning {
    public struct Options: Sendable {
        public var lora = LoRAConfiguration()
        public var base: TrainableLlama.Base = .blocks
        public var epochs = 3
        /// Optimizer steps; nil: `epochs` passes over the training conversations.
        public var steps: Int?
        /// Conversations per batch.
        public var batchSize = 4
        /// Batches whose gradients add up before each step.
        public var accumulation = 1
        public var learningRate: Float = 2e-4
        public var minimumLearningRate: Float = 0
        /// Warm-up steps; nil: 5% of the steps.
        public var warmup: Int?
        public var weightDecay: Float = 0
        /// Global gradient-norm limit; 0 turns clipping off.
        public var clip: Float = 1
        /// Share of the conversations held out when no held-out data is given.
        public var heldOutFraction = 0.1
        /// Steps between held-out losses; 0: once per epoch.
        public var evaluationInterval = 0
        /// Conversations longer than this many tokens are refused (the model's context at most).
        public var maximumTokens = 2048
        /// Generate answers to the held-out prompts before and after training and count exact matches.
        public var checkAnswers = true
        public var seed: UInt64 = 0
        /// Keep a checkpoint every `checkpointInterval` steps (and on SIGINT/SIGTERM), and resume from it.
        public var checkpoint: Checkpointing?
        public var checkpointInterval = 50

        public init(lora: LoRAConfiguration = LoRAConfiguration()) { self.lora = lora }
    }

    /// What the run reports as it goes.
    public enum Event: Sendable {
        /// Before the first step: one line on the data, the model and the recipe; the step count.
        case started(summary: String, steps: Int)
        case step(step: Int, loss: Float, learningRate: Float, tokensPerSecond: Double)
        case evaluation(step: Int, heldOutLoss: Float)
        /// Greedy answers to the held-out prompts: how many equal the data's answer.
        case answers(step: Int, correct: Int, total: Int)
    }

    public let options: Options
    public let model: TrainableLlama
    public let tokenizer: BPETokenizer
    public let template: ChatTemplate
    let gguf: GGUFFile

    /// A fresh adapter (drawn from `options.seed`) on the model of `gguf`.
    public convenience init(gguf: GGUFFile, options: Options, tokenizer: BPETokenizer? = nil, template: ChatTemplate? = nil) throws {
        let configuration = try LlamaConfiguration(gguf: gguf)
        var rng = RandomGenerator(seed: options.seed)
        let lora = LlamaLoRA(options.lora, model: configuration, generator: &rng)
        try self.init(gguf: gguf, lora: lora, options: options, tokenizer: tokenizer, template: template)
    }

    /// Continues training `lora` (e.g. one read with `LoRAAdapterFile.load`), with the tokenizer and chat template of
    /// the file unless others are given.
    public init(gguf: GGUFFile, lora: LlamaLoRA, options: Options, tokenizer: BPETokenizer? = nil, template: ChatTemplate? = nil) throws {
        if let template {
            self.template = template
        } else {
            guard gguf.metadata["tokenizer.chat_template"] != nil else {
                throw ChatDataError(path: gguf.path, reason: "the model has no chat template (tokenizer.chat_template) to render conversations with")
            }
            self.template = try ChatTemplate(source: try gguf.string("tokenizer.chat_template"))
        }
        self.tokenizer = try tokenizer ?? BPETokenizer(gguf: gguf)
        model = try TrainableLlama(gguf: gguf, base: options.base, lora: lora)
        guard self.tokenizer.vocabularySize == model.configuration.vocabularySize else {
            throw ChatDataError(path: gguf.path, reason: "the tokenizer has \(self.tokenizer.vocabularySize) tokens, the model \(model.configuration.vocabularySize)")
        }
        (self.gguf, self.options) = (gguf, options)
    }

    /// Trains on `train`, holding out `heldOut` (or a seeded share of `train` when nil) for the loss and answers.
    public func run(train: [ChatExample], heldOut: [ChatExample]? = nil, source: String = "chat data",
                    onEvent: (Event) -> Void = { _ in }) throws -> FineTuningResult {
        let data = try prepare(train: train, heldOut: heldOut, source: source)
        var loop = FineTuningLoop(tuning: self, data: data)
        return try loop.run(onEvent: onEvent)
    }

    /// The tokenised conversations, split.
    struct PreparedData {
        var train: [ChatSequence]
        var heldOut: [ChatSequence]
        var heldOutExamples: [ChatExample]
        var source: String
    }

    func prepare(train: [ChatExample], heldOut: [ChatExample]?, source: String) throws -> PreparedData {
        let limit = Swift.min(options.maximumTokens, model.configuration.contextLength)
        func tokenise(_ examples: [ChatExample]) throws -> [ChatSequence] {
            try examples.map { try ChatData.tokenize($0, tokenizer: tokenizer, template: template, maximumTokens: limit, source: source) }
        }
        var trainExamples = train, heldOutExamples = heldOut ?? []
        if heldOut == nil, options.heldOutFraction > 0, train.count >= 2 {
            var rng = RandomGenerator(seed: options.seed &+ 0x5EED)
            var order = Array(0..<train.count)
            DataLoader.shuffle(&order, using: &rng)
            let count = Swift.min(train.count - 1, Swift.max(1, Int((options.heldOutFraction * Double(train.count)).rounded())))
            heldOutExamples = order.prefix(count).sorted().map { train[$0] }
            trainExamples = order.dropFirst(count).sorted().map { train[$0] }
        }
        guard !trainExamples.isEmpty else { throw ChatDataError(path: source, reason: "no conversations are left to train on") }
        return PreparedData(train: try tokenise(trainExamples), heldOut: try tokenise(heldOutExamples),
                            heldOutExamples: heldOutExamples, source: source)
    }

    /// Steps of a run over `trainCount` conversations.
    func totalSteps(trainCount: Int) -> Int {
        options.steps ?? options.epochs * stepsPerEpoch(trainCount: trainCount)
    }

    func stepsPerEpoch(trainCount: Int) -> Int {
        let perStep = options.batchSize * options.accumulation
        return Swift.max(1, (trainCount + perStep - 1) / perStep)
    }

    // MARK: Batches

    /// Sequences padded to the longest: inputs, next-token targets (−1 where nothing is learned) and the count.
    static func batch(_ sequences: [ChatSequence]) -> (tokens: [Int], targets: [Int], batch: Int, learned: Int) {
        let length = sequences.map(\.tokens.count).max() ?? 0
        var tokens = [Int](repeating: 0, count: sequences.count * length)
        var targets = [Int](repeating: -1, count: sequences.count * length)
        var learned = 0
        for (b, s) in sequences.enumerated() {
            for i in 0..<s.tokens.count {
                tokens[b * length + i] = s.tokens[i]
                if i + 1 < s.tokens.count, s.learned[i + 1] {
                    targets[b * length + i] = s.tokens[i + 1]
                    learned += 1
                }
            }
        }
        return (tokens, targets, sequences.count, learned)
    }

    /// The mean cross-entropy over every learned token of `sequences`, without gradients.
    func heldOutLoss(_ sequences: [ChatSequence]) -> Float? {
        guard !sequences.isEmpty else { return nil }
        model.train(false)
        defer { model.train(true) }
        var total = 0.0, count = 0
        noGrad {
            for start in stride(from: 0, to: sequences.count, by: options.batchSize) {
                let b = Self.batch(Array(sequences[start..<Swift.min(sequences.count, start + options.batchSize)]))
                guard b.learned > 0 else { continue }
                total += Double(model.loss(tokens: b.tokens, targets: b.targets, batch: b.batch).sum.item)
                count += b.learned
            }
        }
        return count > 0 ? Float(total / Double(count)) : nil
    }

    /// Greedy answers to each held-out conversation's last prompt with the adapter as it is now, on the native
    /// path; how many equal the conversation's last assistant message (spaces at the ends ignored).
    func answerCheck(_ examples: [ChatExample]) throws -> (correct: Int, total: Int) {
        let checkable = examples.filter { $0.messages.last?.role == "assistant" }
        guard options.checkAnswers, !checkable.isEmpty else { return (0, 0) }
        let native = try QuantizedLlama(gguf: gguf, adapter: model.lora)
        var stops = Set<Int>()
        if let id = tokenizer.id(of: template.endOfTurn) { stops.insert(id) }
        if let eos = tokenizer.endOfText { stops.insert(eos) }
        var correct = 0
        for example in checkable {
            let reference = example.messages.last!.content
            let prompt = tokenizer.encode(template.render(Array(example.messages.dropLast()), addGenerationPrompt: true))
            var session = LlamaSession(model: native, capacity: Swift.min(native.configuration.contextLength, prompt.count + 512))
            var sampler = TokenSampler(temperature: 0)
            let budget = Swift.min(session.remaining - prompt.count, tokenizer.encode(reference).count + 16)
            guard budget > 0 else { continue }
            let ids = session.generate(prompt: prompt, count: budget, sampler: &sampler, stop: stops).filter { !stops.contains($0) }
            let answer = tokenizer.decode(ids)
            if answer.trimmingCharacters(in: .whitespacesAndNewlines) == reference.trimmingCharacters(in: .whitespacesAndNewlines) {
                correct += 1
            }
        }
        return (correct, checkable.count)
    }
}
