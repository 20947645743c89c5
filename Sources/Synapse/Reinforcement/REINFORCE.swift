import Foundation

/// REINFORCE with a learned baseline (Williams 1992): the plain policy gradient.
///
/// The agent plays whole episodes, then makes every action it took more likely in proportion to how much better than
/// expected the rest of its episode went:
///
///     ∇J(θ) = E[ Σ_t ∇ log π_θ(a_t | s_t) · (G_t − b(s_t)) ],   G_t = r_t + γ r_{t+1} + γ² r_{t+2} + …
///
/// The baseline b(s) is the value network, fitted to the returns G_t by least squares; subtracting it leaves the
/// gradient's expectation unchanged and shrinks its variance. Each update plays one episode on each of
/// `environmentCount` copies; advantages G − b are normalised over the batch.
///
/// ```swift
/// let run = try REINFORCE(options: .init(seed: 0)).train(on: .cartpole)
/// ```
public struct REINFORCE: Sendable {
    public struct Options: Sendable {
        /// Episodes per update (one per copy).
        public var environmentCount = 8
        public var gamma: Float = 0.99
        public var learningRate: Float = 1e-3
        public var valueLearningRate: Float = 1e-3
        public var normalizeAdvantages = true
        /// Global-norm clipping of the policy's gradient (nil: none).
        public var maxGradientNorm: Float? = nil
        /// Training stops at the first update after this many environment steps.
        public var totalTimesteps = 500_000
        /// Stop as soon as the mean of the last 100 episodes reaches the environment's threshold.
        public var stopWhenSolved = true
        public var hidden = [64, 64]
        public var seed: UInt64 = 0

        public init(seed: UInt64 = 0) { self.seed = seed }
    }

    public var options: Options

    public init(options: Options = Options()) {
        precondition(options.environmentCount > 0 && options.totalTimesteps > 0,
                     "REINFORCE: counts must be positive (environments \(options.environmentCount), timesteps \(options.totalTimesteps))")
        self.options = options
    }

    /// Trains a fresh agent; with `checkpoint`, resumable after any update as `PPO.train` is (every copy's
    /// environment and observation, both optimizers, the generator, the episodes and statistics are saved).
    public func train(on environment: EnvironmentKind, checkpoint: Checkpointing? = nil, checkpointInterval: Int = 10,
                      onUpdate: (PolicyUpdateReport) -> Void = { _ in }) throws -> PolicyTrainingResult {
        let o = options
        var rng = RandomGenerator(seed: o.seed)
        var envs = (0..<o.environmentCount).map { _ in environment.make() }
        let (size, actionCount) = (envs[0].observationSize, envs[0].actionCount)
        let agent = ActorCritic(observationSize: size, actionCount: actionCount, hidden: o.hidden, generator: &rng)
        let policyParameters = agent.policyNet.parameters() + agent.actionNet.parameters()
        let valueParameters = agent.valueTorso.parameters() + agent.valueNet.parameters()
        let policyOptimizer = Adam(parameters: policyParameters, learningRate: o.learningRate)
        let valueOptimizer = Adam(parameters: valueParameters, learningRate: o.valueLearningRate)
        var current = (0..<o.environmentCount).map { envs[$0].reset(seed: o.seed &+ UInt64($0)) }

        var statistics = EpisodeStatistics(threshold: environment.solvedThreshold)
        var episodes: [VectorEnvironment.Episode] = []
        var history: [PolicyUpdateReport] = []
        var timesteps = 0
        var update = 0
        var start = Date()
        let fingerprint = "reinforce \(environment.rawValue) seed \(o.seed) timesteps \(o.totalTimesteps) copies \(o.environmentCount) lr \(o.learningRate.bitPattern) hidden \(o.hidden)"
        let environmentKey = PolicyCheckpoint.prefix + "environments", observationsKey = PolicyCheckpoint.prefix + "observations"
        let episodesKey = PolicyCheckpoint.prefix + "episodes"
        if let checkpoint, checkpoint.resume, FileManager.default.fileExists(atPath: checkpoint.url.path) {
            let (position, metadata) = try PolicyCheckpoint.read(from: checkpoint.url, fingerprint: fingerprint, agent: agent,
                                                                 optimizers: [policyOptimizer, valueOptimizer],
                                                                 statistics: &statistics)
            guard PolicyCheckpoint.decode(metadata[environmentKey], into: &envs),
                  let observed = PolicyCheckpoint.decodeFloats(metadata[observationsKey]), observed.count == o.environmentCount * size,
                  let finished = PolicyCheckpoint.decodeEpisodes(metadata[episodesKey]) else {
                throw PolicyCheckpoint.badEnvironments(checkpoint.url)
            }
            current = (0..<o.environmentCount).map { Array(observed[($0 * size)..<(($0 + 1) * size)]) }
            (episodes, rng, timesteps, update, history) = (finished, position.generator, position.timesteps, position.update,
                                                          position.history)
            start = Date(timeIntervalSinceNow: -position.seconds)
        }
        let every = checkpointInterval * (checkpoint?.everyEpochs ?? 1)
        while timesteps < o.totalTimesteps && !(o.stopWhenSolved && statistics.solvedAt != nil) {
            update += 1
            let played = Self.playOneEpisodeEach(agent: agent, environments: &envs, observations: &current,
                                                 generator: &rng) { episode, steps in
                timesteps += steps
                episodes.append(episode)
                statistics.record([episode], timesteps: timesteps, seconds: Date().timeIntervalSince(start))
            }
            timesteps += played.pendingSteps
            let (observations, actions) = (played.observations, played.actions)
            let returns = Self.returnsToGo(played.rewards, gamma: o.gamma)
            let rows = returns.count
            let x = Tensor(shape: [rows, size], scalars: observations.flatMap { $0 })
            let (logits, baseline) = agent(x)
            var advantages = zip(returns, baseline.scalars).map { $0 - $1 }
            if o.normalizeAdvantages && rows > 1 { PPO.normalize(&advantages) }
            let policy = Categorical(logits: logits)
            let policyLoss = -(policy.logProbability(of: actions.flatMap { $0 }) * Tensor(advantages)).mean()
            let valueLoss = (Tensor(returns) - baseline).squared().mean()
            let lossValue = policyLoss.item + valueLoss.item
            guard lossValue.isFinite else { throw ReinforcementLearningError.nonFiniteLoss(update: update, loss: lossValue) }
            policyOptimizer.zeroGrad()
            valueOptimizer.zeroGrad()
            (policyLoss + valueLoss).backward()
            if let maxNorm = o.maxGradientNorm {
                let norm = GradientClipping.clipByGlobalNorm(policyParameters, maxNorm: maxNorm)
                guard norm.isFinite else { throw ReinforcementLearningError.nonFiniteGradient(update: update, norm: norm) }
            }
            policyOptimizer.step()
            valueOptimizer.step()

            let report = PolicyUpdateReport(
                update: update, timesteps: timesteps, episodes: episodes.count, meanReturn: statistics.mean,
                policyLoss: policyLoss.item, valueLoss: valueLoss.item, entropy: policy.entropy().mean().item,
                approximateKL: 0, clipFraction: 0, learningRate: o.learningRate, seconds: Date().timeIntervalSince(start))
            history.append(report)
            onUpdate(report)
            try Checkpointing.endOfStep(checkpoint, step: update, every: every, position: "update \(update)") { url in
                let position = PolicyCheckpoint.Position(generator: rng, timesteps: timesteps, update: update, history: history,
                                                         lastDones: [], seconds: Date().timeIntervalSince(start))
                try PolicyCheckpoint.write(position, fingerprint: fingerprint, agent: agent,
                                           optimizers: [policyOptimizer, valueOptimizer],
                                           environments: [environmentKey: PolicyCheckpoint.encode(envs),
                                                          observationsKey: PolicyCheckpoint.encode(current.flatMap { $0 }),
                                                          episodesKey: PolicyCheckpoint.encode(episodes)],
                                           statistics: statistics, to: url)
            }
        }
        return PolicyTrainingResult(agent: agent, environment: environment, history: history, episodes: episodes,
                                    solvedAt: statistics.solvedAt, seconds: Date().timeIntervalSince(start))
    }

