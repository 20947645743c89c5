import ArgumentParser
import Foundation
import Synapse

struct RLBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl",
        abstract: "PPO on CartPole-v1 with rl-baselines3-zoo's settings: steps and seconds until solved, per seed.",
        discussion: """
            "Solved" is the moment the mean return of the last 100 training episodes first reaches 475, as SB3's \
            ep_rew_mean would show it; training continues to --timesteps and the greedy policy is then evaluated on \
            100 episodes (not timed). scripts/bench_rl.py runs stable-baselines3 beside it.
            """)

    @Option(help: "Environment.") var env: String = "cartpole"
    @Option(help: "Comma-separated seeds.") var seeds: String = "0,1,2,3,4"
    @Option(help: "Environment steps per run (default: the zoo's budget).") var timesteps: Int?
    @Flag(help: "Print one JSON line per seed.") var json = false

    func run() throws {
        guard let kind = EnvironmentKind(name: env) else {
            throw ValidationError("unknown environment '\(env)'; choose one of: \(EnvironmentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let seedList = try seeds.split(separator: ",").map { raw -> UInt64 in
            guard let seed = UInt64(raw.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(raw)' is not a seed") }
            return seed
        }
        guard !seedList.isEmpty else { throw ValidationError("--seeds: give at least one seed") }
        if let timesteps, timesteps <= 0 { throw ValidationError("--timesteps must be positive, got \(timesteps)") }
        warnIfDebug()
        if !json { print("seed  solved at (steps)  solved at (s)  total (s)  evaluation") }
        for seed in seedList {
            var options = PPO.Options.defaults(for: kind, seed: seed)
            if let timesteps { options.totalTimesteps = timesteps }
            let run = try PPO(options: options).train(on: kind)
            let returns = evaluatePolicy(run.agent, environment: kind)
            let mean = returns.reduce(0, +) / Double(returns.count)
            let steps = run.history.last?.timesteps ?? 0
            if json {
                print("{\"implementation\": \"synapse\", \"environment\": \"\(kind.gymnasiumID)\", \"seed\": \(seed), \"timesteps\": \(steps), \"seconds\": \(run.seconds), \"solved_timesteps\": \(run.solvedAt.map { String($0.timesteps) } ?? "null"), \"solved_seconds\": \(run.solvedAt.map { String($0.seconds) } ?? "null"), \"evaluation_mean_return\": \(mean)}")
            } else {
                print(String(format: "%4d  %17@  %13@  %9.2f  %.1f", Int(seed), run.solvedAt.map { String($0.timesteps) } ?? "—",
                             run.solvedAt.map { String(format: "%.2f", $0.seconds) } ?? "—", run.seconds, mean))
            }
        }
    }
}
