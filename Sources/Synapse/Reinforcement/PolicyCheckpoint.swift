import Foundation

/// A policy-gradient run's checkpoint: the agent and optimizer as tensors (`TrainingCheckpoint.modelState`), the rest
/// as metadata in bit patterns, so a resumed run takes the very actions the uninterrupted one would.
enum PolicyCheckpoint {
    static let prefix = TrainingCheckpoint.prefix + "rl."

    /// Where a run stands after an update.
    struct Position {
        var generator: RandomGenerator
        var timesteps: Int
        var update: Int
        var history: [PolicyUpdateReport]
        /// Whether each copy's last step ended an episode (the next rollout's episode starts).
        var lastDones: [Float]
        var seconds: Double
    }

    static func write(_ position: Position, fingerprint: String, agent: ActorCritic, optimizer: Optimizer,
                      environments: VectorEnvironment, statistics: EpisodeStatistics, to url: URL) throws {
        var (tensors, metadata) = TrainingCheckpoint.modelState(agent, optimizer)
        metadata.merge(environments.checkpointMetadata(prefix: prefix + "env.")) { $1 }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        metadata[prefix + "history"] = String(decoding: try encoder.encode(position.history), as: UTF8.self)
        metadata[prefix + "fingerprint"] = fingerprint
        metadata[prefix + "generator"] = TrainingCheckpoint.encode(position.generator)
        metadata[prefix + "timesteps"] = String(position.timesteps)
        metadata[prefix + "update"] = String(position.update)
        metadata[prefix + "last_dones"] = position.lastDones.map { $0 == 0 ? "0" : "1" }.joined(separator: ",")
        metadata[prefix + "seconds"] = String(position.seconds)
        metadata[prefix + "recent"] = statistics.recent.map { String($0.bitPattern) }.joined(separator: ",")
        metadata[prefix + "sum"] = String(statistics.sum.bitPattern)
        if let solved = statistics.solvedAt { metadata[prefix + "solved"] = "\(solved.timesteps):\(solved.seconds)" }
        try SafeTensorsFile(floatTensors: tensors, metadata: metadata).write(to: url)
    }

    static func read(from url: URL, fingerprint: String, agent: ActorCritic, optimizer: Optimizer,
                     environments: VectorEnvironment, statistics: inout EpisodeStatistics) throws -> Position {
        let name = url.lastPathComponent
        let file = try SafeTensorsFile(contentsOf: url)
        let m = file.metadata
        func bad(_ reason: String) -> TrainingError { .badCheckpoint(path: name, reason: reason) }
        guard m[prefix + "fingerprint"] == fingerprint else {
            throw bad("it was written by \(m[prefix + "fingerprint"] ?? "another kind of run"); this run is \(fingerprint) (resume with the same settings, or start afresh without --resume)")
        }
        guard let words = TrainingCheckpoint.decodeGeneratorState(m[prefix + "generator"]),
              let timesteps = m[prefix + "timesteps"].flatMap(Int.init), timesteps >= 0,
              let update = m[prefix + "update"].flatMap(Int.init), update >= 0,
              let seconds = m[prefix + "seconds"].flatMap(Double.init),
              let sumBits = m[prefix + "sum"].flatMap(UInt64.init) else { throw bad("its position is incomplete") }
        let lastDones = (m[prefix + "last_dones"] ?? "").split(separator: ",").compactMap { $0 == "1" ? Float(1) : $0 == "0" ? 0 : nil }
        let recentParts = (m[prefix + "recent"] ?? "").split(separator: ",")
        let recent = recentParts.compactMap { UInt64($0) }.map(Double.init(bitPattern:))
        guard recent.count == recentParts.count, recent.count <= 100 else { throw bad("its episode statistics do not parse") }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let history: [PolicyUpdateReport]
        do { history = try decoder.decode([PolicyUpdateReport].self, from: Data((m[prefix + "history"] ?? "").utf8)) } catch {
            throw bad("its history does not parse")
        }
        let all = try file.floatTensors()
        try TrainingCheckpoint.restoreModelState(agent, optimizer, from: file, tensors: all, name: name)
        guard environments.restore(from: m, prefix: prefix + "env.") else { throw bad("its environment states do not fit this run") }
        statistics.recent = recent
        statistics.sum = Double(bitPattern: sumBits)
        if let solved = m[prefix + "solved"]?.split(separator: ":"), solved.count == 2,
           let t = Int(solved[0]), let s = Double(solved[1]) {
            statistics.solvedAt = (t, s)
        }
        var generator = RandomGenerator(seed: 0)
        generator.state = words
        return Position(generator: generator, timesteps: timesteps, update: update, history: history,
                        lastDones: lastDones, seconds: seconds)
    }
}
