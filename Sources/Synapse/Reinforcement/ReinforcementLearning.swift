import Foundation

/// Why a reinforcement-learning run or a policy file was refused.
public enum ReinforcementLearningError: Error, CustomStringConvertible, Equatable {
    /// The loss of an update was NaN or infinite; training stopped before applying it.
    case nonFiniteLoss(update: Int, loss: Float)
    /// The gradients' global norm was NaN or infinite; the step was not applied.
    case nonFiniteGradient(update: Int, norm: Float)
    /// A policy file made for another environment (or another network).
    case policyMismatch(file: String, expected: String, found: String)
    /// A policy file without the metadata that says what it is.
    case notAPolicy(file: String, reason: String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let update, let loss):
            return "reinforcement learning: loss is \(loss) at update \(update); lower the learning rate or clip gradients harder"
        case .nonFiniteGradient(let update, let norm):
            return "reinforcement learning: gradient norm is \(norm) at update \(update); lower the learning rate"
        case .policyMismatch(let file, let expected, let found):
            return "\(file): the policy is for \(found), but the environment needs \(expected)"
        case .notAPolicy(let file, let reason):
            return "\(file): not a policy saved by `synapse train rl` (\(reason))"
        }
    }
}

/// What one update of a policy-gradient run measured; one row of history.csv.
public struct PolicyUpdateReport: Sendable, Codable {
    public var update: Int
    /// Environment steps taken so far (over all copies).
    public var timesteps: Int
    /// Episodes finished so far.
    public var episodes: Int
    /// Mean return of the last 100 finished episodes (of all there are, before 100).
    public var meanReturn: Double
    public var policyLoss: Float
    public var valueLoss: Float
    public var entropy: Float
    /// Mean of (r − 1) − log r over the update's samples: how far the policy moved (PPO only; 0 otherwise).
    public var approximateKL: Float
    /// Share of samples whose probability ratio left [1 − ε, 1 + ε] (PPO only).
    public var clipFraction: Float
    public var learningRate: Float
    public var seconds: Double

    public static let csvHeader = "update,timesteps,episodes,mean_return,policy_loss,value_loss,entropy,approx_kl,clip_fraction,learning_rate,seconds"

    public var csvRow: String {
        "\(update),\(timesteps),\(episodes),\(meanReturn),\(policyLoss),\(valueLoss),\(entropy),\(approximateKL),\(clipFraction),\(learningRate),\(String(format: "%.3f", seconds))"
    }
}

/// The outcome of a policy-gradient run.
public struct PolicyTrainingResult {
    public var agent: ActorCritic
    public var environment: EnvironmentKind
    public var history: [PolicyUpdateReport]
    public var episodes: [VectorEnvironment.Episode]
    /// When the mean of the last 100 training episodes first reached the environment's threshold.
    public var solvedAt: (timesteps: Int, seconds: Double)?
    public var seconds: Double

    /// history.csv's text.
    public var historyCSV: String { ([PolicyUpdateReport.csvHeader] + history.map(\.csvRow)).joined(separator: "\n") + "\n" }

    /// The return of every training episode and the 100-episode running mean, against environment steps.
    public func returnChart(title: String) -> LineChart {
        var steps: [Double] = [], returns: [Double] = [], means: [Double] = []
        var total = 0, window: [Double] = [], sum = 0.0
        for episode in episodes {
            total += episode.length
            window.append(episode.totalReward)
            sum += episode.totalReward
            if window.count > 100 { sum -= window.removeFirst() }
            steps.append(Double(total))
            returns.append(episode.totalReward)
            means.append(sum / Double(window.count))
        }
        let threshold = environment.solvedThreshold
        return LineChart(title: title, panels: [
            .init(title: "episode return while training", xLabel: "environment steps", yLabel: "return", series: [
                .init(name: "episode", x: steps, y: returns, color: "#9ecae1", markers: false),
                .init(name: "mean of last 100", x: steps, y: means, color: "#1f77b4"),
                .init(name: "solved (\(Int(threshold)))", x: [0, steps.last ?? 1], y: [threshold, threshold],
                      color: "#2ca02c", dashed: true, markers: false),
            ]),
            .init(title: "losses per update", xLabel: "update", yLabel: "loss", series: [
                .init(name: "policy", x: history.map { Double($0.update) }, y: history.map { Double($0.policyLoss) }),
                .init(name: "value", x: history.map { Double($0.update) }, y: history.map { Double($0.valueLoss) }),
            ]),
        ])
    }
}

/// Tracks the running 100-episode mean and the moment it first reaches the threshold.
struct EpisodeStatistics {
    let threshold: Double
    var recent: [Double] = []
    var sum = 0.0
    var solvedAt: (timesteps: Int, seconds: Double)?

    mutating func record(_ episodes: ArraySlice<VectorEnvironment.Episode>, timesteps: Int, seconds: Double) {
        for episode in episodes {
            recent.append(episode.totalReward)
            sum += episode.totalReward
            if recent.count > 100 { sum -= recent.removeFirst() }
            if solvedAt == nil && recent.count == 100 && sum / 100 >= threshold { solvedAt = (timesteps, seconds) }
        }
    }

    var mean: Double { recent.isEmpty ? .nan : sum / Double(recent.count) }
}

/// Runs `episodes` episodes with the greedy policy (the most probable action), all copies at once, and returns each
/// episode's return. Copy i starts from `reset(seed: seed + i)`.
public func evaluatePolicy(_ agent: ActorCritic, environment kind: EnvironmentKind, episodes: Int = 100,
                           seed: UInt64 = 1_000_000) -> [Double] {
    precondition(episodes > 0, "evaluatePolicy: episodes must be positive, got \(episodes)")
    var environments = (0..<episodes).map { _ in kind.make() }
    precondition(environments[0].observationSize == agent.observationSize && environments[0].actionCount == agent.actionCount,
                 "evaluatePolicy: the agent is [\(agent.observationSize) → \(agent.actionCount)], \(kind.gymnasiumID) is [\(environments[0].observationSize) → \(environments[0].actionCount)]")
    let size = agent.observationSize
    var observations = [Float](repeating: 0, count: episodes * size)
    for i in 0..<episodes { observations.replaceSubrange(i * size..<(i + 1) * size, with: environments[i].reset(seed: seed &+ UInt64(i))) }
    var returns = [Double](repeating: 0, count: episodes)
    var running = Array(0..<episodes)
    while !running.isEmpty {
        var batch = [Float]()
        batch.reserveCapacity(running.count * size)
        for i in running { batch += observations[i * size..<(i + 1) * size] }
        let actions = agent.greedyActions(Tensor(shape: [running.count, size], scalars: batch))
        var stillRunning: [Int] = []
        for (row, i) in running.enumerated() {
            let step = environments[i].step(actions[row])
            returns[i] += step.reward
            if !step.isDone {
                stillRunning.append(i)
                observations.replaceSubrange(i * size..<(i + 1) * size, with: step.observation)
            }
        }
        running = stillRunning
    }
    return returns
}
