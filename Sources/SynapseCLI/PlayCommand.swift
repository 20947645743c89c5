import ArgumentParser
import Foundation
import Synapse

struct PlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Run one episode with a trained policy, print its return and draw it as an animated SVG.",
        discussion: """
            The policy acts greedily (its most probable action). The SVG animates the episode in real time and shows \
            a strip of still frames beneath; open it in a browser.
            """)

    @Option(help: "Environment: \(EnvironmentKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var env: String = "cartpole"

    @Option(help: "Policy written by `synapse train rl` (policy.safetensors).")
    var model: String

    @Option(help: "Seed of the episode's initial state.") var seed: UInt64 = 0
    @Option(help: "Where to write the animation (default: next to the model, episode.svg).") var out: String?

    func run() throws {
        guard let kind = EnvironmentKind(name: env) else {
            throw ValidationError("unknown environment '\(env)'; choose one of: \(EnvironmentKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let url = URL(fileURLWithPath: model)
        let (agent, info) = try PolicyFile.load(from: url, for: kind)
        let episode = PlayedEpisode.play(kind, agent: agent, seed: seed)
        print("\(kind.gymnasiumID), \(info.algorithm) policy, seed \(seed): return \(episode.totalReward) in \(episode.length) steps (\(episode.terminated ? "terminated" : "reached the time limit"))")
        let target = out.map { URL(fileURLWithPath: $0) } ?? url.deletingLastPathComponent().appendingPathComponent("episode.svg")
        try AtomicFile.write(text: episode.svg(), to: target)
        print("wrote \(relative(target.path))")
    }
}
