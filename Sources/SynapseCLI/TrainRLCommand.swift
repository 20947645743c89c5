import ArgumentParser
import Foundation
import Synapse

struct TrainRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl",
        abstract: "Reinforcement learning: an agent learns to act in CartPole-v1 or Acrobot-v1 from rewards alone.",
        discussion: """
            PPO's defaults are rl-baselines3-zoo's tuned settings (CartPole: 8 environments × 32 steps, 20 epochs, \
            γ 0.98, GAE λ 0.8, learning rate and clip range decaying from 1e-3 and 0.2 over 100k steps). After \
            training, the greedy policy is evaluated on --eval-episodes fresh episodes. Writes to --out: \
            policy.safetensors (for `synapse play`), history.csv (one line per update) and returns.svg.
            """)

    @Option(help: "Environment: \(EnvironmentKind.allCases.map { "\($0.rawValue) (\($0.gymnasiumID))" }.joined(separator: ", ")).")
    var env: String = "cartpole"

    @Option(help: "Algorithm: \(RLAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")).")
    var algorithm: String = "ppo"

    @Option(help: "Random seed (environments, initial weights, sampling).") var seed: UInt64 = 0
    @Option(help: "Environment steps to train for (default: 100000 for PPO on CartPole, 200000 on Acrobot; REINFORCE 500000, stopping once solved).")
    var timesteps: Int?
    @Option(help: "Copies of the environment stepped together (default: the algorithm's).") var envs: Int?
    @Option(help: "Learning rate (default: the algorithm's).") var lr: Float?
    @Option(help: "Greedy evaluation episodes after training.") var evalEpisodes: Int = 100
    @Option(help: "Directory for the policy and the report (default: runs/rl/ENV-ALGORITHM).") var out: String?
    @Flag(help: "Plain progress lines even on a terminal.") var plain = false
    @Flag(help: "End with one JSON line of the figures (for scripts).") var json = false
    @Option(help: "Write --out/checkpoint.safetensors after every N updates (and when stopped by Ctrl-C or SIGTERM).")
    var checkpointEvery: Int = 10
    @Flag(help: "Continue the run whose checkpoint is in --out (same settings), ending as if it had never stopped.")
    var resume = false

    func validate() throws {
        _ = try environment()
        _ = try chosenAlgorithm()
        if let timesteps, timesteps <= 0 || timesteps > 1_000_000_000 { throw ValidationError("--timesteps must be in 1...1000000000, got \(timesteps)") }
        if let envs, envs <= 0 || envs > 4096 { throw ValidationError("--envs must be in 1...4096, got \(envs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard evalEpisodes >= 0 && evalEpisodes <= 100_000 else { throw ValidationError("--eval-episodes must be in 0...100000, got \(evalEpisodes)") }
        try OptionLimits.check("--checkpoint-every", checkpointEvery, limit: 1_000_000)
    }

    func environment() throws -> EnvironmentKind {
        guard let kind = EnvironmentKind(name: env) else {
            throw ValidationError("unknown environment '\(env)'; choose one of: \(EnvironmentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }

    func chosenAlgorithm() throws -> RLAlgorithm {
        guard let choice = RLAlgorithm(rawValue: algorithm.lowercased()) else {
            throw ValidationError("unknown algorithm '\(algorithm)'; choose one of: \(RLAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice
    }

    func run() throws {
        let kind = try environment(), choice = try chosenAlgorithm()
        let outURL = URL(fileURLWithPath: out ?? "runs/rl/\(kind.rawValue)-\(choice.rawValue)")
        try AtomicFile.checkWritable(directory: outURL)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let policy = try CheckpointOptions.checkpointing(in: outURL.path, every: checkpointEvery, resume: resume)

        let total: Int
        let trainer: (inout (PolicyUpdateReport) -> Void) throws -> PolicyTrainingResult
        switch choice {
        case .ppo:
            var options = PPO.Options.defaults(for: kind, seed: seed)
            if let timesteps { options.totalTimesteps = timesteps }
            if let envs { options.environmentCount = envs; options.minibatchSize = min(options.minibatchSize, envs * options.stepsPerEnvironment) }
            if let lr { options.learningRate = lr }
            total = options.totalTimesteps
            print("PPO on \(kind.gymnasiumID): \(options.environmentCount) environments × \(options.stepsPerEnvironment) steps per update, \(options.epochs) epochs of \(options.minibatchSize), γ \(options.gamma), λ \(options.gaeLambda), lr \(options.learningRate)\(options.linearDecay ? " (linear decay)" : ""), \(total) steps, seed \(seed)")
            let ppo = PPO(options: options)
            trainer = { onUpdate in
                try exitingOnInterrupt { try ppo.train(on: kind, checkpoint: policy, checkpointInterval: 1, onUpdate: onUpdate) }
            }
        case .reinforce:
            var options = REINFORCE.Options(seed: seed)
            if let timesteps { options.totalTimesteps = timesteps }
            if let envs { options.environmentCount = envs }
            if let lr { options.learningRate = lr }
            total = options.totalTimesteps
            print("REINFORCE with a learned baseline on \(kind.gymnasiumID): \(options.environmentCount) episodes per update, γ \(options.gamma), lr \(options.learningRate), up to \(total) steps\(options.stopWhenSolved ? " (stops when solved)" : ""), seed \(seed)")
            let reinforce = REINFORCE(options: options)
            trainer = { onUpdate in
                try exitingOnInterrupt {
                    try reinforce.train(on: kind, checkpoint: policy, checkpointInterval: 1, onUpdate: onUpdate)
                }
            }
        }

        let bar = ProgressBar(total: total, label: choice.rawValue, mode: plain ? .plain : .automatic, unit: "step",
                              plainReportFraction: 0.1)
        var onUpdate: (PolicyUpdateReport) -> Void = { report in
            bar.set("return", report.meanReturn)
            bar.set("episodes", String(report.episodes))
            bar.update(completed: min(report.timesteps, total))
        }
        let result = try trainer(&onUpdate)
        bar.finish()
        let last = result.history.last
        if let solved = result.solvedAt {
            print(String(format: "solved: the mean of the last 100 episodes reached %.0f after %d steps, %.2f s", kind.solvedThreshold, solved.timesteps, solved.seconds))
        } else {
            print(String(format: "not solved while training: the mean of the last 100 episodes is %.1f (threshold %.0f)", last?.meanReturn ?? .nan, kind.solvedThreshold))
        }
        print(String(format: "trained %d steps (%d episodes, %d updates) in %.2f s", last?.timesteps ?? 0, last?.episodes ?? 0, result.history.count, result.seconds))

        var evaluationMean = Double.nan
        if evalEpisodes > 0 {
            let returns = evaluatePolicy(result.agent, environment: kind, episodes: evalEpisodes)
            evaluationMean = returns.reduce(0, +) / Double(returns.count)
            let std = (returns.map { ($0 - evaluationMean) * ($0 - evaluationMean) }.reduce(0, +) / Double(returns.count)).squareRoot()
            print(String(format: "evaluation (greedy, %d episodes): mean return %.1f ± %.1f, min %.0f, max %.0f — %@", returns.count, evaluationMean, std,
                         returns.min()!, returns.max()!, evaluationMean >= kind.solvedThreshold ? "solved" : "not solved"))
        }

        try PolicyFile.save(result.agent, environment: kind, algorithm: choice.rawValue, to: outURL.appendingPathComponent("policy.safetensors"))
        try AtomicFile.write(text: result.historyCSV, to: outURL.appendingPathComponent("history.csv"))
        try result.returnChart(title: "\(choice.title) on \(kind.gymnasiumID), seed \(seed)").write(to: outURL.appendingPathComponent("returns.svg").path)
        print("wrote " + ["policy.safetensors", "history.csv", "returns.svg"].map { relative(outURL.appendingPathComponent($0).path) }.joined(separator: ", "))
        if json {
            var fields: [String] = [
                "\"environment\": \"\(kind.gymnasiumID)\"", "\"algorithm\": \"\(choice.rawValue)\"", "\"seed\": \(seed)",
                "\"timesteps\": \(last?.timesteps ?? 0)", "\"seconds\": \(result.seconds)",
                "\"evaluation_mean_return\": \(evaluationMean.isFinite ? String(evaluationMean) : "null")",
            ]
            fields.append("\"solved_timesteps\": \(result.solvedAt.map { String($0.timesteps) } ?? "null")")
            fields.append("\"solved_seconds\": \(result.solvedAt.map { String($0.seconds) } ?? "null")")
            print("{" + fields.joined(separator: ", ") + "}")
        }
    }
}

/// The `--algorithm` names.
enum RLAlgorithm: String, CaseIterable {
    case ppo, reinforce
    var title: String { self == .ppo ? "PPO" : "REINFORCE" }
}

/// Creates `url` and checks it can be written before any work starts (a run should not end in "cannot write").
