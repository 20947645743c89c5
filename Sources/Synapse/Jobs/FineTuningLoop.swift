import Foundation

/// One row of a fine-tuning run's history.
public struct FineTuningRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    /// Mean cross-entropy over the step's learned tokens.
    public var loss: Float
    public var learningRate: Float
    /// The held-out loss, where it was measured after this step.
    public var heldOutLoss: Float?
}

/// What a fine-tuning run produced.
public struct FineTuningResult {
    public var lora: LlamaLoRA
    public var model: LlamaConfiguration
    public var history: [FineTuningRecord]
    public var steps: Int
    public var trainSeconds: Double
    /// Tokens (prompt and answer, no padding) through the model per second of training steps.
    public var tokensPerSecond: Double
    public var heldOutLossBefore: Float?
    public var heldOutLossAfter: Float?
    public var answersBefore: (correct: Int, total: Int)
    public var answersAfter: (correct: Int, total: Int)

    /// The files of a run's report, relative to its directory.
    public enum ReportFile {
        public static let history = "history.csv"
        public static let curves = "curves.svg"
    }

    /// Writes the adapter in PEFT's layout (`adapter_model.safetensors`, `adapter_config.json`), the history (CSV)
    /// and the loss curves (SVG), each atomically. Returns the paths written.
    @discardableResult
    public func writeReport(to directory: URL, baseModel: String? = nil) throws -> [URL] {
        try LoRAAdapterFile.save(lora, model: model, to: directory, baseModel: baseModel)
        let url = { (name: String) in directory.appendingPathComponent(name) }
        let rows = history.map { r in "\(r.step),\(r.epoch),\(r.loss),\(r.learningRate),\(r.heldOutLoss.map { String($0) } ?? "")" }
        try AtomicFile.write(text: "step,epoch,train_loss,learning_rate,held_out_loss\n" + rows.map { $0 + "\n" }.joined(),
                             to: url(ReportFile.history))
        let evaluated = history.filter { $0.heldOutLoss != nil }
        var heldOut = evaluated.map { (Double($0.step), Double($0.heldOutLoss!)) }
        if let before = heldOutLossBefore { heldOut.insert((0, Double(before)), at: 0) }
        var series: [LineChart.Series] = [.init(name: "train (per step)", x: history.map { Double($0.step) }, y: history.map(\.loss))]
        if !heldOut.isEmpty { series.append(.init(name: "held out", x: heldOut.map(\.0), y: heldOut.map(\.1), dashed: true)) }
        let chart = LineChart(title: "fine-tuning: loss on the assistant's tokens", panels: [
            .init(title: "cross-entropy per learned token", xLabel: "step", yLabel: "loss", series: series),
            .init(title: "learning rate", xLabel: "step", yLabel: "rate",
                  series: [.init(name: "AdamW", x: history.map { Double($0.step) }, y: history.map(\.learningRate))]),
        ])
        try chart.write(to: url(ReportFile.curves).path)
        return [LoRAAdapterFile.weightsName, LoRAAdapterFile.configurationName, ReportFile.history, ReportFile.curves].map(url)
    }
}

/// A fine-tuning run step by step: its optimizer, schedule, position and history (`FineTuning.run`).
struct FineTuningLoop {
    let tuning: FineTuning
    let data: FineTuning.PreparedData
    let optimizer: AdamW
    let schedule: WarmupCosineSchedule
    let total: Int
    let perEpoch: Int
    var state = State()

    /// Everything a checkpoint restores.
    struct State {
        var step = 0
        var history: [FineTuningRecord] = []
        var trainSeconds = 0.0
        var tokens = 0
        var heldOutLossBefore: Float?
        var answersBefore = (correct: 0, total: 0)
    }

    init(tuning: FineTuning, data: FineTuning.PreparedData) {
        let o = tuning.options
        (self.tuning, self.data) = (tuning, data)
        total = tuning.totalSteps(trainCount: data.train.count)
        perEpoch = tuning.stepsPerEpoch(trainCount: data.train.count)
        optimizer = AdamW(parameters: tuning.model.lora.parameters(), learningRate: o.learningRate, weightDecay: o.weightDecay)
        schedule = WarmupCosineSchedule(warmupSteps: o.warmup ?? total / 20, totalSteps: total,
                                        minimumLearningRate: Swift.min(o.minimumLearningRate, o.learningRate))
    }

