import Foundation

/// A trained agent on disk: the `ActorCritic` state dict (stable-baselines3's key names) in safetensors, with the
/// environment, the algorithm and the network's widths in the metadata, so `synapse play` rebuilds it unaided.
public enum PolicyFile {
    public static let environmentKey = "synapse.environment"
    public static let algorithmKey = "synapse.algorithm"
    public static let hiddenKey = "synapse.hidden"

    /// What a policy file says about itself.
    public struct Info: Sendable, Equatable {
        public var environment: String
        public var algorithm: String
        public var observationSize: Int
        public var actionCount: Int
        public var hidden: [Int]
    }

    public static func save(_ agent: ActorCritic, environment: EnvironmentKind, algorithm: String, to url: URL) throws {
        try agent.save(to: url, metadata: ModelFile.metadata([
            environmentKey: environment.gymnasiumID, algorithmKey: algorithm,
            hiddenKey: agent.hidden.map(String.init).joined(separator: ","),
        ]))
    }

    /// Reads the agent in `url` and checks it fits `environment`: a policy for another environment (another
    /// observation or action size) is refused with both shapes named.
    public static func load(from url: URL, for environment: EnvironmentKind) throws -> (agent: ActorCritic, info: Info) {
        let name = url.lastPathComponent
        let file = try SafeTensorsFile(contentsOf: url)
        guard let hiddenText = file.metadata[hiddenKey] else {
            throw ReinforcementLearningError.notAPolicy(file: name, reason: "no '\(hiddenKey)' in the metadata")
        }
        let hidden = hiddenText.split(separator: ",").compactMap { Int($0) }
        guard !hidden.isEmpty, hidden.count == hiddenText.split(separator: ",").count, hidden.allSatisfy({ $0 > 0 && $0 <= 65_536 })
        else { throw ReinforcementLearningError.notAPolicy(file: name, reason: "'\(hiddenKey)' is '\(hiddenText)'") }
        let firstKey = "mlp_extractor.policy_net.0.weight", headKey = "action_net.weight"
        guard let first = file.tensors[firstKey], first.shape.count == 2,
              let head = file.tensors[headKey], head.shape.count == 2 else {
            throw ReinforcementLearningError.notAPolicy(file: name, reason: "no 2-D '\(firstKey)' and '\(headKey)'")
        }
        let info = Info(environment: file.metadata[environmentKey] ?? "?", algorithm: file.metadata[algorithmKey] ?? "?",
                        observationSize: first.shape[1], actionCount: head.shape[0], hidden: hidden)
        let probe = environment.make()
        guard info.observationSize == probe.observationSize && info.actionCount == probe.actionCount else {
            throw ReinforcementLearningError.policyMismatch(
                file: name,
                expected: "\(probe.observationSize) observations → \(probe.actionCount) actions (\(environment.gymnasiumID))",
                found: "\(info.observationSize) observations → \(info.actionCount) actions (\(info.environment))")
        }
        guard info.actionCount > 1 else {
            throw ReinforcementLearningError.notAPolicy(file: name, reason: "\(info.actionCount) actions")
        }
        var rng = RandomGenerator(seed: 0)
        let agent = ActorCritic(observationSize: info.observationSize, actionCount: info.actionCount, hidden: hidden,
                                generator: &rng)
        try ModelFile.loadWeights(of: file, into: agent, name: name)
        return (agent, info)
    }
}
