import Foundation

/// Proximal policy optimisation (Schulman et al. 2017), as stable-baselines3 implements it.
///
/// Each update collects `stepsPerEnvironment` steps from every copy of the environment with the current policy, then
/// improves the policy on that batch for several epochs of minibatches. Three ideas keep it stable:
/// - **advantages by GAE(λ)**: Â_t = Σ (γλ)^k δ_{t+k}, with δ_t = r_t + γ·V(s_{t+1}) − V(s_t), a blend of one-step
///   and Monte-Carlo estimates of how much better the action was than the value function expected;
/// - **the clipped surrogate**: maximise E[min(ρ·Â, clip(ρ, 1 − ε, 1 + ε)·Â)] with ρ = π(a|s) / π_old(a|s), so an
///   update gains nothing by moving the policy far from the one that collected the data;
/// - a **value head** trained on the returns (Â + V) beside it, an optional entropy bonus, advantages normalised per
///   minibatch, and gradients clipped to a global norm.
///
/// The defaults are rl-baselines3-zoo's tuned CartPole-v1 settings (8 copies × 32 steps, 20 epochs, γ 0.98, λ 0.8,
/// learning rate and clip range decaying linearly from 1e-3 and 0.2), so a comparison with SB3 runs the same algorithm.
///
/// ```swift
/// let run = try PPO(options: .init(seed: 0)).train(on: .cartpole)
/// evaluatePolicy(run.agent, environment: .cartpole).reduce(0, +) / 100    // ≈ 500
/// ```
public struct PPO: Sendable {
    public struct Options: Sendable {
        public var environmentCount = 8
        public var stepsPerEnvironment = 32
        public var minibatchSize = 256
        public var epochs = 20
        public var gamma: Float = 0.98
        public var gaeLambda: Float = 0.8
        public var clipRange: Float = 0.2
        public var learningRate: Float = 1e-3
        /// Both the learning rate and the clip range fall linearly to 0 over `totalTimesteps` (zoo's `lin_` schedules).
        public var linearDecay = true
        public var entropyCoefficient: Float = 0
        public var valueCoefficient: Float = 0.5
        public var maxGradientNorm: Float = 0.5
        public var normalizeAdvantages = true
        public var totalTimesteps = 100_000
        public var hidden = [64, 64]
        public var seed: UInt64 = 0

        public init(seed: UInt64 = 0) { self.seed = seed }

        /// The settings that solve each environment: CartPole's are the zoo's; Acrobot learns with more copies and
        /// longer rollouts (16 × 256 steps, 4 epochs of 64-sample minibatches, γ 0.99, λ 0.94, as the zoo has them,
        /// without its observation normalisation) for 200k steps.
        public static func defaults(for environment: EnvironmentKind, seed: UInt64 = 0) -> Options {
            var options = Options(seed: seed)
            if environment == .acrobot {
                options.environmentCount = 16
                options.stepsPerEnvironment = 256
                options.minibatchSize = 64
                options.epochs = 4
                options.gamma = 0.99
                options.gaeLambda = 0.94
                options.learningRate = 3e-4
                options.linearDecay = false
                options.totalTimesteps = 200_000
            }
            return options
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        precondition(options.environmentCount > 0 && options.stepsPerEnvironment > 0 && options.minibatchSize > 0
                     && options.epochs > 0 && options.totalTimesteps > 0,
                     "PPO: counts must be positive (environments \(options.environmentCount), steps \(options.stepsPerEnvironment), minibatch \(options.minibatchSize), epochs \(options.epochs), timesteps \(options.totalTimesteps))")
        self.options = options
    }

    /// Trains a fresh agent on `environment`; `onUpdate` sees every update's report (for a progress display).
    ///
    /// With `checkpoint`, everything the run acts on (agent, Adam's moments, the generator, every environment copy
    /// mid-episode, the rollout's episode starts, the statistics and history) is written after every
    /// `checkpoint.everyEpochs` × `checkpointInterval` updates and when SIGINT/SIGTERM stops the run after an update
    /// (`TrainingError.interrupted`); with `resume` it continues from there and ends with the weights an
    /// uninterrupted run has, bit for bit. Errors: `ReinforcementLearningError` (a non-finite loss or gradient),
    /// `TrainingError` (interrupted, a checkpoint of another run), or the checkpoint file's own.
    public func train(on environment: EnvironmentKind, checkpoint: Checkpointing? = nil, checkpointInterval: Int = 10,
                      onUpdate: (PolicyUpdateReport) -> Void = { _ in }) throws -> PolicyTrainingResult {
        // Every product here is tiny ([256, 64] at most): OpenBLAS's threads would spend more time waking and
        // yielding than multiplying, so the run stays on one core.
        try BLASThreads.single {
            try trainOnOneCore(on: environment, checkpoint: checkpoint, checkpointInterval: checkpointInterval,
                               onUpdate: onUpdate)
        }
    }

