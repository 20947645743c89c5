import Foundation
import Testing
@testable import Synapse

/// CartPole and Acrobot against Gymnasium's own trajectories (scripts/make_rl_fixtures.py), and the NumPy generator
/// that makes their seeded resets start where Gymnasium's do.
@Suite(.synapseRuntime) struct EnvironmentTests {
    nonisolated(unsafe) static let fixtures = try! Fixtures.json("environments.json")

    @Test func numpyGeneratorMatchesDefaultRNG() {
        for case let entry as [String: Any] in Self.fixtures["numpy_random"] as! [Any] {
            let seed = UInt64(entry["seed"] as! String)!
            var raw = NumPyRandom(seed: seed), rng = raw
            let expectedRaw = (entry["raw"] as! [String]).map { UInt64($0)! }
            #expect(expectedRaw.map { _ in raw.next() } == expectedRaw, "seed \(seed)")
            let expected = (entry["doubles"] as! [NSNumber]).map(\.doubleValue)
            for value in expected {
                // JSONSerialization on Linux may misround a decimal double by a few ulps; the raw bits above are exact.
                #expect(abs(rng.nextDouble() - value) <= 1e-15, "seed \(seed)")
            }
        }
    }

    @Test(arguments: 0..<4)
    func trajectoryMatchesGymnasium(_ index: Int) {
        let record = (Self.fixtures["trajectories"] as! [[String: Any]])[index]
        let id = record["env"] as! String
        var env = EnvironmentKind(name: id)!.make()
        #expect(env.id == id)
        func floats(_ any: Any) -> [Float] { (any as! [NSNumber]).map(\.floatValue) }
        let seed = (record["seed"] as! NSNumber).uint64Value
        #expect(env.reset(seed: seed) == floats(record["initial"]!), "\(id) seed \(seed): initial state")
        let actions = (record["actions"] as! [NSNumber]).map(\.intValue)
        let observations = record["observations"] as! [Any]
        let resets = record["reset_observations"] as! [Any]
        let rewards = (record["rewards"] as! [NSNumber]).map(\.doubleValue)
        let terminated = (record["terminated"] as! [Bool]), truncated = (record["truncated"] as! [Bool])
        var worst: Float = 0
        for t in actions.indices {
            let step = env.step(actions[t])
            let expected = floats(observations[t])
            worst = max(worst, zip(step.observation, expected).map { abs($0 - $1) }.max()!)
            #expect(step.reward == rewards[t] && step.terminated == terminated[t] && step.truncated == truncated[t],
                    "\(id) step \(t): reward \(step.reward) terminated \(step.terminated) truncated \(step.truncated)")
            if step.isDone {
                let first = env.reset()
                worst = max(worst, zip(first, floats(resets[t])).map { abs($0 - $1) }.max()!)
            }
        }
        #expect(worst <= 1e-6, "\(id) seed \(seed): largest observation difference \(worst) over \(actions.count) steps")
    }

    @Test func cartPoleRulesAndTimeLimit() {
        var env = CartPole(maxEpisodeSteps: 3)
        _ = env.reset(seed: 1)
        #expect(env.observationSize == 4 && env.actionCount == 2)
        #expect(!env.step(0).truncated && !env.step(1).truncated)
        #expect(env.step(0).truncated)
        // Pushed one way for long enough, the pole falls: the last step pays 1, steps after it pay 0.
        var falling = CartPole()
        _ = falling.reset(seed: 3)
        var step = falling.step(1)
        while !step.terminated { step = falling.step(1) }
        #expect(step.reward == 1)
        #expect(falling.step(1).reward == 0)
    }

    @Test func acrobotWrapsAnglesAndBoundsVelocities() {
        #expect(abs(Acrobot.wrap(3 * .pi + 0.5, -.pi, .pi) - (0.5 - .pi)) < 1e-12)
        #expect(abs(Acrobot.wrap(-4, -.pi, .pi) - (-4 + 2 * .pi)) < 1e-12)
        var env = Acrobot()
        _ = env.reset(seed: 5)
        for t in 0..<300 {
            _ = env.step(t % 40 < 20 ? 2 : 0)
            #expect(abs(env.state[0]) <= .pi && abs(env.state[1]) <= .pi)
            #expect(abs(env.state[2]) <= Acrobot.maxVelocity1 && abs(env.state[3]) <= Acrobot.maxVelocity2)
        }
    }

    @Test func environmentsAreFoundByNameOrGymnasiumID() {
        #expect(EnvironmentKind(name: "CartPole-v1") == .cartpole)
        #expect(EnvironmentKind(name: "acrobot") == .acrobot)
        #expect(EnvironmentKind(name: "pendulum") == nil)
    }
}
