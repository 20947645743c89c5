import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct TrainerTests {
    /// Two Gaussian blobs in 2-D, class 0 around (−1, −1) and class 1 around (1, 1).
    static func blobs(_ count: Int, seed: UInt64) -> TrainingData {
        var rng = RandomGenerator(seed: seed)
        var inputs: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let label = i % 2
            let center: Float = label == 0 ? -1 : 1
            inputs += [center + 0.5 * rng.nextNormal(), center + 0.5 * rng.nextNormal()]
            labels.append(label)
        }
        return TrainingData(inputs: Tensor(shape: [count, 2], scalars: inputs), labels: labels)
    }

    static func mlp(seed: UInt64 = 1) -> Sequential {
        var rng = RandomGenerator(seed: seed)
        return Sequential(Linear(2, 8, generator: &rng), ReLU(), Linear(8, 2, generator: &rng))
    }

    final class StepCounter: TrainingCallback {
        var steps = 0
        var learningRates: [Float] = []
        func batchDidEnd(_ context: TrainingContext, loss: Float) {
            steps += 1
            learningRates.append(context.optimizer.learningRate)
        }
    }

    @Test func learnsASeparableProblemAndRecordsEveryEpoch() throws {
        let model = Self.mlp()
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 0.05),
                              loss: .crossEntropy)
        let history = try trainer.fit(Self.blobs(200, seed: 1), validation: Self.blobs(100, seed: 2), epochs: 8, batchSize: 16)
        #expect(history.records.map(\.epoch) == Array(1...8))
        let last = history.records.last!
        #expect(last.validationAccuracy! > 0.95)
        #expect(last.trainLoss < history.records.first!.trainLoss)
        #expect(history.records.allSatisfy { $0.seconds > 0 && $0.learningRate == 0.05 && $0.trainAccuracy != nil })
        #expect(history.stopReason == nil)
        #expect(model.isTraining)
    }

    /// batchSize = N is batch gradient descent: one step per epoch on the full-data gradient. With MSE = 2·J, SGD at
    /// α/2 must follow LinearRegression's hand-written gradient descent at α exactly (up to Float rounding).
    @Test func fullBatchTrainingIsBatchGradientDescent() throws {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randn([40, 3], generator: &rng)
        let y = noGrad { x.matmul(Tensor(shape: [3, 1], scalars: [1, -2, 0.5])) + 0.3 }
        let layer = Linear(weight: Tensor.zeros([1, 3]), bias: Tensor.zeros([1]))
        let counter = StepCounter()
        let trainer = Trainer(model: layer, optimizer: SGD(parameters: layer.parameters(), learningRate: 0.05),
                              loss: .meanSquaredError, callbacks: [counter])
        try trainer.fit(TrainingData(inputs: x, targets: y), epochs: 25, batchSize: 40)
        #expect(counter.steps == 25)

        var reference = LinearRegression(featureCount: 3)
        for _ in 0..<25 { reference.step(features: x, targets: y.reshaped([40]), learningRate: 0.1) }
        expectClose(layer.weight.reshaped([3]), reference.weights, rtol: 1e-4, atol: 1e-5, "w")
        #expect(abs(layer.bias!.item - reference.bias) < 1e-5)
    }

    @Test(arguments: [(1, 30), (7, 5), (30, 1), (100, 1)])
    func batchSizeSetsTheNumberOfSteps(batchSize: Int, stepsPerEpoch: Int) throws {
        let model = Self.mlp()
        let counter = StepCounter()
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.01),
                              loss: .crossEntropy, callbacks: [counter])
        try trainer.fit(Self.blobs(30, seed: 4), epochs: 2, batchSize: batchSize)
        #expect(counter.steps == 2 * stepsPerEpoch)
    }

    @Test func sameSeedSameRunDifferentSeedDifferentRun() throws {
        func run(seed: UInt64) throws -> (TrainingHistory, [Float]) {
            let model = Self.mlp()
            let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9),
                                  loss: .crossEntropy)
            let history = try trainer.fit(Self.blobs(64, seed: 5), epochs: 3, batchSize: 8, seed: seed)
            return (history, model.parameters().flatMap(\.scalars))
        }
        let (a, wa) = try run(seed: 10), (b, wb) = try run(seed: 10), (_, wc) = try run(seed: 11)
        #expect(a.records.map(\.trainLoss) == b.records.map(\.trainLoss))
        #expect(wa == wb)
        #expect(wa != wc)
        // The trainer batches in its DataLoader's order for (seed, epoch).
        final class Seen: @unchecked Sendable { var indices: [Int] = [] }  // used from this test's thread only
        let seen = Seen()
        let model = Self.mlp()
        let recording = TrainingLoss(name: "recording", needs: .labels) { output, batch in
            seen.indices += batch.indices
            return crossEntropyLoss(logits: output, targets: batch.labels)
        }
        let data = Self.blobs(10, seed: 5)
        try Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1), loss: recording)
            .fit(data, epochs: 2, batchSize: 3, seed: 1)
        let loader = DataLoader(inputs: data.inputs, batchSize: 3, shuffle: true, seed: 1)
        #expect(seen.indices == loader.order(epoch: 1) + loader.order(epoch: 2))
        #expect(loader.order(epoch: 1).sorted() == Array(0..<10) && loader.order(epoch: 1) != Array(0..<10))
    }

    @Test func nonFiniteLossStopsWithEpochAndBatch() throws {
        var data = Self.blobs(20, seed: 6).inputs
        data[13, 1] = .nan
        // No ReLU: the core's relu currently maps NaN to 0, which would hide the NaN from the loss.
        var rng = RandomGenerator(seed: 1)
        let model = Sequential(Linear(2, 2, generator: &rng))
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.01), loss: .crossEntropy)
        let labels = Self.blobs(20, seed: 6).labels!
        let error = #expect(throws: TrainingError.self) {
            try trainer.fit(TrainingData(inputs: data, labels: labels), epochs: 2, batchSize: 4, shuffle: false)
        }
        guard case .nonFiniteLoss(epoch: 1, batch: 4, step: 3, let loss)? = error else {
            Issue.record("expected a non-finite loss at epoch 1, batch 4, got \(String(describing: error))")
            return
        }
        #expect(loss.isNaN)
        // The step with the NaN was not applied.
        #expect(model.parameters().allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    @Test func nonFiniteGradientNormStopsWhenClipping() throws {
        var data = Self.blobs(8, seed: 6).inputs
        data[5, 0] = .infinity
        let model = Self.mlp()
        let before = model.parameters().flatMap(\.scalars)
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.01),
                              loss: .crossEntropy, gradientClipNorm: 1)
        do {
            try trainer.fit(TrainingData(inputs: data, labels: Self.blobs(8, seed: 6).labels!), epochs: 1, batchSize: 8)
            Issue.record("expected an error")
        } catch let error as TrainingError {
            switch error {
            case .nonFiniteLoss(1, 1, 0, _), .nonFiniteGradient(1, 1, 0, _): break
            default: Issue.record("unexpected \(error)")
            }
        }
        #expect(model.parameters().flatMap(\.scalars) == before)
    }

    @Test func earlyStoppingEndsAfterPatienceEpochsWithoutImprovement() throws {
        let model = Self.mlp()
        let stopper = EarlyStopping(monitor: .trainLoss, patience: 2)
        // A zero learning rate: the loss never improves after the first epoch.
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0),
                              loss: .crossEntropy, callbacks: [stopper])
        let history = try trainer.fit(Self.blobs(32, seed: 7), epochs: 10, batchSize: 32, shuffle: false)
        #expect(history.records.count == 3)
        #expect(stopper.stoppedEpoch == 3)
        #expect(history.stopReason?.contains("train_loss did not improve for 2 epochs") == true)
    }

    /// Validation labels are the opposite of the training labels, so validation loss is best before training has
    /// gone far; the model must end with the best epoch's weights.
    @Test func keepBestCheckpointRestoresTheBestEpoch() throws {
        let train = Self.blobs(64, seed: 8)
        let flipped = Self.blobs(32, seed: 9)
        let validation = TrainingData(inputs: flipped.inputs, labels: flipped.labels!.map { 1 - $0 })
        let model = Self.mlp()
        var saves: [Int] = []
        let best = KeepBestCheckpoint(monitor: .validationLoss) { _, record in saves.append(record.epoch) }
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 0.05),
                              loss: .crossEntropy, callbacks: [best])
        let history = try trainer.fit(train, validation: validation, epochs: 6, batchSize: 16)
        let bestRecord = try #require(best.bestRecord)
        #expect(bestRecord == history.best(.validationLoss))
        #expect(bestRecord.epoch < 6)
        #expect(saves.last == bestRecord.epoch)
        let now = trainer.evaluate(validation)
        #expect(abs(now.loss - bestRecord.validationLoss!) < 1e-6)
    }

    @Test func scheduleCallbackSetsTheRatePerStepOrPerEpoch() throws {
        let data = Self.blobs(20, seed: 10)
        let model = Self.mlp()
        let counter = StepCounter()
        let schedule = WarmupCosineSchedule(warmupSteps: 3, totalSteps: 10, minimumLearningRate: 0.001)
        let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1)
        let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy,
                              callbacks: [LearningRateScheduleCallback(schedule, interval: .step), counter])
        let history = try trainer.fit(data, epochs: 2, batchSize: 4)
        #expect(counter.learningRates == (0..<10).map { schedule.learningRate(at: $0, baseLearningRate: 0.1) })
        #expect(history.records.map(\.learningRate) == [counter.learningRates[4], counter.learningRates[9]])

        let perEpoch = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1), loss: .crossEntropy,
                               callbacks: [LearningRateScheduleCallback(StepDecaySchedule(stepSize: 2, gamma: 0.5))])
        let decayed = try perEpoch.fit(data, epochs: 5, batchSize: 10)
        #expect(decayed.records.map(\.learningRate) == [0.1, 0.1, 0.05, 0.05, 0.025])
    }

    @Test func configurationErrorsAreReportedBeforeTraining() {
        let model = Self.mlp()
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1), loss: .crossEntropy,
                              callbacks: [EarlyStopping(monitor: .validationLoss)])
        let data = Self.blobs(8, seed: 11)
        #expect(throws: TrainingError.metricNotMeasured(.validationLoss)) { try trainer.fit(data, epochs: 1, batchSize: 4) }
        trainer.callbacks = []
        #expect(throws: TrainingError.self) {
            try trainer.fit(TrainingData(inputs: data.inputs, targets: Tensor.zeros([8, 2])), epochs: 1, batchSize: 4)
        }
        #expect(throws: TrainingError.emptyData) {
            try trainer.fit(TrainingData(inputs: Tensor.zeros([0, 2]), labels: []), epochs: 1, batchSize: 4)
        }
        #expect(TrainingError.nonFiniteLoss(epoch: 2, batch: 5, step: 17, loss: .infinity).description
            .contains("epoch 2, batch 5 (step 17)"))
    }

    @Test func historyWritesCSVAndJSON() throws {
        let model = Self.mlp()
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1), loss: .crossEntropy)
        let history = try trainer.fit(Self.blobs(16, seed: 12), validation: Self.blobs(8, seed: 13), epochs: 2, batchSize: 8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        try history.writeCSV(to: directory.appendingPathComponent("history.csv"))
        let lines = try String(contentsOf: directory.appendingPathComponent("history.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(lines.first == TrainingHistory.csvHeader)
        #expect(lines.count == 3)
        let cells = lines[2].split(separator: ",", omittingEmptySubsequences: false)
        #expect(cells.count == 7 && cells[0] == "2" && Float(cells[3]) == history.records[1].validationLoss)

        try history.writeJSON(to: directory.appendingPathComponent("history.json"))
        let decoded = try JSONDecoder().decode(TrainingHistory.self, from: Data(contentsOf: directory.appendingPathComponent("history.json")))
        #expect(decoded == history)
        #expect(history.series.map(\.name) == ["train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"])

        #expect(throws: TrainingError.self) { try history.writeCSV(to: URL(fileURLWithPath: "/nonexistent-dir/h.csv")) }
    }

    @Test func progressBarCallbackWritesOneLinePerEpochInPlainMode() throws {
        final class Lines: @unchecked Sendable { var text: [String] = [] }  // used from this test's thread only
        let lines = Lines()
        var time = 0.0
        let model = Self.mlp()
        let progress = ProgressBarCallback(mode: .plain, clock: { time += 0.01; return time }, write: { lines.text.append($0) })
        let trainer = Trainer(model: model, optimizer: SGD(parameters: model.parameters(), learningRate: 0.1), loss: .crossEntropy,
                              callbacks: [progress])
        let history = try trainer.fit(Self.blobs(32, seed: 14), validation: Self.blobs(8, seed: 15), epochs: 2, batchSize: 8)
        #expect(lines.text.count == 2)
        #expect(lines.text[0].hasPrefix("epoch 1/2") && lines.text[1].hasPrefix("epoch 2/2"))
        #expect(lines.text[1].contains("32/32") && lines.text[1].contains("samples/s"))
        #expect(lines.text[1].contains("val_acc \(ProgressBar.formatNumber(Double(history.records[1].validationAccuracy!)))"))
        #expect(lines.text[1].contains("loss \(ProgressBar.formatNumber(Double(history.records[1].trainLoss)))"))
    }

    @Test func historyChartHasLossAccuracyAndLearningRatePanels() throws {
        let history = TrainingHistory(records: [
            EpochRecord(epoch: 1, trainLoss: 1.0, trainAccuracy: 0.5, validationLoss: 1.2, validationAccuracy: 0.45, learningRate: 0.1, seconds: 1),
            EpochRecord(epoch: 2, trainLoss: 0.6, trainAccuracy: 0.7, validationLoss: 0.9, validationAccuracy: 0.6, learningRate: 0.05, seconds: 1),
        ])
        let chart = history.chart(title: "blobs")
        #expect(chart.panels.map(\.title) == ["loss", "accuracy", "learning rate"])
        #expect(chart.panels[0].series.map(\.name) == ["train", "validation"])
        #expect(chart.panels[0].series[1].y == [Double(Float(1.2)), Double(Float(0.9))])
        let regression = TrainingHistory(records: [EpochRecord(epoch: 1, trainLoss: 3, learningRate: 0.1, seconds: 1)])
        #expect(regression.chart().panels.map(\.title) == ["loss", "learning rate"])
        #expect(chart.svg().contains("<svg"))
    }

    @Test func keepBestCheckpointWritesSafetensors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-best-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("best.safetensors")
        let model = Self.mlp()
        let best = KeepBestCheckpoint(monitor: .validationAccuracy, saveTo: url)
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 0.05),
                              loss: .crossEntropy, callbacks: [best])
        try trainer.fit(Self.blobs(64, seed: 16), validation: Self.blobs(32, seed: 17), epochs: 3, batchSize: 16)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata["epoch"] == String(best.bestRecord!.epoch))
        let saved = file.floatTensors()
        #expect(Set(saved.keys) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        for (key, tensor) in model.stateDict() { #expect(saved[key]?.scalars == tensor.scalars, "\(key)") }
    }
}