    private func trainOnOneCore(on environment: EnvironmentKind, checkpoint: Checkpointing?, checkpointInterval: Int,
                                onUpdate: (PolicyUpdateReport) -> Void) throws -> PolicyTrainingResult {
        let o = options
        var rng = RandomGenerator(seed: o.seed)
        let envs = VectorEnvironment(environment, count: o.environmentCount, seed: o.seed)
        let agent = ActorCritic(observationSize: envs.observationSize, actionCount: envs.actionCount, hidden: o.hidden,
                                generator: &rng)
        let optimizer = Adam(parameters: agent.parameters(), learningRate: o.learningRate, epsilon: 1e-5)
        var rollout = Rollout(environments: o.environmentCount, steps: o.stepsPerEnvironment, size: envs.observationSize)
        var statistics = EpisodeStatistics(threshold: environment.solvedThreshold)
        var history: [PolicyUpdateReport] = []
        var timesteps = 0
        var start = Date()
        var update = 0
        let fingerprint = "ppo \(environment.rawValue) seed \(o.seed) timesteps \(o.totalTimesteps) copies \(o.environmentCount) steps \(o.stepsPerEnvironment) lr \(o.learningRate.bitPattern) hidden \(o.hidden)"
        if let checkpoint, checkpoint.resume, FileManager.default.fileExists(atPath: checkpoint.url.path) {
            let (position, metadata) = try PolicyCheckpoint.read(from: checkpoint.url, fingerprint: fingerprint, agent: agent,
                                                                 optimizers: [optimizer], statistics: &statistics)
            guard envs.restore(from: metadata, prefix: PolicyCheckpoint.prefix + "env.") else {
                throw PolicyCheckpoint.badEnvironments(checkpoint.url)
            }
            (rng, timesteps, update, history, rollout.lastDones) = (position.generator, position.timesteps, position.update,
                                                                  position.history, position.lastDones)
            guard rollout.lastDones.count == o.environmentCount else {
                throw TrainingError.badCheckpoint(path: checkpoint.url.lastPathComponent, reason: "it has \(rollout.lastDones.count) environment copies, this run \(o.environmentCount)")
            }
            start = Date(timeIntervalSinceNow: -position.seconds)
        }
        let every = checkpointInterval * (checkpoint?.everyEpochs ?? 1)
        while timesteps < o.totalTimesteps {
            update += 1
            let seen = envs.finishedEpisodes.count
            timesteps += rollout.collect(agent: agent, environments: envs, gamma: o.gamma, generator: &rng)
            let lastValues = noGrad {
                agent(Tensor(shape: [rollout.environments, rollout.size], scalars: envs.observations)).values.scalars
            }
            Self.generalizedAdvantages(rewards: rollout.rewards, values: rollout.values,
                                       episodeStarts: rollout.episodeStarts, lastValues: lastValues,
                                       lastDones: rollout.lastDones, environments: rollout.environments,
                                       gamma: o.gamma, lambda: o.gaeLambda, into: &rollout.advantages)
            statistics.record(envs.finishedEpisodes[seen...], timesteps: timesteps, seconds: Date().timeIntervalSince(start))

            let progressRemaining = Swift.max(0, 1 - Float(timesteps) / Float(o.totalTimesteps))
            let learningRate = o.linearDecay ? o.learningRate * progressRemaining : o.learningRate
            let clip = o.linearDecay ? o.clipRange * progressRemaining : o.clipRange
            optimizer.learningRate = learningRate
            let means = try learn(from: rollout, agent: agent, optimizer: optimizer, clip: clip, update: update,
                                  generator: &rng)
            let report = PolicyUpdateReport(
                update: update, timesteps: timesteps, episodes: envs.finishedEpisodes.count, meanReturn: statistics.mean,
                policyLoss: means.policy, valueLoss: means.value, entropy: means.entropy,
                approximateKL: means.kl, clipFraction: means.clipped, learningRate: learningRate,
                seconds: Date().timeIntervalSince(start))
            history.append(report)
            onUpdate(report)
            try Checkpointing.endOfStep(checkpoint, step: update, every: every, position: "update \(update)") { url in
                let position = PolicyCheckpoint.Position(generator: rng, timesteps: timesteps, update: update,
                                                         history: history, lastDones: rollout.lastDones,
                                                         seconds: Date().timeIntervalSince(start))
                try PolicyCheckpoint.write(position, fingerprint: fingerprint, agent: agent, optimizers: [optimizer],
                                           environments: envs.checkpointMetadata(prefix: PolicyCheckpoint.prefix + "env."),
                                           statistics: statistics, to: url)
            }
        }
        return PolicyTrainingResult(agent: agent, environment: environment, history: history,
                                    episodes: envs.finishedEpisodes, solvedAt: statistics.solvedAt,
                                    seconds: Date().timeIntervalSince(start))
    }