    mutating func run(onEvent: (FineTuning.Event) -> Void) throws -> FineTuningResult {
        let o = tuning.options
        if let checkpoint = o.checkpoint, checkpoint.resume, FileManager.default.fileExists(atPath: checkpoint.url.path) {
            try restore(from: checkpoint.url)
        } else {
            state.heldOutLossBefore = tuning.heldOutLoss(data.heldOut)
            state.answersBefore = try tuning.answerCheck(data.heldOutExamples)
        }
        onEvent(.started(summary: summary, steps: total))
        if let loss = state.heldOutLossBefore, state.step == 0 { onEvent(.evaluation(step: 0, heldOutLoss: loss)) }
        if state.answersBefore.total > 0, state.step == 0 {
            onEvent(.answers(step: 0, correct: state.answersBefore.correct, total: state.answersBefore.total))
        }
        let evaluationEvery = o.evaluationInterval > 0 ? o.evaluationInterval : perEpoch
        while state.step < total {
            let begin = Stopwatch.now()
            let (loss, tokens) = try step(state.step)
            state.trainSeconds += Stopwatch.now() - begin
            state.tokens += tokens
            state.step += 1
            let record = FineTuningRecord(step: state.step, epoch: (state.step - 1) / perEpoch + 1, loss: loss,
                                          learningRate: optimizer.learningRate, heldOutLoss: nil)
            state.history.append(record)
            onEvent(.step(step: state.step, loss: loss, learningRate: record.learningRate,
                          tokensPerSecond: Double(state.tokens) / Swift.max(state.trainSeconds, 1e-9)))
            if state.step % evaluationEvery == 0 || state.step == total, let held = tuning.heldOutLoss(data.heldOut) {
                state.history[state.history.count - 1].heldOutLoss = held
                onEvent(.evaluation(step: state.step, heldOutLoss: held))
            }
            try Checkpointing.endOfStep(o.checkpoint, step: state.step, every: o.checkpointInterval * (o.checkpoint?.everyEpochs ?? 1),
                                        position: "step \(state.step) of \(total)") { url in try save(to: url) }
        }
        let after = try tuning.answerCheck(data.heldOutExamples)
        if after.total > 0 { onEvent(.answers(step: total, correct: after.correct, total: after.total)) }
        return FineTuningResult(lora: tuning.model.lora, model: tuning.model.configuration, history: state.history, steps: total,
                                trainSeconds: state.trainSeconds,
                                tokensPerSecond: Double(state.tokens) / Swift.max(state.trainSeconds, 1e-9),
                                heldOutLossBefore: state.heldOutLossBefore,
                                heldOutLossAfter: state.history.last(where: { $0.heldOutLoss != nil })?.heldOutLoss,
                                answersBefore: state.answersBefore, answersAfter: after)
    }

    var summary: String {
        let o = tuning.options, c = tuning.model.configuration
        let trainable = tuning.model.lora.parameterCount
        let targets = o.lora.targets.sorted().map(\.rawValue).joined(separator: ",")
        return "\(data.train.count) conversations to train on (\(data.train.reduce(0) { $0 + $1.learnedCount }) answer tokens), "
            + "\(data.heldOut.count) held out; LoRA r \(o.lora.rank), α \(o.lora.alpha) on \(targets) of \(c.layers) layers: "
            + "\(trainable) trainable parameters beside \(c.parameterCount) frozen (\(o.base.rawValue)); \(total) steps of "
            + "\(o.batchSize) × \(o.accumulation) conversations, adamw lr \(o.learningRate) (warm-up \(schedule.warmupSteps), cosine), clip \(o.clip)"
    }

