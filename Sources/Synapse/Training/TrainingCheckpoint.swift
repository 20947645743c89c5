import Foundation

/// How a `Trainer` run keeps a checkpoint: where, how often, and whether to continue from the one already there.
///
/// The checkpoint (`checkpoint.safetensors` in `directory`) holds everything the run needs to continue exactly:
/// the model, the optimizer's moments and step counts, the epoch, the batches of it already done and their partial
/// sums, the global step (which the learning-rate schedules read), the history so far and the state of the callbacks
/// that keep any (`ResumableCallback`). The batch order is a function of (seed, epoch), so it needs no saving.
/// A run stopped and resumed ends with the same weights, bit for bit, as one that was never stopped.
///
/// ```swift
/// let history = try trainer.fit(data, epochs: 20, batchSize: 128,
///                               checkpoint: Checkpointing(directory: runs, resume: true))
/// ```
public struct Checkpointing: Sendable {
    public static let fileName = "checkpoint.safetensors"
    public var directory: URL
    /// Write one after every this many epochs (and always when interrupted).
    public var everyEpochs: Int
    /// Continue from the checkpoint in `directory` when there is one.
    public var resume: Bool

    public init(directory: URL, everyEpochs: Int = 1, resume: Bool = false) {
        precondition(everyEpochs >= 1, "Checkpointing: everyEpochs must be at least 1, got \(everyEpochs)")
        (self.directory, self.everyEpochs, self.resume) = (directory, everyEpochs, resume)
    }

    public var url: URL { directory.appendingPathComponent(Self.fileName) }

    /// The end of a step in a loop that checkpoints (text, GCN, PPO, REINFORCE): `save` writes to the checkpoint every
    /// `every` steps and whenever a signal asked to stop; then, if one did, `TrainingError.interrupted` names
    /// `position`. The signal is read once, so a stop is never thrown without its save; distributed loops pass the
    /// one the ranks agreed on.
    static func endOfStep(_ checkpoint: Checkpointing?, step: Int, every: Int, position: @autoclosure () -> String,
                          interrupted signal: Int32? = Runtime.interruptSignal, save: (URL) throws -> Void) throws {
        if let checkpoint, signal != nil || step % every == 0 { try save(checkpoint.url) }
        if let signal { throw TrainingError.interrupted(signal: signal, after: position(), checkpoint: checkpoint?.url.path) }
    }
}

/// A module that draws random numbers while it trains (dropout, Gaussian noise): its generator's state goes into
/// the checkpoint, so a resumed run draws the numbers the uninterrupted one would have.
protocol RandomStateModule: Module {
    var generator: RandomGenerator { get set }
}

/// A callback with state that must survive a stop and resume (the best epoch so far, a patience counter).
public protocol ResumableCallback: TrainingCallback {
    /// The state as tensors and strings, restored by `restore` after `trainingWillBegin`.
    func checkpointState() -> (tensors: [String: Tensor], values: [String: String])
    func restore(tensors: [String: Tensor], values: [String: String]) throws
}

/// Where a run stands, as written into and read from a checkpoint.
struct TrainingPosition {
    /// The epoch in progress, counted from 1.
    var epoch: Int
    /// Batches of `epoch` already trained (0 at an epoch boundary).
    var batchesDone: Int
    var globalStep: Int
    var lossSum: Double
    var correct: Int
    var examplesSeen: Int
    var history: TrainingHistory
}

enum TrainingCheckpoint {
    static let prefix = "synapse.checkpoint."

    /// What must match between the run that wrote a checkpoint and the one resuming it.
    struct Fingerprint: Equatable {
        var seed: UInt64, batchSize: Int, examples: Int, shuffle: Bool
    }

    /// The tensors of `all` whose names start with `prefix`, with the prefix taken off.
    static func tensors(withPrefix prefix: String, in all: [String: Tensor]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: all.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
    }

    /// A generator's state as metadata text, and back (nil unless it is four words).
    static func encode(_ generator: RandomGenerator) -> String { generator.state.map(String.init).joined(separator: ",") }
    static func decodeGeneratorState(_ text: String?) -> [UInt64]? {
        decodeWords(text).flatMap { $0.count == 4 ? $0 : nil }
    }