    /// Learn: `epochs` passes of shuffled minibatches over the rollout, each the clipped surrogate plus the value
    /// and entropy terms, stopping on a non-finite loss or gradient norm. Returns the mean losses, approximate KL and
    /// clip fraction over the minibatches.
    private func learn(from rollout: Rollout, agent: ActorCritic, optimizer: Optimizer, clip: Float, update: Int,
                       generator rng: inout RandomGenerator) throws(ReinforcementLearningError)
        -> (policy: Float, value: Float, entropy: Float, kl: Float, clipped: Float) {
        let o = options
        let (batch, size) = (rollout.count, rollout.size)
        let returns = zip(rollout.advantages, rollout.values).map { $0 + $1 }
        let parameters = agent.parameters()
        var sums = (policy: Float(0), value: Float(0), entropy: Float(0), kl: Float(0), clipped: Float(0), count: 0)
        for _ in 0..<o.epochs {
            var order = Array(0..<batch)
            order.shuffle(using: &rng)
            for first in stride(from: 0, to: batch, by: o.minibatchSize) {
                let rows = Array(order[first..<Swift.min(first + o.minibatchSize, batch)])
                var x = [Float](), oldLogp = [Float](), adv = [Float](), target = [Float](), chosen = [Int]()
                x.reserveCapacity(rows.count * size)
                for r in rows {
                    x += rollout.observations[r * size..<(r + 1) * size]
                    oldLogp.append(rollout.logProbabilities[r])
                    adv.append(rollout.advantages[r])
                    target.append(returns[r])
                    chosen.append(rollout.actions[r])
                }
                if o.normalizeAdvantages && adv.count > 1 { Self.normalize(&adv) }
                let (logits, predicted) = agent(Tensor(shape: [rows.count, size], scalars: x))
                let policy = Categorical(logits: logits)
                let ratio = (policy.logProbability(of: chosen) - Tensor(oldLogp)).exp()
                let advantage = Tensor(adv)
                let surrogate = Tensor.minimum(advantage * ratio, advantage * ratio.clamped(min: 1 - clip, max: 1 + clip))
                let policyLoss = -surrogate.mean()
                let valueLoss = (Tensor(target) - predicted).squared().mean()
                let entropy = policy.entropy().mean()
                let loss = policyLoss - o.entropyCoefficient * entropy + o.valueCoefficient * valueLoss
                let lossValue = loss.item
                guard lossValue.isFinite else { throw .nonFiniteLoss(update: update, loss: lossValue) }
                optimizer.zeroGrad()
                loss.backward()
                let norm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: o.maxGradientNorm)
                guard norm.isFinite else { throw .nonFiniteGradient(update: update, norm: norm) }
                optimizer.step()

                let r = ratio.scalars
                sums.policy += policyLoss.item
                sums.value += valueLoss.item
                sums.entropy += entropy.item
                sums.kl += r.reduce(0) { $0 + ($1 - 1) - Foundation.log($1) } / Float(r.count)
                sums.clipped += Float(r.filter { abs($0 - 1) > clip }.count) / Float(r.count)
                sums.count += 1
            }
        }
        let count = Float(sums.count)
        return (sums.policy / count, sums.value / count, sums.entropy / count, sums.kl / count, sums.clipped / count)
    }

