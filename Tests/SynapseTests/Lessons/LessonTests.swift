import Foundation
import Testing
@testable import Synapse

/// Runs every lesson (the MNIST ones on a slice of the data) and requires each of its own checks to pass and each
/// picture it names to exist and be non-empty.
@Suite(.synapseRuntime) struct LessonTests {
    static func log(_ name: String) throws -> LessonLog {
        try LessonLog(directory: FileManager.default.temporaryDirectory.appendingPathComponent("synapse-lesson-\(name)-\(UUID().uuidString)"))
    }

    static func expectPassed(_ log: LessonLog, pictures: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!log.checks.isEmpty, sourceLocation: sourceLocation)
        #expect(log.failedChecks.isEmpty, "failed: \(log.failedChecks.map { "\($0.name): \($0.detail)" })", sourceLocation: sourceLocation)
        #expect(log.pictures.count == pictures, sourceLocation: sourceLocation)
        for path in log.pictures {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size > 200, "\(path) is \(size) bytes", sourceLocation: sourceLocation)
        }
        try? FileManager.default.removeItem(at: log.directory)
    }

    static func smallMNIST(train: Int) throws -> MNIST {
        let full = try MNIST(directory: MNIST.defaultDirectory())
        return MNIST(variant: .digits, directory: full.directory, train: full.train.prefix(train), test: full.test.prefix(1000))
    }

    @Test func neuronGivesTheNotesNumbers() throws {
        let log = try Self.log("neuron")
        try NeuronLesson.run(log)
        Self.expectPassed(log, pictures: 1)
        #expect(log.lines.contains { $0.contains("z = 0.4·1 + 0.6·2 + (-0.2) = 1.4") })
    }

    @Test func perceptron() throws {
        let log = try Self.log("perceptron")
        try PerceptronLesson.run(log)
        Self.expectPassed(log, pictures: 1)
    }

    @Test func costSurface() throws {
        let log = try Self.log("cost-surface")
        try CostSurfaceLesson.run(log)
        Self.expectPassed(log, pictures: 2)
    }

    @Test func backpropCalculus() throws {
        let log = try Self.log("backprop-calculus")
        try BackpropCalculusLesson.run(log)
        Self.expectPassed(log, pictures: 1)
    }

    @Test func floatFormatsAndTheAbsmaxExample() throws {
        let log = try Self.log("float-formats")
        try FloatFormatsLesson.run(log)
        Self.expectPassed(log, pictures: 1)
        #expect(log.lines.contains { $0.contains("0.1008") })
        // A value that does not round-trip exactly through FP16 still gets consistent fields.
        let other = try Self.log("float-formats-3")
        try FloatFormatsLesson.run(other, value: -3.14159)
        Self.expectPassed(other, pictures: 1)
        #expect(throws: LessonError.self) { try FloatFormatsLesson.run(other, value: .nan) }
    }

    @Test func formatsFromTheFormula() {
        #expect(FloatFormatsLesson.fp16.largest == 65504)
        #expect(FloatFormatsLesson.bf16.epsilon == 1.0 / 128)
        #expect(FloatFormatsLesson.fp32.fields(ofBits: Float(0.1).bitPattern) == "0 | 01111011 | 10011001100110011001101")
    }

    @Test func mnistNetwork() throws {
        let log = try Self.log("mnist-network")
        try MNISTNetworkLesson.run(log, data: Self.smallMNIST(train: 15000), epochs: 3)
        Self.expectPassed(log, pictures: 2)
        #expect(log.lines.contains { $0.contains("12,544 + 16 + 256 + 16 + 160 + 10 = 13,002") })
    }

    @Test func gradientDescentVariants() throws {
        let log = try Self.log("gradient-descent")
        try GradientDescentLesson.run(log, data: Self.smallMNIST(train: 1000), trainCount: 500, epochs: 5)
        Self.expectPassed(log, pictures: 1)
    }

    @Test func cons() throws {
        let log = try Self.log("cons")
        try ConsLesson.run(log, data: Self.smallMNIST(train: 6000), epochs: 2, memorizeCount: 300, memorizeEpochs: 40)
        Self.expectPassed(log, pictures: 4)
    }

    @Test func learningKinds() throws {
        let log = try Self.log("learning-kinds")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let club = try Graph(directory: root.appendingPathComponent("datasets/karate-club").path)
        try LearningKindsLesson.run(log, data: Self.smallMNIST(train: 20000), karateClub: club, autoencoderEpochs: 5,
                                     reinforceTimesteps: 60_000)
        Self.expectPassed(log, pictures: 0)
    }

    @Test func badSettingsAreRefused() throws {
        let data = try Self.smallMNIST(train: 200)
        let log = try Self.log("bad")
        #expect(throws: LessonError.self) { try MNISTNetworkLesson.run(log, data: data, epochs: 0) }
        #expect(throws: LessonError.self) { try GradientDescentLesson.run(log, data: data, trainCount: 10) }
        #expect(throws: LessonError.self) { try ConsLesson.run(log, data: data, memorizeCount: 5) }
        try? FileManager.default.removeItem(at: log.directory)
    }

    @Test func theCatalogListsEveryLessonInTheNotesOrder() {
        #expect(LessonCatalog.entries.map(\.name) == ["neuron", "perceptron", "mnist-network", "cost-surface", "gradient-descent",
                                                      "backprop-calculus", "derivatives", "moons", "float-formats", "cons", "learning-kinds"])
    }
}