    /// One optimizer step: the step's conversations in batches, gradients averaged over all their learned tokens.
    /// Returns the mean loss and the tokens read.
    mutating func step(_ k: Int) throws -> (loss: Float, tokens: Int) {
        let o = tuning.options
        let epoch = k / perEpoch, index = k % perEpoch
        var order = Array(0..<data.train.count)
        var rng = RandomGenerator(seed: o.seed &+ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03)
        DataLoader.shuffle(&order, using: &rng)
        let perStep = o.batchSize * o.accumulation
        let chosen = order[(index * perStep)..<Swift.min(order.count, (index + 1) * perStep)].map { data.train[$0] }
        let batches = stride(from: 0, to: chosen.count, by: o.batchSize).map {
            FineTuning.batch(Array(chosen[$0..<Swift.min(chosen.count, $0 + o.batchSize)]))
        }
        let learned = batches.reduce(0) { $0 + $1.learned }
        optimizer.learningRate = schedule.learningRate(at: k, baseLearningRate: o.learningRate)
        optimizer.zeroGrad()
        var sum = 0.0
        for b in batches where b.learned > 0 {
            sum += tuning.model.accumulateGradients(tokens: b.tokens, targets: b.targets, batch: b.batch, scale: 1 / Float(learned)).sum
        }
        let mean = learned > 0 ? Float(sum / Double(learned)) : 0
        guard mean.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch + 1, batch: index + 1, step: k + 1, loss: mean) }
        if o.clip > 0 {
            let norm = GradientClipping.clipByGlobalNorm(optimizer.parameters, maxNorm: o.clip)
            guard norm.isFinite else { throw TrainingError.nonFiniteGradient(epoch: epoch + 1, batch: index + 1, step: k + 1, norm: norm) }
        }
        if learned > 0 { optimizer.step() }
        return (mean, chosen.reduce(0) { $0 + $1.tokens.count })
    }

    // MARK: Checkpoints

    private var fingerprint: String {
        let o = tuning.options
        return [String(o.seed), String(o.batchSize), String(o.accumulation), String(total), String(data.train.count),
                String(data.train.reduce(0) { $0 + $1.tokens.count }), String(o.lora.rank), o.base.rawValue].joined(separator: ",")
    }

    private func save(to url: URL) throws {
        var (tensors, metadata) = TrainingCheckpoint.modelState(tuning.model.lora, optimizer)
        let p = TrainingCheckpoint.prefix
        metadata[p + "fingerprint"] = fingerprint
        metadata[p + "step"] = String(state.step)
        metadata[p + "train_seconds"] = String(state.trainSeconds)
        metadata[p + "tokens"] = String(state.tokens)
        metadata[p + "history"] = String(decoding: try JSONEncoder().encode(state.history), as: UTF8.self)
        metadata[p + "held_out_before"] = state.heldOutLossBefore.map { String($0.bitPattern) } ?? ""
        metadata[p + "answers_before"] = "\(state.answersBefore.correct)/\(state.answersBefore.total)"
        try SafeTensorsFile(floatTensors: tensors, metadata: metadata).write(to: url)
    }

    private mutating func restore(from url: URL) throws {
        let name = url.lastPathComponent, p = TrainingCheckpoint.prefix
        let file = try SafeTensorsFile(contentsOf: url)
        let m = file.metadata
        guard m[p + "fingerprint"] == fingerprint else {
            throw TrainingError.badCheckpoint(path: name, reason: "it was written for other data or settings (seed, batch, steps, rank); resume with the same ones, or start afresh without --resume")
        }
        guard let step = m[p + "step"].flatMap(Int.init), (0...total).contains(step),
              let history = try? JSONDecoder().decode([FineTuningRecord].self, from: Data((m[p + "history"] ?? "").utf8)),
              history.count == step else {
            throw TrainingError.badCheckpoint(path: name, reason: "its step or history is missing or damaged")
        }
        try TrainingCheckpoint.restoreModelState(tuning.model.lora, optimizer, from: file, tensors: file.floatTensors(), name: name)
        state.step = step
        state.history = history
        state.trainSeconds = m[p + "train_seconds"].flatMap(Double.init) ?? 0
        state.tokens = m[p + "tokens"].flatMap(Int.init) ?? 0
        state.heldOutLossBefore = m[p + "held_out_before"].flatMap(UInt32.init).map(Float.init(bitPattern:))
        let answers = (m[p + "answers_before"] ?? "0/0").split(separator: "/").compactMap { Int($0) }
        state.answersBefore = answers.count == 2 ? (answers[0], answers[1]) : (0, 0)
    }
}
