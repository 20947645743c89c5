import Foundation

/// A tokenized corpus split for language modelling: the first 90% trains, the last 10% validates, and batches are
/// random windows (nanoGPT's `get_batch`): inputs `tokens[i ..< i+T]`, targets shifted by one.
///
/// ```swift
/// let dataset = try TextDataset(contentsOf: URL(fileURLWithPath: "input.txt"), blockLength: 64)
/// var rng = RandomGenerator(seed: 1)
/// let batch = dataset.randomBatch(.train, batchSize: 32, generator: &rng)
/// batch.inputs.count                       // 32 * 64, row-major [batch, block]
/// ```
public struct TextDataset: Sendable {
    public enum Split: String, Sendable { case train, validation }

    /// A batch of windows, row-major [batchSize, blockLength].
    public struct Batch: Sendable {
        public var inputs: [Int]
        public var targets: [Int]
        public var batchSize: Int
        public var blockLength: Int
    }

    public let tokenizer: CharacterTokenizer
    public let trainTokens: [Int]
    public let validationTokens: [Int]
    /// Window length (time steps per example).
    public let blockLength: Int

    /// Splits `text` (tokenized by `tokenizer`, or by one built from the text) at 90%.
    ///
    /// - Parameter source: names the text in errors (usually the file path).
    public init(text: String, blockLength: Int, tokenizer: CharacterTokenizer? = nil,
                source: String = "text") throws(TextError) {
        precondition(blockLength > 0, "TextDataset: blockLength must be positive, got \(blockLength)")
        guard !text.isEmpty else { throw .empty(path: source) }
        let tokenizer = tokenizer ?? CharacterTokenizer(corpus: text)
        let tokens = try tokenizer.encode(text, source: source)
        let split = Int(0.9 * Double(tokens.count))
        // Each split must hold at least one window plus its shifted target.
        let needed = blockLength + 1
        guard tokens.count - split >= needed else {
            throw .tooShort(path: source, characters: tokens.count, needed: needed * 10)
        }
        self.tokenizer = tokenizer
        self.blockLength = blockLength
        trainTokens = Array(tokens[..<split])
        validationTokens = Array(tokens[split...])
    }

    /// Reads a UTF-8 file and splits it.
    public init(contentsOf url: URL, blockLength: Int, tokenizer: CharacterTokenizer? = nil) throws(TextError) {
        try self.init(text: try Self.readText(url), blockLength: blockLength, tokenizer: tokenizer, source: url.path)
    }

    /// The text of a UTF-8 file, with errors that name it.
    public static func readText(_ url: URL) throws(TextError) -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? error.localizedDescription : "no such file"
            throw .unreadable(path: url.path, reason: reason)
        }
        guard !data.isEmpty else { throw .empty(path: url.path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path: url.path, reason: "not valid UTF-8")
        }
        return text
    }

    public func tokens(_ split: Split) -> [Int] { split == .train ? trainTokens : validationTokens }

    /// `batchSize` windows at uniformly random offsets of `split` (offsets in 0 ..< count − T − 1, as the references).
    public func randomBatch(_ split: Split, batchSize: Int, generator: inout RandomGenerator) -> Batch {
        precondition(batchSize > 0, "TextDataset.randomBatch: batchSize must be positive, got \(batchSize)")
        let source = tokens(split)
        let t = blockLength
        let offsets = Swift.max(source.count - t - 1, 1)
        var inputs = [Int](repeating: 0, count: batchSize * t)
        var targets = [Int](repeating: 0, count: batchSize * t)
        source.withUnsafeBufferPointer { s in
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    for b in 0..<batchSize {
                        let start = generator.nextInt(below: offsets)
                        for j in 0..<t {
                            x[b * t + j] = s[start + j]
                            y[b * t + j] = s[start + j + 1]
                        }
                    }
                }
            }
        }
        return Batch(inputs: inputs, targets: targets, batchSize: batchSize, blockLength: t)
    }
}
