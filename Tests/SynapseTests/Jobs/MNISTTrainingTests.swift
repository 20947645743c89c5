import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct MNISTTrainingTests {
    /// A small slice of the real MNIST, so the job runs in seconds in a debug build.
    static func smallMNIST() throws -> MNIST {
        let full = try MNIST(directory: MNIST.defaultDirectory())
        return MNIST(variant: .digits, directory: full.directory, train: full.train.prefix(1500), test: full.test.prefix(500))
    }

    @Test func trainsWritesAReportAndReloads() throws {
        var options = MNISTTraining.Options(architecture: .mlp, epochs: 2, batchSize: 32)
        options.validationCount = 150
        let run = try MNISTTraining(options: options, progress: .off).run(on: Self.smallMNIST())
        #expect(run.history.records.count == 2)
        #expect(run.testMetrics.accuracy > 0.75, "accuracy \(run.testMetrics.accuracy)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-mnist-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try run.writeReport(to: directory)
        for file in files { #expect(FileManager.default.fileExists(atPath: file.path), "\(file.lastPathComponent) missing") }

        let (model, info) = try ClassifierFile.load(from: directory.appendingPathComponent("model.safetensors"))
        #expect(info.architecture == .mlp && info.dataset == .digits)
        let test = try Self.smallMNIST().test
        #expect(model.predictClasses(test.images) == run.model.predictClasses(test.images))
        let png = try PNG.readGray(from: directory.appendingPathComponent("weights.png").path)
        #expect(png.width > 28 * 16)
    }

    @Test func theSeedNetworkIsTheNotesNetwork() {
        var rng = RandomGenerator(seed: 0)
        let model = MNISTArchitecture.seed.makeModel(generator: &rng)
        #expect(model.parameterCount == 13_002)
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    }

    @Test func filesWithoutArchitectureAreRejectedByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-cf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = RandomGenerator(seed: 1)
        let url = directory.appendingPathComponent("plain.safetensors")
        try MNISTArchitecture.mlp.makeModel(generator: &rng).save(to: url)
        #expect(throws: ClassifierFile.Error.missingMetadata(file: "plain.safetensors", key: "synapse.architecture")) {
            try ClassifierFile.load(from: url)
        }
        try MNISTArchitecture.seed.makeModel(generator: &rng).save(to: url, metadata: ["synapse.architecture": "mlp"])
        #expect(throws: StateDictError.self) { try ClassifierFile.load(from: url) }
    }

    @Test func metricsCountPerClass() {
        let m = ClassificationMetrics(predictions: [0, 1, 1, 2, 2, 2], labels: [0, 1, 2, 2, 2, 1], classCount: 3)
        #expect(m.correct == 4 && m.total == 6)
        #expect(m.confusion[2] == [0, 1, 2])
        #expect(abs(m.precision[2] - 2.0 / 3) < 1e-12)
        #expect(abs(m.recall[1] - 0.5) < 1e-12)
    }
}
