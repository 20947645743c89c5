/// A next-token model over a character (or other) vocabulary: what `synapse train text` trains and `synapse generate`
/// samples from. Recurrent models and transformers plug in the same way.
///
/// A conforming model must be a `Module` (so optimizers, checkpoints and `eval()` work), say how to rebuild itself
/// (`architectureMetadata`, read back by a builder registered in `LanguageModelFile.builders`), give logits for
/// training windows, and open generation sessions that keep whatever state generation needs (a recurrent state,
/// a token window, a key/value cache).
///
/// ```swift
/// let logits = model.logits(tokens: batch.inputs, batchSize: 32)        // [32·64, vocabulary]
/// let loss = logits.crossEntropy(targets: batch.targets)
///
/// var session = model.makeSession()
/// var next = session.feed(try tokenizer.encode("ROMEO:"))               // logits for the next token
/// ```
public protocol LanguageModel: Module {
    /// The number of distinct tokens (rows of the output logits' last axis).
    var vocabularySize: Int { get }
    /// Everything a builder needs to rebuild the model, stored in the model file's metadata. Must contain
    /// `LanguageModelFile.kindKey` with the builder's name.
    var architectureMetadata: [String: String] { get }
    /// Next-token logits at every position of `batchSize` windows of tokens (row-major [batchSize, T]), as
    /// [batchSize · T, vocabularySize].
    func logits(tokens: [Int], batchSize: Int) -> Tensor
    /// A fresh generation state.
    func makeSession() -> any LanguageModelSession
    /// Whether training may run shards of a batch through `logits` on several cores at once (`DataParallel`): true
    /// only when a training forward pass reads but never writes the model's state. False unless a model says so.
    var supportsDataParallelTraining: Bool { get }
}

extension LanguageModel {
    public var supportsDataParallelTraining: Bool { false }
}

/// The running state of one generated text.
public protocol LanguageModelSession {
    /// Consumes `tokens` (first the prompt, then each sampled token) and returns the logits for the next token.
    mutating func feed(_ tokens: [Int]) -> [Float]
}
