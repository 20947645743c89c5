import Foundation

/// Serves many generation requests with one model: the decode steps of every running stream go through the model
/// together (`QuantizedLlama.forward(streams:caches:)`, the weights streamed once per step for all of them), new
/// requests join between steps after their prompt has run (continuous batching, as vLLM and llama.cpp's server do).
///
/// At most `maximumStreams` generate at once; up to `queueLimit` more wait; beyond that `submit` refuses at once
/// (`SubmitError.queueFull`), so a server can answer 429 instead of letting requests pile up. A consumer that stops
/// listening (its `AsyncStream` terminated: a client that disconnected) cancels its stream at the next step; so does
/// a deadline.
///
/// ```swift
/// let batcher = ContinuousBatcher(model: model)
/// let events = try batcher.submit(.init(prompt: ids, maxTokens: 64, sampler: TokenSampler(temperature: 0)))
/// for await event in events { if case .token(let id) = event { print(tokenizer.decode([id]), terminator: "") } }
/// ```
public final class ContinuousBatcher: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var maximumStreams: Int
        public var queueLimit: Int
        public init(maximumStreams: Int = 8, queueLimit: Int = 32) {
            precondition(maximumStreams >= 1 && queueLimit >= 0, "ContinuousBatcher: maximumStreams ≥ 1 and queueLimit ≥ 0")
            (self.maximumStreams, self.queueLimit) = (maximumStreams, queueLimit)
        }
    }

    public struct Request: Sendable {
        public var prompt: [Int]
        public var maxTokens: Int
        public var sampler: TokenSampler
        /// Tokens that end the answer (end of turn, end of text); the stop token itself is not emitted.
        public var stopTokens: Set<Int>
        public var deadline: Date?

        public init(prompt: [Int], maxTokens: Int, sampler: TokenSampler, stopTokens: Set<Int> = [], deadline: Date? = nil) {
            (self.prompt, self.maxTokens, self.sampler, self.stopTokens, self.deadline) = (prompt, maxTokens, sampler, stopTokens, deadline)
        }
    }

    public enum FinishReason: String, Sendable {
        /// A stop token came.
        case stop
        /// `maxTokens` were generated, or the context is full.
        case length
        /// The consumer went away, or `cancel` was called.
        case cancelled
        /// The deadline passed.
        case timeout
    }

    public enum Event: Sendable, Equatable {
        case token(Int)
        case finished(FinishReason)
    }

    public enum SubmitError: Error, Equatable, Sendable, CustomStringConvertible {
        case queueFull(waiting: Int)
        case promptTooLong(tokens: Int, context: Int)
        case emptyPrompt
        case shutDown

        public var description: String {
            switch self {
            case .queueFull(let waiting): "the server is busy: \(waiting) requests are already waiting; retry shortly"
            case .promptTooLong(let tokens, let context): "the prompt and max_tokens need \(tokens) tokens, more than the \(context)-token context"
            case .emptyPrompt: "the prompt is empty"
            case .shutDown: "the server is shutting down"
            }
        }
    }

    /// One request on its way through.
    final class Stream: @unchecked Sendable {
        let request: Request
        let continuation: AsyncStream<Event>.Continuation
        var sampler: TokenSampler
        var cache: LlamaCache?
        var generated: [Int] = []
        var last = 0
        var cancelled = false            // guarded by the batcher's lock

        init(request: Request, continuation: AsyncStream<Event>.Continuation) {
            (self.request, self.continuation, sampler) = (request, continuation, request.sampler)
        }
    }

    public let model: QuantizedLlama
    public let configuration: Configuration
    private let condition = NSCondition()
    private var waiting: [Stream] = []
    private var running: [Stream] = []
    private var stopped = false
    private var thread: Thread?
    /// Tokens generated since the start (guarded by the lock).
    private var tokenCount = 0

    public init(model: QuantizedLlama, configuration: Configuration = Configuration()) {
        (self.model, self.configuration) = (model, configuration)
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "synapse-batcher"
        thread.stackSize = 1 << 22
        self.thread = thread
        thread.start()
    }

    // The worker holds `self` while it runs, so this runs only for a batcher whose worker has already stopped;
    // owners call `shutdown()` when they go away.
    deinit { shutdown() }

    /// Streams generating now, requests waiting for a place, and tokens generated since the start.
    public var load: (running: Int, waiting: Int, generated: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (running.count, waiting.count, tokenCount)
    }

    /// Queues a request; its tokens arrive on the returned stream, then one `.finished`.
    public func submit(_ request: Request) throws(SubmitError) -> AsyncStream<Event> {
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        let context = model.configuration.contextLength
        guard request.prompt.count + max(request.maxTokens, 1) <= context else {
            throw .promptTooLong(tokens: request.prompt.count + request.maxTokens, context: context)
        }
        var created: Stream?
        let events = AsyncStream<Event> { continuation in created = Stream(request: request, continuation: continuation) }
        let stream = created!
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { throw .shutDown }
        guard running.count + waiting.count < configuration.maximumStreams + configuration.queueLimit else {
            throw .queueFull(waiting: waiting.count)
        }
        stream.continuation.onTermination = { [weak self, weak stream] _ in
            guard let self, let stream else { return }
            self.condition.lock()
            stream.cancelled = true
            self.condition.unlock()
        }
        waiting.append(stream)
        condition.signal()
        return events
    }

    /// Stops the worker after the step in progress; every stream still open finishes as cancelled.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: The worker

    private func loop() {
        while true {
            condition.lock()
            while !stopped && running.isEmpty && waiting.isEmpty { condition.wait() }
            if stopped {
                let all = running + waiting
                (running, waiting) = ([], [])
                condition.unlock()
                for s in all { s.continuation.yield(.finished(.cancelled)); s.continuation.finish() }
                return
            }
            let room = max(0, configuration.maximumStreams - running.count)
            let admitted = Array(waiting.prefix(room))
            waiting.removeFirst(admitted.count)
            running += admitted          // counted from now on, while their prompts run
            condition.unlock()
            for stream in admitted { start(stream) }
            step()
        }
    }

    /// Runs a new stream's prompt and emits its first token.
    private func start(_ stream: Stream) {
        if let reason = finishReason(stream) ?? prefill(stream) { finish(stream, reason) }
    }

    /// nil while the stream goes on.
    private func prefill(_ stream: Stream) -> FinishReason? {
        let r = stream.request
        let cache = model.makeCache(capacity: r.prompt.count + max(r.maxTokens, 1))
        stream.cache = cache
        let logits = model.forward(r.prompt, cache: cache, lastOnly: true).scalars
        return emit(stream, logits: logits)
    }

    /// One decode step for every running stream.
    private func step() {
        condition.lock()
        let active = running
        condition.unlock()
        var live: [Stream] = []
        for stream in active {
            if let reason = finishReason(stream) { finish(stream, reason) } else { live.append(stream) }
        }
        guard !live.isEmpty else { return }
        let logits = model.forward(streams: live.map(\.last), caches: live.map { $0.cache! })
        let width = model.configuration.vocabularySize
        for (i, stream) in live.enumerated() {
            let row = Array(logits.scalars[(i * width)..<((i + 1) * width)])
            if let reason = emit(stream, logits: row) { finish(stream, reason) }
        }
    }

    /// Samples the next token from `logits`, emits it (unless it stops the stream); the reason if the stream ends.
    private func emit(_ stream: Stream, logits: [Float]) -> FinishReason? {
        let r = stream.request
        let token = stream.sampler.sample(logits, recent: Array((r.prompt + stream.generated).suffix(64)))
        if r.stopTokens.contains(token) { return .stop }
        stream.generated.append(token)
        stream.last = token
        condition.lock()
        tokenCount += 1
        condition.unlock()
        stream.continuation.yield(.token(token))
        let cache = stream.cache!
        if stream.generated.count >= r.maxTokens || cache.length >= cache.capacity { return .length }
        return nil
    }

    /// Why a stream should stop before its next step, if it should.
    private func finishReason(_ stream: Stream) -> FinishReason? {
        condition.lock()
        let cancelled = stream.cancelled
        condition.unlock()
        if cancelled { return .cancelled }
        if let deadline = stream.request.deadline, Date() >= deadline { return .timeout }
        return nil
    }

    private func finish(_ stream: Stream, _ reason: FinishReason) {
        condition.lock()
        running.removeAll { $0 === stream }
        condition.unlock()
        stream.cache = nil
        stream.continuation.yield(.finished(reason))
        stream.continuation.finish()
    }
}
