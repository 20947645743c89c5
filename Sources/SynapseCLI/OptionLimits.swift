import ArgumentParser

/// Upper limits for counts given on the command line: far above any real run, far below where arithmetic on them
/// overflows or an allocation from them could not succeed.
enum OptionLimits {
    static let epochs = 1_000_000
    static let iterations = 1_000_000_000
    static let batchSize = 1 << 20
    /// Tokens (batch × block) in one text batch.
    static let batchTokens = 1 << 26
    /// Embedding, hidden and head counts of a model trained here.
    static let width = 65_536
    static let layers = 1_024

    /// Throws a message naming the option and the range that works unless `value` is in 1...limit.
    static func check(_ name: String, _ value: Int, limit: Int) throws {
        guard (1...limit).contains(value) else {
            throw ValidationError("\(name) must be between 1 and \(limit), got \(value)")
        }
    }
}
