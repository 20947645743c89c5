import Foundation
import Synapse

/// Embedding requests that arrive together are encoded together: one worker thread takes every request waiting (up
/// to `maximumTexts` sentences, at least one request), encodes them as one batch and answers each with its share.
///
/// One sentence alone leaves most of each weight matrix's trip through the cache unused (a 15-token product against a
/// 384×1536 matrix); eight sentences from eight clients share that trip, and `SentenceEmbedder.embedBatch` spreads them
/// over the cores. A lone request is encoded at once, so concurrency 1 pays nothing for the queue. The worker is a
/// thread of its own, so a batch in progress never holds a thread of Swift's cooperative pool.
final class EmbeddingBatcher: @unchecked Sendable {
    private struct Job {
        let texts: [String]
        let continuation: CheckedContinuation<[[Float]], Never>
    }

    private let embedder: SentenceEmbedder
    private let maximumTexts: Int
    private let condition = NSCondition()
    private var pending: [Job] = []           // guarded by `condition`
    private var stopping = false              // guarded by `condition`

    init(embedder: SentenceEmbedder, maximumTexts: Int = 64) {
        precondition(maximumTexts > 0, "EmbeddingBatcher: maximumTexts must be positive")
        (self.embedder, self.maximumTexts) = (embedder, maximumTexts)
        let thread = Thread { self.run() }          // the thread keeps the batcher until `shutdown`
        thread.name = "synapse-embeddings"
        thread.start()
    }

    /// The normalised embedding of each text, in order.
    func embed(_ texts: [String]) async -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            condition.lock()
            pending.append(Job(texts: texts, continuation: continuation))
            condition.signal()
            condition.unlock()
        }
    }

    /// Ends the worker once the requests already waiting are answered.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            if pending.isEmpty { condition.unlock(); return }
            var jobs = [pending.removeFirst()]
            var count = jobs[0].texts.count
            while let next = pending.first, count + next.texts.count <= maximumTexts {
                jobs.append(pending.removeFirst())
                count += next.texts.count
            }
            condition.unlock()

            let vectors = embedder.embed(jobs.flatMap(\.texts), batchSize: maximumTexts)
            var start = 0
            for job in jobs {
                job.continuation.resume(returning: Array(vectors[start..<start + job.texts.count]))
                start += job.texts.count
            }
        }
    }
}
