/// Copies of one environment stepped together, so a policy acts on a batch of observations at once.
///
/// It behaves like stable-baselines3's `DummyVecEnv` with a `Monitor` around each copy: copy i is first reset with
/// `seed + i`; a copy whose episode ends is reset at once (carrying its generator on) and its next observation is
/// the new episode's first, while the last observation of the finished episode is kept in `finalObservations` (a
/// truncated episode's value is bootstrapped from it). Finished episodes' returns and lengths are collected in
/// `finishedEpisodes`.
public final class VectorEnvironment {
    public struct Episode: Sendable, Equatable {
        public var totalReward: Double
        public var length: Int
    }

    public private(set) var environments: [any Environment]
    /// [count, observationSize], row-major: the observation each copy's policy acts on next.
    public private(set) var observations: [Float]
    /// For each copy, the last observation of the episode that ended on the latest step (nil if it did not end).
    public private(set) var finalObservations: [[Float]?]
    public private(set) var finishedEpisodes: [Episode] = []
    private var runningReward: [Double]
    private var runningLength: [Int]

    public var count: Int { environments.count }
    public var observationSize: Int { environments[0].observationSize }
    public var actionCount: Int { environments[0].actionCount }

    /// `count` fresh copies of `kind`, reset with seeds `seed`, `seed + 1`, ….
    public convenience init(_ kind: EnvironmentKind, count: Int, seed: UInt64) {
        self.init((0..<count).map { _ in kind.make() }, seed: seed)
    }

    public init(_ environments: [any Environment], seed: UInt64) {
        precondition(!environments.isEmpty, "VectorEnvironment: needs at least one environment")
        self.environments = environments
        let size = environments[0].observationSize
        precondition(environments.allSatisfy { $0.observationSize == size && $0.actionCount == environments[0].actionCount },
                     "VectorEnvironment: all copies must have the same observation and action sizes")
        observations = []
        observations.reserveCapacity(environments.count * size)
        for i in self.environments.indices {
            observations += self.environments[i].reset(seed: seed &+ UInt64(i))
        }
        finalObservations = Array(repeating: nil, count: environments.count)
        runningReward = Array(repeating: 0, count: environments.count)
        runningLength = Array(repeating: 0, count: environments.count)
    }

    /// Steps every copy with its action; returns each copy's reward, whether its episode ended, and whether that end
    /// was a truncation (the time limit) rather than a terminal state.
    public func step(_ actions: [Int]) -> (rewards: [Double], dones: [Bool], truncations: [Bool]) {
        precondition(actions.count == count, "VectorEnvironment.step: \(actions.count) actions for \(count) environments")
        var rewards = [Double](repeating: 0, count: count)
        var dones = [Bool](repeating: false, count: count)
        var truncations = [Bool](repeating: false, count: count)
        let size = observationSize
        for i in 0..<count {
            let step = environments[i].step(actions[i])
            rewards[i] = step.reward
            runningReward[i] += step.reward
            runningLength[i] += 1
            var next = step.observation
            finalObservations[i] = nil
            if step.isDone {
                dones[i] = true
                truncations[i] = step.truncated && !step.terminated
                finishedEpisodes.append(Episode(totalReward: runningReward[i], length: runningLength[i]))
                runningReward[i] = 0
                runningLength[i] = 0
                finalObservations[i] = next
                next = environments[i].reset(seed: nil)
            }
            for j in 0..<size { observations[i * size + j] = next[j] }
        }
        return (rewards, dones, truncations)
    }
}

extension VectorEnvironment {
    /// Every copy's state, the observations they act on next, the running episode sums and the finished episodes, as
    /// checkpoint metadata under `prefix` (bit patterns: a restored run continues exactly).
    func checkpointMetadata(prefix: String) -> [String: String] {
        [
            prefix + "environments": PolicyCheckpoint.encode(environments),
            prefix + "observations": PolicyCheckpoint.encode(observations),
            prefix + "running_reward": runningReward.map { String($0.bitPattern) }.joined(separator: ","),
            prefix + "running_length": runningLength.map(String.init).joined(separator: ","),
            prefix + "episodes": PolicyCheckpoint.encode(finishedEpisodes),
        ]
    }

    /// Restores what `checkpointMetadata` wrote; false (with nothing changed) when it does not fit these copies.
    func restore(from metadata: [String: String], prefix: String) -> Bool {
        var restored = environments
        guard PolicyCheckpoint.decode(metadata[prefix + "environments"], into: &restored),
              let observed = PolicyCheckpoint.decodeFloats(metadata[prefix + "observations"]), observed.count == observations.count,
              let rewards = PolicyCheckpoint.decodeWords(metadata[prefix + "running_reward"]), rewards.count == count,
              let lengths = PolicyCheckpoint.decodeWords(metadata[prefix + "running_length"]), lengths.count == count,
              lengths.allSatisfy({ $0 <= UInt64(Int.max) }),
              let episodes = PolicyCheckpoint.decodeEpisodes(metadata[prefix + "episodes"]) else { return false }
        environments = restored
        observations = observed
        runningReward = rewards.map(Double.init(bitPattern:))
        runningLength = lengths.map { Int($0) }
        finishedEpisodes = episodes
        finalObservations = Array(repeating: nil, count: count)
        return true
    }
}
