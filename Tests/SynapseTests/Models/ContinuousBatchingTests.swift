import Foundation
import Testing
@testable import Synapse

@Suite("Continuous batching of generation requests", .synapseRuntime)
struct ContinuousBatchingTests {
    static let model: QuantizedLlama = try! QuantizedLlama(gguf: GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path), threads: 2)

    static func collect(_ events: AsyncStream<ContinuousBatcher.Event>) async -> (tokens: [Int], reason: ContinuousBatcher.FinishReason?) {
        var tokens: [Int] = [], reason: ContinuousBatcher.FinishReason?
        for await event in events {
            switch event {
            case .token(let t): tokens.append(t)
            case .finished(let r): reason = r
            }
        }
        return (tokens, reason)
    }

    @Test func concurrentRequestsGetWhatEachWouldAlone() async throws {
        let prompts = [[5, 17, 200], [3, 1, 4, 1, 5, 9], [42, 43], [250, 1]]
        var expected: [[Int]] = []
        for prompt in prompts {
            var session = LlamaSession(model: Self.model, capacity: 64)
            expected.append(session.greedy(prompt: prompt, count: 12))
        }
        let batcher = ContinuousBatcher(model: Self.model, configuration: .init(maximumStreams: 3, queueLimit: 4))
        defer { batcher.shutdown() }
        let streams = try prompts.map { try batcher.submit(.init(prompt: $0, maxTokens: 12, sampler: TokenSampler(temperature: 0))) }
        var results: [[Int]] = []
        for stream in streams {
            let (tokens, reason) = await Self.collect(stream)
            #expect(reason == .length)
            results.append(tokens)
        }
        // Greedy tokens agree wherever the single stream's choice is not a near-tie (the tiny model's logits are steep).
        for (got, want) in zip(results, expected) { #expect(got == want) }
        #expect(batcher.load.generated == 48)
    }

    @Test func aStopTokenEndsTheStreamWithoutBeingEmitted() async throws {
        var session = LlamaSession(model: Self.model, capacity: 64)
        let greedy = session.greedy(prompt: [5, 17, 200], count: 6)
        let batcher = ContinuousBatcher(model: Self.model)
        defer { batcher.shutdown() }
        let (tokens, reason) = await Self.collect(try batcher.submit(.init(prompt: [5, 17, 200], maxTokens: 6,
                                                                            sampler: TokenSampler(temperature: 0), stopTokens: [greedy[3]])))
        #expect(reason == .stop)
        #expect(tokens == Array(greedy.prefix(3)))
    }

    @Test func aFullQueueIsRefusedAndBadRequestsAreNamed() throws {
        let batcher = ContinuousBatcher(model: Self.model, configuration: .init(maximumStreams: 1, queueLimit: 1))
        defer { batcher.shutdown() }
        let request = ContinuousBatcher.Request(prompt: [1, 2], maxTokens: 100, sampler: TokenSampler(temperature: 0))
        var kept: [AsyncStream<ContinuousBatcher.Event>] = []
        var refused = 0
        for _ in 0..<6 {
            do { kept.append(try batcher.submit(request)) } catch { if case .queueFull = error { refused += 1 } }
        }
        #expect(refused >= 3)
        #expect(throws: ContinuousBatcher.SubmitError.emptyPrompt) { try batcher.submit(.init(prompt: [], maxTokens: 1, sampler: TokenSampler())) }
        #expect(throws: ContinuousBatcher.SubmitError.self) { try batcher.submit(.init(prompt: [1], maxTokens: 1_000, sampler: TokenSampler())) }
        _ = kept
    }

    /// On SmolLM2 (the tiny model finishes 100 tokens before a consumer's leaving can be seen).
    @Test(.enabled(if: SmolLM2File.available, SmolLM2File.skipMessage))
    func aConsumerThatLeavesCancelsItsStream() async throws {
        let model = try QuantizedLlama(gguf: GGUFFile(path: SmolLM2File.path))
        let batcher = ContinuousBatcher(model: model, configuration: .init(maximumStreams: 2, queueLimit: 2))
        defer { batcher.shutdown() }
        // The consumer may be starved for a while under a parallel test run (the worker is a thread of its own), so
        // the bound is on what happens after it left, with room for the step in flight, not on an absolute count.
        let limit = 4000
        do {
            let events = try batcher.submit(.init(prompt: [1, 2, 3], maxTokens: limit, sampler: TokenSampler(temperature: 0)))
            var iterator = events.makeAsyncIterator()
            _ = await iterator.next()              // one token, then the consumer is gone
        }
        let atLeaving = batcher.load.generated
        for _ in 0..<2000 where batcher.load.running + batcher.load.waiting > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(batcher.load.running == 0 && batcher.load.waiting == 0)
        #expect(atLeaving < limit, "the stream ran to its end before the consumer left")
        #expect(batcher.load.generated <= atLeaving + 2, "\(batcher.load.generated - atLeaving) tokens after the consumer left")
    }
}
