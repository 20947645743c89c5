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

    /// Writes the run; `optimizers` are the agent's (PPO has one, REINFORCE one for the policy and one for the
    /// value), `environments` the environments' own metadata (`VectorEnvironment.checkpointMetadata` or `encode`).
    static func write(_ position: Position, fingerprint: String, agent: ActorCritic, optimizers: [Optimizer],
                      environments: [String: String], statistics: EpisodeStatistics, to url: URL) throws {
        var (tensors, metadata) = TrainingCheckpoint.modelState(agent, optimizers[0])
        for (index, optimizer) in optimizers.enumerated().dropFirst() {
            for (key, value) in optimizer.stateDict() { tensors["optimizer\(index)." + key] = value }
        }
        metadata.merge(environments) { $1 }
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

    /// Restores agent, optimizers and statistics; returns the position and the file's metadata, from which the
    /// caller restores its environments (`badEnvironments` is the error to throw when they do not fit).
    static func read(from url: URL, fingerprint: String, agent: ActorCritic, optimizers: [Optimizer],
                     statistics: inout EpisodeStatistics) throws -> (position: Position, metadata: [String: String]) {
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
        try TrainingCheckpoint.restoreModelState(agent, optimizers[0], from: file, tensors: all, name: name)
        for (index, optimizer) in optimizers.enumerated().dropFirst() {
            try optimizer.load(stateDict: TrainingCheckpoint.tensors(withPrefix: "optimizer\(index).", in: all))
        }
        statistics.recent = recent
        statistics.sum = Double(bitPattern: sumBits)
        if let solved = m[prefix + "solved"]?.split(separator: ":"), solved.count == 2,
           let t = Int(solved[0]), let s = Double(solved[1]) {
            statistics.solvedAt = (t, s)
        }
        var generator = RandomGenerator(seed: 0)
        generator.state = words
        return (Position(generator: generator, timesteps: timesteps, update: update, history: history,
                         lastDones: lastDones, seconds: seconds), m)
    }

    static func badEnvironments(_ url: URL) -> TrainingError {
        .badCheckpoint(path: url.lastPathComponent, reason: "its environment states do not fit this run")
    }

    // The metadata encodings: bit patterns in decimal, so every value comes back exactly.

    static func encode(_ environments: [any Environment]) -> String {
        environments.map { $0.checkpointWords.map(String.init).joined(separator: ",") }.joined(separator: ";")
    }

    /// Restores every environment from `encode`'s text; false unless there is one fitting state per environment.
    static func decode(_ text: String?, into environments: inout [any Environment]) -> Bool {
        guard let items = text?.split(separator: ";", omittingEmptySubsequences: false), items.count == environments.count
        else { return false }
        var restored = environments
        for (i, item) in items.enumerated() {
            guard let words = decodeWords(String(item)), restored[i].restore(checkpointWords: words) else { return false }
        }
        environments = restored
        return true
    }

    static func encode(_ values: [Float]) -> String { values.map { String($0.bitPattern) }.joined(separator: ",") }

    static func decodeFloats(_ text: String?) -> [Float]? {
        decodeWords(text).flatMap { words in
            words.allSatisfy { $0 <= UInt64(UInt32.max) } ? words.map { Float(bitPattern: UInt32($0)) } : nil
        }
    }

    static func decodeWords(_ text: String?) -> [UInt64]? { TrainingCheckpoint.decodeWords(text) }

    static func encode(_ episodes: [VectorEnvironment.Episode]) -> String {
        episodes.map { "\($0.totalReward.bitPattern):\($0.length)" }.joined(separator: ",")
    }

    static func decodeEpisodes(_ text: String?) -> [VectorEnvironment.Episode]? {
        guard let text else { return nil }
        var episodes: [VectorEnvironment.Episode] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let bits = UInt64(parts[0]), let length = Int(parts[1]), length >= 0 else { return nil }
            episodes.append(.init(totalReward: Double(bitPattern: bits), length: length))
        }
        return episodes
    }
}
