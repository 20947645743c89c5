import Foundation
import Testing
@testable import Synapse

/// A run stopped — by SIGINT/SIGTERM after a step, or killed outright, leaving only the last periodic checkpoint —
/// and resumed with `--resume` ends with the same weights, bit for bit, as a run that was never stopped.
@Suite(.synapseRuntime, .serialized) struct CheckpointResumeTests {
    /// Simulates SIGTERM after global step `step`, through this task's probe (what the real handler's flag does).
    final class SignalAt: TrainingCallback {
        let step: Int, probe: InterruptProbe
        init(step: Int, probe: InterruptProbe) { (self.step, self.probe) = (step, probe) }
        func batchDidEnd(_ context: TrainingContext, loss: Float) {
            if context.globalStep == step { probe.signal = 15 }
        }
    }

    /// Fails like a crash (no checkpoint written at that moment) after global step `step`.
    final class CrashAt: TrainingCallback {
        struct Crash: Error {}
        let step: Int
        init(step: Int) { self.step = step }
        func batchDidEnd(_ context: TrainingContext, loss: Float) {}
        func batchWillBegin(_ context: TrainingContext) {}
        func epochWillBegin(_ context: TrainingContext) {}
        func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction {
            if context.globalStep >= step { throw Crash() }
            return .continue
        }
    }

    static let data: (train: TrainingData, validation: TrainingData) = {
        var rng = RandomGenerator(seed: 9)
        let x = Tensor.randn([300, 6], generator: &rng)
        let labels = (0..<300).map { i in x.scalars[i * 6] + x.scalars[i * 6 + 1] > 0 ? 1 : 0 }
        return (TrainingData(inputs: x.slice(axis: 0, 0..<240), labels: Array(labels[0..<240])),
                TrainingData(inputs: x.slice(axis: 0, 240..<300), labels: Array(labels[240..<300])))
    }()

    /// A fresh model, optimizer and callbacks (a per-step cosine schedule and keep-best), seeded the same each time.
    static func trainer(extra: [TrainingCallback] = []) -> Trainer {
        var rng = RandomGenerator(seed: 4)
        let model = Sequential(Linear(6, 16, generator: &rng), ReLU(), Linear(16, 2, generator: &rng))
        let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-2)
        let callbacks: [TrainingCallback] = [LearningRateScheduleCallback(CosineAnnealingSchedule(totalSteps: 8 * 5), interval: .step),
                                             KeepBestCheckpoint(monitor: .validationAccuracy)] + extra
        return Trainer(model: model, optimizer: optimizer, loss: .crossEntropy, callbacks: callbacks)
    }

    static func fit(_ trainer: Trainer, _ directory: URL, resume: Bool) throws -> TrainingHistory {
        try trainer.fit(data.train, validation: data.validation, epochs: 5, batchSize: 32, seed: 3,
                        checkpoint: Checkpointing(directory: directory, resume: resume))
    }

    static func bits(_ model: Module) -> [String: [UInt32]] { model.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }

    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: [3, 8, 17, 39])
    func aSignalledRunResumesToTheSameWeights(step: Int) throws {
        let (whole, stopped) = (try Self.directory(), try Self.directory())
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: stopped) }
        let reference = Self.trainer()
        let referenceHistory = try Self.fit(reference, whole, resume: false)

        let probe = InterruptProbe()
        let first = Self.trainer(extra: [SignalAt(step: step, probe: probe)])
        #expect {
            try InterruptProbe.$current.withValue(probe) { try Self.fit(first, stopped, resume: false) }
        } throws: { error in
            guard case .interrupted(15, _, let path?)? = error as? TrainingError else { return false }
            return path.hasSuffix(Checkpointing.fileName)
        }
        let second = Self.trainer()
        let history = try Self.fit(second, stopped, resume: true)
        #expect(Self.bits(second.model) == Self.bits(reference.model), "resumed after step \(step)")
        #expect(history.records.map(\.trainLoss) == referenceHistory.records.map(\.trainLoss))
        #expect(history.records.map(\.validationAccuracy) == referenceHistory.records.map(\.validationAccuracy))
    }

    @Test func aKilledRunResumesFromItsLastEpochCheckpoint() throws {
        let (whole, killed) = (try Self.directory(), try Self.directory())
        defer { try? FileManager.default.removeItem(at: whole); try? FileManager.default.removeItem(at: killed) }
        let reference = Self.trainer()
        try Self.fit(reference, whole, resume: false)
        // Dies at the end of epoch 3 before its checkpoint: epoch 2's is what is left.
        #expect(throws: CrashAt.Crash.self) { try Self.fit(Self.trainer(extra: [CrashAt(step: 24)]), killed, resume: false) }
        let resumed = Self.trainer()
        try Self.fit(resumed, killed, resume: true)
        #expect(Self.bits(resumed.model) == Self.bits(reference.model))
    }

    @Test func aCheckpointOfAnotherRunIsRefused() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.fit(Self.trainer(), directory, resume: false)
        #expect {
            try Self.trainer().fit(Self.data.train, validation: Self.data.validation, epochs: 5, batchSize: 16, seed: 3,
                                   checkpoint: Checkpointing(directory: directory, resume: true))
        } throws: { error in
            guard case .badCheckpoint(_, let reason)? = error as? TrainingError else { return false }
            return reason.contains("batch size 32")
        }
    }
}

/// Counts near Int.max do not overflow: the batch count and the schedule length saturate instead of trapping.
@Suite(.synapseRuntime) struct HugeCountTests {
    @Test func batchCountsDoNotOverflow() {
        var rng = RandomGenerator(seed: 1)
        let trainer = Trainer(model: Linear(2, 2, generator: &rng), optimizer: SGD(parameters: [], learningRate: 0.1),
                              loss: .crossEntropy)
        #expect(trainer.batchCount(examples: 10, batchSize: Int.max) == 1)
        #expect(trainer.batchCount(examples: Int.max, batchSize: Int.max) == 1)
        #expect(trainer.batchCount(examples: 0, batchSize: 5) == 0)
        #expect(trainer.batchCount(examples: 11, batchSize: 5) == 3)
    }
}
