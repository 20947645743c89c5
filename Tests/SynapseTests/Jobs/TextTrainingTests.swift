import Foundation
import Testing
@testable import Synapse

/// The text-training recipe (`synapse train text` without the CLI): model choice, optimizer recipe, report, and the
/// stop on a non-finite loss.
@Suite(.synapseRuntime, .serialized) struct TextTrainingTests {
    static let dataset = try! TextDataset(text: String(repeating: "to be or not to be\n", count: 40), blockLength: 12)

    static func options(_ architecture: TextTraining.Architecture) -> TextTraining.Options {
        var o = TextTraining.Options(architecture: architecture, iterations: 30)
        (o.embedding, o.hidden, o.heads, o.layers, o.batchSize) = (16, 16, 2, 1, 8)
        (o.block, o.evaluationInterval, o.evaluationBatches, o.learningRate) = (12, 15, 2, 1e-2)
        return o
    }

    @Test(arguments: TextTraining.Architecture.allCases)
    func eachArchitectureTrainsAndWritesItsReport(architecture: TextTraining.Architecture) throws {
        var summary = ""
        let run = try TextTraining(options: Self.options(architecture)).run(on: Self.dataset, onStart: { summary = $0 })
        #expect(summary.hasPrefix(architecture.rawValue), "\(summary)")
        #expect(run.training.evaluations.map(\.iteration) == [15, 30])
        let first = run.training.evaluations[0].trainLoss
        #expect(run.training.trainLoss < first, "\(architecture): loss \(first) → \(run.training.trainLoss)")
        let directory = TemporaryDirectory()
        let written = try run.writeReport(to: URL(fileURLWithPath: directory.path))
        #expect(written.map(\.lastPathComponent) == ["model.safetensors", "history.csv", "curves.svg"])
        let reloaded = try LanguageModelFile.load(from: written[0])
        #expect(reloaded.model.parameterCount == run.model.parameterCount)
        let csv = try String(contentsOf: written[1], encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)
        #expect(try String(contentsOf: written[2], encoding: .utf8).contains("<svg"))
    }

    @Test func gptGetsAdamWWithWarmUpAndCosine() throws {
        let job = TextTraining(options: Self.options(.gpt))
        var rng = RandomGenerator(seed: 1)
        let model = job.makeModel(vocabularySize: Self.dataset.tokenizer.vocabularySize, generator: &rng)
        let recipe = try job.makeOptimizer(for: model)
        #expect(recipe.optimizer is AdamW)
        #expect(recipe.schedule is WarmupCosineSchedule)
        var longer = Self.options(.gpt)
        longer.block = 64
        #expect(throws: TextTraining.Error.blockExceedsModel(block: 64, modelBlock: 12)) {
            try TextTraining(options: longer).makeOptimizer(for: model)
        }
    }

    @Test func aNonFiniteLossStopsTrainingBeforeItsStep() throws {
        var rng = RandomGenerator(seed: 2)
        let job = TextTraining(options: Self.options(.lstm))
        let model = job.makeModel(vocabularySize: Self.dataset.tokenizer.vocabularySize, generator: &rng)
        let head = try #require(model.namedParameters().first { $0.name.hasPrefix("head") }?.parameter)
        head.withSharedMutableStorage { $0[0] = .nan }
        let before = model.namedParameters().map { $0.parameter.scalars }
        #expect(throws: TrainingError.self) {
            try TextTraining(options: Self.options(.lstm), continuing: model).run(on: Self.dataset)
        }
        let after = model.namedParameters().map { $0.parameter.scalars }
        for (a, b) in zip(before, after) { #expect(a.map(\.bitPattern) == b.map(\.bitPattern)) }
    }

    /// Stopped by a signal after iteration `stop` and resumed, a run ends with the uninterrupted run's weights and
    /// evaluations, bit for bit (recurrent with Adam, GPT with AdamW and its warm-up/cosine schedule).
    @Test(arguments: [(TextTraining.Architecture.lstm, 7), (.lstm, 20), (.gpt, 13)])
    func aStoppedTextRunResumesToTheSameWeights(architecture: TextTraining.Architecture, stop: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = Self.options(architecture)
        options.checkpointInterval = 10
        let reference = try TextTraining(options: options).run(on: Self.dataset)
        options.checkpoint = Checkpointing(directory: directory, resume: true)
        let probe = InterruptProbe()
        #expect(throws: TrainingError.self) {
            try InterruptProbe.$current.withValue(probe) {
                try TextTraining(options: options).run(on: Self.dataset, onEvent: { event in
                    if case .step(let iteration, _, _) = event, iteration == stop { probe.signal = 2 }
                })
            }
        }
        let resumed = try TextTraining(options: options).run(on: Self.dataset)
        let bits = { (m: any LanguageModel) in m.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(resumed.model) == bits(reference.model), "\(architecture) stopped after \(stop)")
        #expect(resumed.training.evaluations.map(\.validationLoss) == reference.training.evaluations.map(\.validationLoss))
    }
}

