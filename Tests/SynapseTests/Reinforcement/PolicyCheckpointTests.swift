import Foundation
import Testing
@testable import Synapse

/// A PPO run stopped by a signal after update k and resumed ends with the uninterrupted run's policy, bit for bit:
/// the environments are restored mid-episode, with their NumPy generators, and so are the sampling generator, the
/// rollout's episode starts and the episode statistics.
@Suite(.synapseRuntime) struct PolicyCheckpointTests {
    static func options(_ environment: EnvironmentKind) -> PPO.Options {
        var options = PPO.Options.defaults(for: environment, seed: 7)
        options.environmentCount = 4
        options.stepsPerEnvironment = 16
        options.minibatchSize = 32
        options.epochs = 2
        options.totalTimesteps = 64 * 12
        options.hidden = [16]
        return options
    }

    @Test(arguments: [(EnvironmentKind.cartpole, 1), (.cartpole, 5), (.acrobot, 7)])
    func aStoppedRunResumesToTheSamePolicy(environment: EnvironmentKind, stop: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-ppo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ppo = PPO(options: Self.options(environment))
        let reference = try ppo.train(on: environment)
        let checkpoint = Checkpointing(directory: directory, everyEpochs: 4, resume: true)
        let probe = InterruptProbe()
        #expect(throws: TrainingError.self) {
            try InterruptProbe.$current.withValue(probe) {
                _ = try ppo.train(on: environment, checkpoint: checkpoint, checkpointInterval: 1) { report in
                    if report.update == stop { probe.signal = 2 }
                }
            }
        }
        let resumed = try ppo.train(on: environment, checkpoint: checkpoint, checkpointInterval: 1)
        let bits = { (agent: ActorCritic) in agent.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(resumed.agent) == bits(reference.agent), "\(environment) stopped after update \(stop)")
        #expect(resumed.episodes == reference.episodes)
        #expect(resumed.history.map(\.meanReturn.bitPattern) == reference.history.map(\.meanReturn.bitPattern))
        // Another run's checkpoint is refused by its fingerprint.
        var other = Self.options(environment)
        other.seed = 8
        #expect(throws: TrainingError.self) {
            try PPO(options: other).train(on: environment, checkpoint: checkpoint, checkpointInterval: 1)
        }
    }

    /// REINFORCE keeps its copies outside a VectorEnvironment and two optimizers: the same promise.
    @Test(arguments: [1, 4])
    func aStoppedREINFORCERunResumesToTheSamePolicy(stop: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-reinforce-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = REINFORCE.Options(seed: 5)
        options.environmentCount = 3
        options.totalTimesteps = 1500
        options.hidden = [16]
        let reinforce = REINFORCE(options: options)
        let reference = try reinforce.train(on: .cartpole)
        let checkpoint = Checkpointing(directory: directory, resume: true)
        let probe = InterruptProbe()
        #expect(throws: TrainingError.self) {
            try InterruptProbe.$current.withValue(probe) {
                _ = try reinforce.train(on: .cartpole, checkpoint: checkpoint, checkpointInterval: 1000) { report in
                    if report.update == stop { probe.signal = 15 }
                }
            }
        }
        let resumed = try reinforce.train(on: .cartpole, checkpoint: checkpoint, checkpointInterval: 1000)
        let bits = { (agent: ActorCritic) in agent.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(resumed.agent) == bits(reference.agent), "stopped after update \(stop)")
        #expect(resumed.episodes == reference.episodes)
        var other = options
        other.seed = 6
        #expect(throws: TrainingError.self) {
            try REINFORCE(options: other).train(on: .cartpole, checkpoint: checkpoint, checkpointInterval: 1000)
        }
    }

    @Test func environmentsRoundTripTheirCheckpointWords() {
        for kind in EnvironmentKind.allCases {
            var a = kind.make()
            _ = a.reset(seed: 3)
            for action in [0, 1, 1, 0, 1] { _ = a.step(action % a.actionCount) }
            var b = kind.make()
            let restored = b.restore(checkpointWords: a.checkpointWords)
            #expect(restored)
            for action in [1, 0, 1, 1, 0, 0, 1] {
                let (stepA, stepB) = (a.step(action % a.actionCount), b.step(action % b.actionCount))
                #expect(stepA == stepB)
            }
            let (resetA, resetB) = (a.reset(), b.reset())
            #expect(resetA == resetB)   // the generators went on identically
            let refused = b.restore(checkpointWords: [1, 2, 3])
            #expect(!refused)
        }
    }
}
