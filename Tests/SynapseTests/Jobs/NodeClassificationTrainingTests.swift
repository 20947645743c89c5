import Foundation
import Testing
@testable import Synapse

/// GCN training stops on a signal with a checkpoint and resumes to the uninterrupted run's weights, bit for bit.
@Suite(.synapseRuntime) struct NodeClassificationTrainingTests {
    static let club = try! Graph(directory: packageRoot + "/datasets/karate-club")

    @Test(arguments: [1, 23, 59])
    func aStoppedRunResumesToTheSameWeights(stop: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-gcn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let training = NodeClassificationTraining(options: .init(epochs: 80, seed: 3))
        let train = [0, 33]
        let reference = try training.run(on: Self.club, trainNodes: train)
        let checkpoint = Checkpointing(directory: directory, everyEpochs: 10, resume: true)
        // The probe is read after each epoch: it is set from the epoch counter the checkpoint keeps.
        let probe = InterruptProbe()
        probe.signal = 15
        var stopped = 0
        while stopped < stop {
            #expect(throws: TrainingError.self) {
                try InterruptProbe.$current.withValue(probe) {
                    _ = try training.run(on: Self.club, trainNodes: train, checkpoint: checkpoint, checkpointInterval: 1)
                }
            }
            stopped += 1
        }
        let saved = try SafeTensorsFile(contentsOf: checkpoint.url)
        #expect(saved.tensors["losses"]?.shape == [stop], "the checkpoint holds the epochs done")
        #expect(saved.metadata[NodeClassificationTraining.seedKey] == "3")
        let resumed = try training.run(on: Self.club, trainNodes: train, checkpoint: checkpoint, checkpointInterval: 1)
        let bits = { (m: GCNClassifier) in m.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(resumed.model) == bits(reference.model))
        #expect(resumed.losses.map(\.bitPattern) == reference.losses.map(\.bitPattern))
        #expect(resumed.predictions == reference.predictions)
        // The checkpoint really is read: other settings are refused by its fingerprint, another seed leaves it alone.
        let other = NodeClassificationTraining(options: .init(epochs: 80, learningRate: 0.02, seed: 3))
        #expect(throws: TrainingError.self) {
            try other.run(on: Self.club, trainNodes: train, checkpoint: checkpoint, checkpointInterval: 1)
        }
        let nextSeed = NodeClassificationTraining(options: .init(epochs: 80, seed: 4))
        let fresh = try nextSeed.run(on: Self.club, trainNodes: train, checkpoint: checkpoint, checkpointInterval: 1)
        #expect(fresh.losses.count == 80)
    }
}