    /// One episode on every copy, all copies stepping together until the last one ends. `episodeEnded` gets each
    /// finished episode and the steps taken (by all copies) since the previous call, in the order they happen;
    /// `pendingSteps` are those after the last one.
    private static func playOneEpisodeEach(agent: ActorCritic, environments envs: inout [any Environment],
                                           observations current: inout [[Float]], generator rng: inout RandomGenerator,
                                           episodeEnded: (VectorEnvironment.Episode, Int) -> Void)
        -> (observations: [[Float]], actions: [[Int]], rewards: [[Float]], pendingSteps: Int) {
        let count = envs.count, size = envs[0].observationSize
        var observations = [[Float]](repeating: [], count: count)
        var actions = [[Int]](repeating: [], count: count)
        var rewards = [[Float]](repeating: [], count: count)
        var running = Array(0..<count)
        var steps = 0
        while !running.isEmpty {
            let x = Tensor(shape: [running.count, size], scalars: running.flatMap { current[$0] })
            let chosen = Categorical(logits: noGrad { agent.logits(x) }).sample(generator: &rng)
            var stillRunning: [Int] = []
            for (row, i) in running.enumerated() {
                observations[i] += current[i]
                actions[i].append(chosen[row])
                let step = envs[i].step(chosen[row])
                rewards[i].append(Float(step.reward))
                steps += 1
                if step.isDone {
                    episodeEnded(VectorEnvironment.Episode(totalReward: rewards[i].reduce(0) { $0 + Double($1) },
                                                           length: rewards[i].count), steps)
                    steps = 0
                    current[i] = envs[i].reset(seed: nil)
                } else {
                    current[i] = step.observation
                    stillRunning.append(i)
                }
            }
            running = stillRunning
        }
        return (observations, actions, rewards, steps)
    }

    /// Returns to go, G_t = r_t + γ G_{t+1}, within each episode (a truncated episode is treated as ended),
    /// the episodes one after another.
    static func returnsToGo(_ rewards: [[Float]], gamma: Float) -> [Float] {
        var returns: [Float] = []
        for episode in rewards {
            var g: Float = 0
            var episodeReturns = [Float](repeating: 0, count: episode.count)
            for t in stride(from: episode.count - 1, through: 0, by: -1) {
                g = episode[t] + gamma * g
                episodeReturns[t] = g
            }
            returns += episodeReturns
        }
        return returns
    }
}