    /// One rollout of `steps` transitions in each of `environments` environments, laid out [steps, environments]
    /// (observations [steps, environments, size]), with what the policy did and expected at each.
    struct Rollout {
        let environments: Int, steps: Int, size: Int
        var observations: [Float]
        var actions: [Int]
        /// Rewards, with γ·V(final observation) added where an episode was cut off by the time limit.
        var rewards: [Float]
        /// 1 where the step began a new episode.
        var episodeStarts: [Float]
        var values: [Float]
        var logProbabilities: [Float]
        var advantages: [Float]
        /// Whether each environment's last step ended its episode (1 before the first rollout).
        var lastDones: [Float]

        var count: Int { environments * steps }

        init(environments n: Int, steps: Int, size: Int) {
            (self.environments, self.steps, self.size) = (n, steps, size)
            observations = [Float](repeating: 0, count: n * steps * size)
            actions = [Int](repeating: 0, count: n * steps)
            (rewards, episodeStarts, values) = ([Float](repeating: 0, count: n * steps),
                                                [Float](repeating: 0, count: n * steps),
                                                [Float](repeating: 0, count: n * steps))
            (logProbabilities, advantages) = ([Float](repeating: 0, count: n * steps), [Float](repeating: 0, count: n * steps))
            lastDones = [Float](repeating: 1, count: n)
        }

        /// Collect: act `steps` times in every environment with the current policy; returns the transitions taken.
        mutating func collect(agent: ActorCritic, environments envs: VectorEnvironment, gamma: Float,
                              generator rng: inout RandomGenerator) -> Int {
            let n = environments
            for t in 0..<steps {
                let x = Tensor(shape: [n, size], scalars: envs.observations)
                let (logits, stateValues) = noGrad { agent(x) }
                let policy = Categorical(logits: logits)
                let chosen = policy.sample(generator: &rng)
                let chosenLogp = policy.logProbabilities.scalars
                let v = stateValues.scalars
                let base = t * n
                observations.replaceSubrange(base * size..<(base + n) * size, with: envs.observations)
                let (stepRewards, dones, truncations) = envs.step(chosen)
                for i in 0..<n {
                    actions[base + i] = chosen[i]
                    logProbabilities[base + i] = chosenLogp[i * envs.actionCount + chosen[i]]
                    values[base + i] = v[i]
                    episodeStarts[base + i] = lastDones[i]
                    var reward = Float(stepRewards[i])
                    if truncations[i], let final = envs.finalObservations[i] {
                        // Cut off by the time limit, not failed: the state still had value; bootstrap from it.
                        let finalValue = noGrad { agent(Tensor(shape: [1, size], scalars: final)).values.item }
                        reward += gamma * finalValue
                    }
                    rewards[base + i] = reward
                    lastDones[i] = dones[i] ? 1 : 0
                }
            }
            return n * steps
        }
    }

    /// GAE(λ) over a rollout laid out [steps, environments], backwards in time as SB3's `RolloutBuffer` does.
    /// `episodeStarts[t]` is 1 where step t began a new episode; `lastDones` says whether the step after the rollout
    /// does.
    static func generalizedAdvantages(rewards: [Float], values: [Float], episodeStarts: [Float], lastValues: [Float],
                                      lastDones: [Float], environments n: Int, gamma: Float, lambda: Float,
                                      into advantages: inout [Float]) {
        let steps = rewards.count / n
        for i in 0..<n {
            var running: Float = 0
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let (nextNonTerminal, nextValue) = t == steps - 1
                    ? (1 - lastDones[i], lastValues[i])
                    : (1 - episodeStarts[(t + 1) * n + i], values[(t + 1) * n + i])
                let index = t * n + i
                let delta = rewards[index] + gamma * nextValue * nextNonTerminal - values[index]
                running = delta + gamma * lambda * nextNonTerminal * running
                advantages[index] = running
            }
        }
    }

    /// (a − mean) / (std + 1e-8) with the unbiased standard deviation, as SB3 normalises advantages.
    static func normalize(_ values: inout [Float]) {
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count - 1)
        let scale = 1 / (variance.squareRoot() + 1e-8)
        for i in values.indices { values[i] = (values[i] - mean) * scale }
    }
}
