/// An environment an agent acts in: the reinforcement-learning counterpart of a dataset.
///
/// Instead of labelled examples, the agent sees an observation, picks an action, and gets back a reward and the next
/// observation. An episode ends when the task is over (`terminated`: the pole fell) or when its time runs out
/// (`truncated`: 500 steps of CartPole). The difference matters to learning: after a truncation the future still had
/// value, after a termination it had none. The shape of the interface is Gymnasium's, so code and intuitions carry over:
///
/// ```swift
/// var env = CartPole()
/// var observation = env.reset(seed: 42)      // == gymnasium.make("CartPole-v1").reset(seed=42)[0]
/// var episodeReturn = 0.0
/// while true {
///     let step = env.step(observation[2] > 0 ? 1 : 0)   // push the cart towards the way the pole leans
///     episodeReturn += step.reward
///     if step.terminated || step.truncated { break }
///     observation = step.observation
/// }
/// ```
public protocol Environment {
    /// Gymnasium's id of the environment this one reproduces, e.g. "CartPole-v1".
    var id: String { get }
    /// Length of the observation vector.
    var observationSize: Int { get }
    /// Number of discrete actions (0..<actionCount).
    var actionCount: Int { get }
    /// Steps after which an episode is truncated (Gymnasium's `max_episode_steps`).
    var maxEpisodeSteps: Int { get }
    /// The physical state behind the observation (CartPole: x, ẋ, θ, θ̇; Acrobot: θ₁, θ₂, θ̇₁, θ̇₂), for drawing.
    var stateVector: [Double] { get }
    /// Starts an episode. With a seed, the environment's generator is re-seeded as Gymnasium's `reset(seed=)` does;
    /// without one it carries on from its current state (so a sequence of resets after one seeded reset is reproducible).
    mutating func reset(seed: UInt64?) -> [Float]
    /// Applies an action (which must be in 0..<actionCount) to a running episode.
    mutating func step(_ action: Int) -> EnvironmentStep
    /// Everything the environment will act on (physical state as bit patterns, step counters, its generator), so a
    /// training checkpoint can continue an episode mid-way.
    var checkpointWords: [UInt64] { get }
    /// Continues from `checkpointWords`; false (and unchanged) when they are not this environment's.
    mutating func restore(checkpointWords: [UInt64]) -> Bool
}

/// The shared layout of the environments' checkpoint words: the state's doubles, the elapsed steps, then the
/// generator's four words (or none before the first reset), then what the environment adds.
enum EnvironmentWords {
    static func encode(state: [Double], elapsedSteps: Int, random: NumPyRandom?, extra: [UInt64] = []) -> [UInt64] {
        state.map(\.bitPattern) + [UInt64(elapsedSteps), random == nil ? 0 : 1] + (random?.words ?? []) + extra
    }

    /// (state, elapsed steps, generator, extra words) from `words` with `stateCount` doubles and `extraCount` extras.
    static func decode(_ words: [UInt64], stateCount: Int, extraCount: Int)
        -> (state: [Double], elapsedSteps: Int, random: NumPyRandom?, extra: [UInt64])? {
        guard words.count >= stateCount + 2 else { return nil }
        let hasRandom = words[stateCount + 1]
        let randomCount = hasRandom == 1 ? 4 : 0
        guard hasRandom <= 1, words.count == stateCount + 2 + randomCount + extraCount,
              words[stateCount] <= UInt64(Int.max) else { return nil }
        let random = hasRandom == 1 ? NumPyRandom(words: Array(words[(stateCount + 2)..<(stateCount + 6)])) : nil
        if hasRandom == 1 && random == nil { return nil }
        return (words[..<stateCount].map(Double.init(bitPattern:)), Int(words[stateCount]), random,
                Array(words[(stateCount + 2 + randomCount)...]))
    }
}

extension Environment {
    public mutating func reset() -> [Float] { reset(seed: nil) }
}

/// What one step returns.
public struct EnvironmentStep: Sendable, Equatable {
    public var observation: [Float]
    public var reward: Double
    /// The episode reached a terminal state (no future reward to expect).
    public var terminated: Bool
    /// The episode was cut off by the time limit (the state itself was not terminal).
    public var truncated: Bool

    public init(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }

    public var isDone: Bool { terminated || truncated }
}

/// The environments Synapse ships, by the names the command line uses.
public enum EnvironmentKind: String, CaseIterable, Sendable {
    case cartpole
    case acrobot

    /// A fresh environment of this kind.
    public func make() -> any Environment {
        switch self {
        case .cartpole: return CartPole()
        case .acrobot: return Acrobot()
        }
    }

    /// Gymnasium's id.
    public var gymnasiumID: String {
        switch self {
        case .cartpole: return "CartPole-v1"
        case .acrobot: return "Acrobot-v1"
        }
    }

    /// The mean return over 100 evaluation episodes that counts as solving the task: Gymnasium's reward threshold
    /// (475 for CartPole-v1), and −100 for Acrobot-v1, the threshold its registration gives.
    public var solvedThreshold: Double {
        switch self {
        case .cartpole: return 475
        case .acrobot: return -100
        }
    }

    /// Looks an environment up by its command-line name or its Gymnasium id, case-insensitively.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let kind = Self.allCases.first(where: { $0.rawValue == lowered || $0.gymnasiumID.lowercased() == lowered })
        else { return nil }
        self = kind
    }
}
