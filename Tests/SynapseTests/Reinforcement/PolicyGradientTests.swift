import Foundation
import Testing
@testable import Synapse

/// The pieces of PPO and REINFORCE against hand computations, and short seeded runs.
@Suite(.synapseRuntime) struct PolicyGradientTests {
    @Test func orthogonalInitialisationIsOrthonormalTimesGain() {
        var rng = RandomGenerator(seed: 1)
        for shape in [[8, 3], [3, 8], [5, 5]] {
            let w = Tensor.orthogonal(shape, gain: 2, generator: &rng)
            let gram = shape[0] >= shape[1] ? w.transposed().matmul(w) : w.matmul(w.transposed())
            let n = gram.shape[0], g = gram.scalars
            for i in 0..<n { for j in 0..<n { #expect(abs(g[i * n + j] - (i == j ? 4 : 0)) < 1e-4, "\(shape) [\(i), \(j)]") } }
        }
    }

    @Test func generalizedAdvantagesMatchTheRecursionByHand() {
        // One environment, three steps; the episode ends after step 1 (step 2 starts a new one).
        let rewards: [Float] = [1, 2, 3], values: [Float] = [0.5, 0.25, 1]
        var advantages = [Float](repeating: 0, count: 3)
        PPO.generalizedAdvantages(rewards: rewards, values: values, episodeStarts: [1, 0, 1], lastValues: [2],
                                  lastDones: [0], environments: 1, gamma: 0.9, lambda: 0.5, into: &advantages)
        let a2 = 3 + 0.9 * 2 - 1                      // bootstrapped from the value after the rollout
        let a1 = 2 + 0 - 0.25                         // the episode ended: no next value, no carried advantage
        let a0 = (1 + 0.9 * 0.25 - 0.5) + 0.9 * 0.5 * a1
        #expect(zip(advantages, [a0, a1, a2]).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(advantages)")
    }

    @Test func categoricalLogProbabilityAndEntropyHaveTheirGradients() {
        var rng = RandomGenerator(seed: 2)
        let logits = Tensor.randn([4, 3], generator: &rng).requiringGrad()
        let actions = [0, 2, 1, 2]
        let weights = Tensor.randn([4], generator: &rng)
        let report = GradCheck.check([logits]) { v in
            let d = Categorical(logits: v[0])
            return (d.logProbability(of: actions) * weights).sum() + d.entropy().sum()
        }
        #expect(report.passed, "\(report)")
        // Uniform logits: entropy log 3, log-probability −log 3.
        let uniform = Categorical(logits: Tensor.zeros([1, 3]))
        #expect(abs(uniform.entropy().item - Float(Foundation.log(3.0))) < 1e-6)
        #expect(abs(uniform.logProbability(of: [1]).item + Float(Foundation.log(3.0))) < 1e-6)
    }

    @Test func samplingFollowsTheProbabilities() {
        var rng = RandomGenerator(seed: 3)
        let logits = Tensor(shape: [1, 3], scalars: [Float(Foundation.log(0.2)), Float(Foundation.log(0.3)), Float(Foundation.log(0.5))])
        var counts = [0, 0, 0]
        let d = Categorical(logits: logits)
        for _ in 0..<20_000 { counts[d.sample(generator: &rng)[0]] += 1 }
        for (count, p) in zip(counts, [0.2, 0.3, 0.5]) { #expect(abs(Double(count) / 20_000 - p) < 0.015, "\(counts)") }
    }

    @Test func advantageNormalisationUsesTheUnbiasedDeviation() {
        var values: [Float] = [1, 2, 3, 4]
        PPO.normalize(&values)
        let std = Float((5.0 / 3.0).squareRoot())
        #expect(zip(values, [-1.5, -0.5, 0.5, 1.5]).allSatisfy { abs($0 - $1 / std) < 1e-5 }, "\(values)")
    }

    @Test func vectorEnvironmentResetsFinishedEpisodesAndKeepsTheirLastObservation() {
        let envs = VectorEnvironment(.cartpole, count: 2, seed: 7)
        var reference = CartPole()
        #expect(Array(envs.observations[0..<4]) == reference.reset(seed: 7))
        var steps = 0
        while envs.finishedEpisodes.isEmpty {
            let (_, dones, truncations) = envs.step([1, 1])
            steps += 1
            if dones[0] {
                #expect(envs.finalObservations[0] != nil && !truncations[0])
                // The copy was reset with its generator carried on, as a Gymnasium vector environment does.
                _ = (0..<steps).map { _ in reference.step(1) }
                #expect(Array(envs.observations[0..<4]) == reference.reset())
            }
        }
        #expect(envs.finishedEpisodes[0].length == steps && envs.finishedEpisodes[0].totalReward == Double(steps))
    }

    @Test func seededPPORunsAreReproducibleAndLearn() throws {
        var options = PPO.Options(seed: 5)
        options.totalTimesteps = 2048
        options.epochs = 4
        let a = try PPO(options: options).train(on: .cartpole)
        let b = try PPO(options: options).train(on: .cartpole)
        #expect(a.history.count == 8 && a.history.last!.timesteps == 2048)
        #expect(a.history.map(\.policyLoss) == b.history.map(\.policyLoss))
        #expect(a.agent.stateDict()["action_net.weight"]!.scalars == b.agent.stateDict()["action_net.weight"]!.scalars)
        // Early CartPole learning is fast: the episodes of the last updates are longer than the first random ones.
        let first = a.episodes.prefix(20).map(\.totalReward).reduce(0, +) / 20
        let last = a.episodes.suffix(10).map(\.totalReward).reduce(0, +) / 10
        #expect(last > first, "first episodes \(first), last \(last)")
    }

    @Test func reinforceRunsAndStopsOnABudget() throws {
        var options = REINFORCE.Options(seed: 1)
        options.totalTimesteps = 1500
        let run = try REINFORCE(options: options).train(on: .cartpole)
        #expect(run.history.last!.timesteps >= 1500 && run.history.allSatisfy { $0.policyLoss.isFinite && $0.valueLoss.isFinite })
    }

    @Test func aDivergingRunStopsNamingTheUpdate() {
        var options = PPO.Options(seed: 0)
        options.totalTimesteps = 20_000
        options.learningRate = 1e38
        options.linearDecay = false
        #expect {
            _ = try PPO(options: options).train(on: .cartpole)
        } throws: { error in
            guard let error = error as? ReinforcementLearningError else { return false }
            switch error {
            case .nonFiniteLoss(let update, _), .nonFiniteGradient(let update, _): return update >= 1 && error.description.contains("update \(update)")
            default: return false
            }
        }
    }

    @Test func policyFilesRoundTripAndRefuseAnotherEnvironment() throws {
        var rng = RandomGenerator(seed: 4)
        let agent = ActorCritic(observationSize: 4, actionCount: 2, hidden: [8, 8], generator: &rng)
        #expect(agent.stateDict().keys.sorted() == [
            "action_net.bias", "action_net.weight", "mlp_extractor.policy_net.0.bias", "mlp_extractor.policy_net.0.weight",
            "mlp_extractor.policy_net.2.bias", "mlp_extractor.policy_net.2.weight", "mlp_extractor.value_net.0.bias",
            "mlp_extractor.value_net.0.weight", "mlp_extractor.value_net.2.bias", "mlp_extractor.value_net.2.weight",
            "value_net.bias", "value_net.weight"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try PolicyFile.save(agent, environment: .cartpole, algorithm: "ppo", to: url)
        let (loaded, info) = try PolicyFile.load(from: url, for: .cartpole)
        #expect(info.hidden == [8, 8] && info.algorithm == "ppo" && info.environment == "CartPole-v1")
        let x = Tensor.randn([3, 4], generator: &rng)
        #expect(loaded(x).logits.scalars == agent(x).logits.scalars)
        #expect(throws: ReinforcementLearningError.policyMismatch(
            file: url.lastPathComponent, expected: "6 observations → 3 actions (Acrobot-v1)",
            found: "4 observations → 2 actions (CartPole-v1)")) { try PolicyFile.load(from: url, for: .acrobot) }
    }

    @Test func anEpisodeIsDrawnAsAnAnimation() {
        let episode = PlayedEpisode.play(.cartpole, seed: 0) { $0[2] + 0.5 * $0[3] > 0 ? 1 : 0 }
        #expect(episode.states.count == episode.length + 1 && episode.totalReward == Double(episode.length))
        let svg = episode.svg()
        #expect(svg.hasPrefix("<svg") && svg.contains("animateTransform") && svg.contains("step \(episode.length)"))
        let swing = PlayedEpisode.play(.acrobot, seed: 0) { _ in 2 }
        #expect(swing.length == 500 && !swing.terminated && swing.svg().contains("rotate"))
    }
}
