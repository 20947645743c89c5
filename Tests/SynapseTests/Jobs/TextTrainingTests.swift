import Foundation
import Testing
@testable import Synapse

/// The text-training recipe (`synapse train text` without the CLI): model choice, optimizer recipe, report, and the
/// stop on a non-finite loss.
@Suite(.synapseRuntime) struct TextTrainingTests {
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
}
