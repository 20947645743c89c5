import Foundation

/// A sentence-transformers model (e.g. all-MiniLM-L6-v2): WordPiece tokenizer, BERT encoder, mean pooling over
/// the real tokens, and L2 normalisation, so the dot product of two embeddings is their cosine similarity.
///
/// ```swift
/// let embedder = try SentenceEmbedder(folder: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
/// let vectors = embedder.embed(["A man is eating food.", "Someone is having a meal."])   // 2 × 384
/// SentenceEmbedder.cosineSimilarity(vectors[0], vectors[1])                             // ≈ 0.7
/// ```
public final class SentenceEmbedder {
    public let tokenizer: WordPieceTokenizer
    public let model: BERTModel
    public var dimension: Int { model.configuration.hiddenSize }

    public init(tokenizer: WordPieceTokenizer, model: BERTModel) {
        self.tokenizer = tokenizer
        self.model = model
        model.eval()
    }

    /// Loads a Hugging Face model folder (config.json, model.safetensors, vocab.txt).
    public convenience init(folder: URL) throws {
        let model = try HuggingFaceBERT.loadModel(folder: folder)
        let tokenizer = try HuggingFaceBERT.loadTokenizer(folder: folder, configuration: model.configuration)
        self.init(tokenizer: tokenizer, model: model)
    }

    /// Unit-length embeddings of `sentences`, in order.
    ///
    /// Sentences are sorted by token count and encoded `batchSize` at a time, as sentence-transformers does (there
    /// it keeps padding low; here batches are packed without padding either way).
    public func embed(_ sentences: [String], batchSize: Int = 32) -> [[Float]] {
        precondition(batchSize > 0, "SentenceEmbedder.embed: batch size must be positive")
        let encoded = sentences.map { tokenizer.encode($0) }
        let order = encoded.indices.sorted { encoded[$0].count > encoded[$1].count }
        var result = [[Float]](repeating: [], count: sentences.count)
        var start = 0
        while start < order.count {
            let members = Array(order[start..<Swift.min(start + batchSize, order.count)])
            let vectors = embedBatch(members.map { encoded[$0] })
            for (index, vector) in zip(members, vectors) { result[index] = vector }
            start += batchSize
        }
        return result
    }

    /// One batch of token-id sequences (with [CLS]/[SEP]) → normalised mean-pooled embeddings.
    ///
    /// On several cores the batch is cut into one shard per core with about the same number of tokens, each encoded
    /// with its sequences packed end to end (no padding) and single-threaded products on its own core: the
    /// [tokens, 384] products of a batch are too small for two BLAS threads to share well. Every sequence's embedding
    /// is the same either way, up to the rounding of differently blocked products.
    public func embedBatch(_ sequences: [[Int]]) -> [[Float]] {
        let shards = Self.shards(lengths: sequences.map(\.count), parts: Parallel.perCoreChunks(sequences.count))
        if shards.count <= 1 { return encodeShard(sequences) }
        var results = [[[Float]]](repeating: [], count: shards.count)
        results.withUnsafeMutableBufferPointer { results in
            let out = UncheckedSendable(results.baseAddress!)
            Parallel.perCore(shards.count) { _, range in
                for shard in range { out.value[shard] = encodeShard(Array(sequences[shards[shard]])) }
            }
        }
        return results.flatMap { $0 }
    }

    /// Contiguous shards of `lengths` for `parts` cores with about equal token counts, found by bisecting on the
    /// largest shard's count.
    static func shards(lengths: [Int], parts: Int) -> [Range<Int>] {
        guard parts > 1, lengths.count > 1 else { return lengths.isEmpty ? [] : [0..<lengths.count] }
        func split(limit: Int) -> [Range<Int>]? {
            var result: [Range<Int>] = [], start = 0
            while start < lengths.count {
                var end = start, tokens = 0
                while end < lengths.count {
                    if tokens + lengths[end] > limit && end > start { break }
                    tokens += lengths[end]
                    end += 1
                }
                result.append(start..<end)
                if result.count > parts { return nil }
                start = end
            }
            return result
        }
        var low = lengths.max()!, high = lengths.reduce(0, +)
        while low < high {
            let middle = (low + high) / 2
            if split(limit: middle) != nil { high = middle } else { low = middle + 1 }
        }
        return split(limit: low)!
    }

    /// Encodes one shard on the calling thread, its sequences packed end to end (no padding is computed).
    private func encodeShard(_ sequences: [[Int]]) -> [[Float]] {
        guard !sequences.isEmpty else { return [] }
        let lengths = sequences.map(\.count)
        let hidden = noGrad { model(packedIDs: sequences.flatMap { $0 }, lengths: lengths) }
        let c = dimension
        return hidden.withUnsafeBufferPointer { h in
            var offset = 0
            return sequences.indices.map { b in
                defer { offset += lengths[b] }
                var pooled = [Float](repeating: 0, count: c)
                pooled.withUnsafeMutableBufferPointer { p in
                    for t in 0..<lengths[b] {
                        let row = h.baseAddress! + (offset + t) * c
                        for j in 0..<c { p[j] += row[j] }
                    }
                    var norm: Float = 0
                    let inverseCount = 1 / Float(Swift.max(lengths[b], 1))
                    for j in 0..<c {
                        p[j] *= inverseCount
                        norm += p[j] * p[j]
                    }
                    // torch.nn.functional.normalize divides by max(‖v‖, 1e-12).
                    let scale = 1 / Swift.max(norm.squareRoot(), 1e-12)
                    for j in 0..<c { p[j] *= scale }
                }
                return pooled
            }
        }
    }

    /// cos(a, b) = a·b / (‖a‖‖b‖).
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosineSimilarity: vectors of \(a.count) and \(b.count) values")
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return dot / Swift.max((na * nb).squareRoot(), 1e-12)
    }
}