    /// Comma-separated decimal words, as the checkpoints write bit patterns; nil unless every one parses.
    static func decodeWords(_ text: String?) -> [UInt64]? {
        guard let text else { return nil }
        if text.isEmpty { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let words = parts.compactMap { UInt64($0) }
        return words.count == parts.count ? words : nil
    }

    /// The parts every checkpoint has: the model, the optimizer and the generators of the model's random layers.
    static func modelState(_ model: Module, _ optimizer: Optimizer) -> (tensors: [String: Tensor], metadata: [String: String]) {
        var tensors: [String: Tensor] = [:]
        for (key, value) in model.stateDict() { tensors["model." + key] = value }
        for (key, value) in optimizer.stateDict() { tensors["optimizer." + key] = value }
        var metadata: [String: String] = [:]
        for (path, module) in model.namedModules() {
            if let random = module as? RandomStateModule {
                metadata[prefix + "rng." + path] = encode(random.generator)
            }
        }
        return (tensors, metadata)
    }

    /// Restores what `modelState` saved.
    static func restoreModelState(_ model: Module, _ optimizer: Optimizer, from file: SafeTensorsFile,
                                  tensors all: [String: Tensor], name: String) throws {
        do {
            try model.load(stateDict: tensors(withPrefix: "model.", in: all), strict: true)
        } catch var error {
            error.file = name
            throw error
        }
        try optimizer.load(stateDict: tensors(withPrefix: "optimizer.", in: all))
        for (path, module) in model.namedModules() {
            guard let random = module as? RandomStateModule else { continue }
            guard let words = decodeGeneratorState(file.metadata[prefix + "rng." + path]) else {
                throw TrainingError.badCheckpoint(path: name, reason: "no generator state for '\(path)'")
            }
            random.generator.state = words
        }
    }

    static func write(_ position: TrainingPosition, fingerprint: Fingerprint, model: Module, optimizer: Optimizer,
                      callbacks: [TrainingCallback], to url: URL) throws {
        var (tensors, metadata) = modelState(model, optimizer)
        metadata.merge([
            prefix + "epoch": String(position.epoch), prefix + "batches_done": String(position.batchesDone),
            prefix + "global_step": String(position.globalStep), prefix + "loss_sum": String(position.lossSum),
            prefix + "correct": String(position.correct), prefix + "examples_seen": String(position.examplesSeen),
            prefix + "seed": String(fingerprint.seed), prefix + "batch_size": String(fingerprint.batchSize),
            prefix + "examples": String(fingerprint.examples), prefix + "shuffle": String(fingerprint.shuffle),
        ]) { $1 }
        let history = try JSONEncoder().encode(position.history)
        metadata[prefix + "history"] = String(decoding: history, as: UTF8.self)
        for (index, callback) in callbacks.enumerated() {
            guard let resumable = callback as? ResumableCallback else { continue }
            let state = resumable.checkpointState()
            for (key, value) in state.tensors { tensors["callback.\(index)." + key] = value }
            for (key, value) in state.values { metadata[prefix + "callback.\(index)." + key] = value }
        }
        try SafeTensorsFile(floatTensors: tensors, metadata: metadata).write(to: url)
    }

    /// Restores model, optimizer and callbacks from `url` and returns the position to continue from.
    static func read(from url: URL, fingerprint: Fingerprint, model: Module, optimizer: Optimizer,
                     callbacks: [TrainingCallback]) throws -> TrainingPosition {
        let name = url.lastPathComponent
        let file = try SafeTensorsFile(contentsOf: url)
        let m = file.metadata
        func value(_ key: String) throws(TrainingError) -> String {
            guard let text = m[prefix + key] else { throw .badCheckpoint(path: name, reason: "no '\(prefix + key)' in its metadata") }
            return text
        }
        func int(_ key: String) throws(TrainingError) -> Int {
            guard let v = Int(try value(key)), v >= 0 else { throw .badCheckpoint(path: name, reason: "'\(prefix + key)' is not a count") }
            return v
        }
        let saved = Fingerprint(seed: UInt64(try value("seed")) ?? 0, batchSize: try int("batch_size"),
                                examples: try int("examples"), shuffle: try value("shuffle") == "true")
        guard saved == fingerprint else {
            throw TrainingError.badCheckpoint(path: name, reason: "it was written by a run with seed \(saved.seed), batch size \(saved.batchSize) and \(saved.examples) examples; this run has seed \(fingerprint.seed), batch size \(fingerprint.batchSize) and \(fingerprint.examples) (resume with the same settings, or start afresh without --resume)")
        }
        guard let lossSum = Double(try value("loss_sum")), lossSum.isFinite else {
            throw TrainingError.badCheckpoint(path: name, reason: "'\(prefix)loss_sum' is not a number")
        }
        let history: TrainingHistory
        do { history = try JSONDecoder().decode(TrainingHistory.self, from: Data(try value("history").utf8)) } catch {
            throw TrainingError.badCheckpoint(path: name, reason: "its history does not parse")
        }
        let all = try file.floatTensors()
        try restoreModelState(model, optimizer, from: file, tensors: all, name: name)
        for (index, callback) in callbacks.enumerated() {
            guard let resumable = callback as? ResumableCallback else { continue }
            let valuePrefix = prefix + "callback.\(index)."
            let values = Dictionary(uniqueKeysWithValues: m.filter { $0.key.hasPrefix(valuePrefix) }
                .map { (String($0.key.dropFirst(valuePrefix.count)), $0.value) })
            try resumable.restore(tensors: tensors(withPrefix: "callback.\(index).", in: all), values: values)
        }
        return TrainingPosition(epoch: try int("epoch"), batchesDone: try int("batches_done"),
                                globalStep: try int("global_step"), lossSum: lossSum, correct: try int("correct"),
                                examplesSeen: try int("examples_seen"), history: history)
    }
}

extension KeepBestCheckpoint: ResumableCallback {
    public func checkpointState() -> (tensors: [String: Tensor], values: [String: String]) {
        guard let bestRecord, let bestStateDict else { return ([:], [:]) }
        let record = (try? JSONEncoder().encode(bestRecord)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return (bestStateDict, ["best_record": record])
    }

    public func restore(tensors: [String: Tensor], values: [String: String]) throws {
        guard let text = values["best_record"] else { return }
        do {
            let record = try JSONDecoder().decode(EpochRecord.self, from: Data(text.utf8))
            restoreBest(record: record, stateDict: tensors)
        } catch {
            throw TrainingError.badCheckpoint(path: Checkpointing.fileName, reason: "the best epoch's record does not parse")
        }
    }
}

extension EarlyStopping: ResumableCallback {
    public func checkpointState() -> (tensors: [String: Tensor], values: [String: String]) {
        var values = ["epochs_without_improvement": String(epochsWithoutImprovement)]
        if let best { values["best"] = String(best) }
        return ([:], values)
    }

    public func restore(tensors: [String: Tensor], values: [String: String]) throws {
        restoreProgress(best: values["best"].flatMap(Float.init),
                        epochsWithoutImprovement: values["epochs_without_improvement"].flatMap(Int.init) ?? 0)
    }
}
