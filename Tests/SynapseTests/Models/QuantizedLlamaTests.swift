import Foundation
import Testing
@testable import Synapse

/// The block-quantised fast path against the float reference (`Llama`) it is built beside.
@Suite("QuantizedLlama (4-bit weights, int16 activations) against the float path", .synapseRuntime)
struct QuantizedLlamaTests {
    /// log softmax in Double.
    static func logProbabilities(_ logits: ArraySlice<Float>) -> [Double] {
        let top = Double(logits.max()!)
        let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
        return logits.map { Double($0) - top - Foundation.log(total) }
    }

    /// The largest |Δ log p| over the reference's 20 most likely tokens, for each row of `vocabulary` logits.
    static func worstTopLogProbabilityError(_ actual: [Float], _ expected: [Float], vocabulary: Int) -> Double {
        var worst = 0.0
        for row in 0..<(expected.count / vocabulary) {
            let range = (row * vocabulary)..<((row + 1) * vocabulary)
            let a = logProbabilities(actual[range]), e = logProbabilities(expected[range])
            for k in e.indices.sorted(by: { e[$0] > e[$1] }).prefix(20) { worst = max(worst, abs(a[k] - e[k])) }
        }
        return worst
    }

    @Test func tinyModelAgreesWithTheFloatPathOnEveryPathAndThreadCount() throws {
        let gguf = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        let float = try Llama(gguf: gguf)
        let fixture = try Fixtures.json("llm/tiny_llama.json")
        let tokens = (fixture["tokens"] as! [NSNumber]).map(\.intValue)
        let expected = float.forward(tokens, cache: float.makeCache()).scalars
        var first: [Float]?
        // Every integer kernel path with the block products, then the long-prompt road (dequantised panels through
        // sgemm) forced on for every pass, decode steps included.
        let roads = GGMLMatmul.availablePaths.map { ($0, 1 << 30) } + [(GGMLMatmul.bestPath, 1)]
        for (path, floatFrom) in roads {
            for threads in [1, 2, 3] {
                let model = try QuantizedLlama(gguf: gguf, threads: threads, path: path, floatProductTokens: floatFrom)
                let whole = model.forward(tokens, cache: model.makeCache())
                #expect(whole.shape == [tokens.count, 300])
                let error = Self.worstTopLogProbabilityError(whole.scalars, expected, vocabulary: 300)
                // The panel road multiplies the dequantised weights in Float32, as the reference does: only the
                // Float16 cache stands between them.
                #expect(error < (floatFrom == 1 ? 0.02 : 0.1), "\(path), float products from \(floatFrom), \(threads) threads: worst top-20 |Δ log p| = \(error)")
                // Token by token through the cache, and a 3-token chunk in the middle: the same numbers as at once
                // up to the order of float sums.
                let cache = model.makeCache()
                var stepwise = model.forward(Array(tokens[0..<4]), cache: cache).scalars
                stepwise += model.forward(Array(tokens[4..<7]), cache: cache).scalars
                for t in tokens[7...] { stepwise += model.forward([t], cache: cache).scalars }
                #expect(LlamaTests.relativeError(stepwise, whole.scalars) < 2e-4)
                // Each output row is computed by one thread with the same code: the thread count changes nothing.
                if path == GGMLMatmul.bestPath && floatFrom > 1 {
                    if let first { #expect(whole.scalars == first, "\(threads) threads") } else { first = whole.scalars }
                }
                // The head then multiplies one token instead of many: another kernel shape, the same sums in another
                // order.
                let last = model.forward(tokens, cache: model.makeCache(), lastOnly: true)
                #expect(LlamaTests.relativeError(last.scalars, Array(whole.scalars.suffix(300))) < 1e-5)
            }
        }
    }

    @Test func floatMatricesAreQuantisedToQ8_0AtLoad() throws {
        // The tiny model's norms are F32; make every matrix F32 too by writing a copy through the reference path:
        // instead, check the converter directly against the gguf definition of Q8_0.
        var g = RandomGenerator(seed: 4)
        let x = (0..<64).map { _ in g.nextNormal() }
        var blocks = [UInt8](repeating: 0, count: 2 * 34)
        GGMLBlocks.quantize(.q8_0, x, count: 64, into: &blocks)
        var back = [Float](repeating: 0, count: 64)
        blocks.withUnsafeBytes { GGMLBlocks.dequantize(.q8_0, $0.baseAddress!, into: &back, count: 64) }
        for b in 0..<2 {
            let amax = x[(32 * b)..<(32 * b + 32)].map(abs).max()!
            for j in (32 * b)..<(32 * b + 32) { #expect(abs(back[j] - x[j]) <= amax / 127 * 0.51 + 1e-3 * amax) }
        }
    }

    @Test func rowSharesCoverEverythingOnceOnPanelBoundaries() {
        for (count, parts) in [(960, 2), (576, 3), (49152, 2), (17, 4), (9, 2), (1, 2)] {
            let shares = (0..<parts).map { WorkerTeam.share(count, $0, parts) }
            #expect(shares.first!.lowerBound == 0 && shares.last!.upperBound == count)
            for k in 1..<parts { #expect(shares[k - 1].upperBound == shares[k].lowerBound) }
            for s in shares.dropLast() { #expect(s.upperBound % 16 == 0 || s.upperBound == count) }
        }
    }
}

@Suite("SmolLM2-135M-Instruct on the 4-bit path", .enabled(if: SmolLM2File.available, SmolLM2File.skipMessage), .synapseRuntime)
struct SmolLM2QuantizedTests {
    nonisolated(unsafe) static let model: QuantizedLlama? = {
        guard let gguf = SmolLM2File.model?.gguf else { return nil }
        return try? QuantizedLlama(gguf: gguf)
    }()

    @Test func weightsStayInTheirBlocks() throws {
        let model = try #require(Self.model)
        // 210 Q4_1 matrices at 0.625 bytes per weight and the Q8_0 head at 1.0625: about 97 MB, not 540.
        #expect(model.weightBytes < 100_000_000)
        #expect(model.weightBytes > 90_000_000)
    }

    @Test func nextTokenLogProbabilitiesStayWithinATenthOfTheReference() throws {
        let model = try #require(Self.model)
        let reference = try SafeTensorsFile(contentsOf: LLMFixtures.url("smollm2_logits.safetensors"))
        let fixture = try Fixtures.json("llm/smollm2.json")
        let chatIds = ((fixture["chat"] as! [String: Any])["ids"] as! [NSNumber]).map(\.intValue)
        let all = model.forward(chatIds, cache: model.makeCache())
        let chatError = QuantizedLlamaTests.worstTopLogProbabilityError(all.scalars, try reference.floatTensor("chat").scalars, vocabulary: 49152)
        #expect(chatError < 0.1, "chat prompt: worst top-20 |Δ log p| = \(chatError)")
        print("SmolLM2 4-bit path: chat prompt (\(chatIds.count) positions) worst top-20 |Δ log p| = \(chatError)")
        for (i, prompt) in (fixture["prompts"] as! [[String: Any]]).enumerated() {
            let ids = (prompt["ids"] as! [NSNumber]).map(\.intValue)
            let last = model.forward(ids, cache: model.makeCache(), lastOnly: true)
            let e = QuantizedLlamaTests.worstTopLogProbabilityError(last.scalars, try reference.floatTensor("prompt\(i)").scalars, vocabulary: 49152)
            #expect(e < 0.1, "prompt \(i): \(e)")
            print("SmolLM2 4-bit path: prompt \(i) worst top-20 |Δ log p| = \(e)")
        }
    }

    @Test func longPromptsTakeThePanelRoadAndStayWithTheReference() throws {
        // The chat prompt through the block products and through dequantised panels with sgemm (the road prompts of
        // `defaultFloatProductTokens` or more take): both within a tenth of the float reference, and the panel road
        // closer, since it multiplies the same Float32 weights the reference does.
        let gguf = try #require(SmolLM2File.model?.gguf)
        let reference = try SafeTensorsFile(contentsOf: LLMFixtures.url("smollm2_logits.safetensors")).floatTensor("chat").scalars
        let fixture = try Fixtures.json("llm/smollm2.json")
        let chatIds = ((fixture["chat"] as! [String: Any])["ids"] as! [NSNumber]).map(\.intValue)
        var errors: [Double] = []
        for floatFrom in [1 << 30, 1] {
            let model = try QuantizedLlama(gguf: gguf, floatProductTokens: floatFrom)
            let logits = model.forward(chatIds, cache: model.makeCache()).scalars
            errors.append(QuantizedLlamaTests.worstTopLogProbabilityError(logits, reference, vocabulary: 49152))
        }
        print("SmolLM2, chat prompt (\(chatIds.count) positions): worst top-20 |Δ log p| \(errors[0]) (blocks), \(errors[1]) (panels)")
        #expect(errors[0] < 0.1 && errors[1] < 0.1)
        #expect(errors[1] <= errors[0], "the panel road should not be further from the Float32 reference than the int16 one")
    }

    /// Greedy continuations equal the float reference's until a near tie: where they first differ, the reference's
    /// two best tokens were within `tie` in log-probability (the int16 activations move log-probabilities by a few thousandths).
    @Test func greedyContinuationsFollowTheReferenceUpToNearTies() throws {
        let model = try #require(Self.model)
        let (_, float, tokenizer) = try #require(SmolLM2File.model)
        let fixture = try Fixtures.json("llm/smollm2.json")
        for prompt in fixture["prompts"] as! [[String: Any]] {
            let ids = (prompt["ids"] as! [NSNumber]).map(\.intValue)
            let expected = (prompt["greedy"] as! [NSNumber]).map(\.intValue)
            var session = LlamaSession(model: model)
            let produced = session.greedy(prompt: ids, count: expected.count, stop: tokenizer.endOfText)
            let common = min(produced.count, expected.count)
            let differing = (0..<common).first { produced[$0] != expected[$0] } ?? (produced.count != expected.count ? common : nil)
            guard let k = differing else {
                print("SmolLM2 4-bit path: \((prompt["text"] as! String).debugDescription): all \(expected.count) greedy tokens equal the reference")
                continue
            }
            // The reference's margin at the first difference.
            let logits = float.forward(ids + expected.prefix(k), cache: float.makeCache(), lastOnly: true).scalars
            let lp = QuantizedLlamaTests.logProbabilities(logits[...])
            let sorted = lp.sorted(by: >)
            let margin = sorted[0] - sorted[1]
            print("SmolLM2 4-bit path: \((prompt["text"] as! String).debugDescription): differs from the reference at token \(k) of \(expected.count); the reference's margin there is \(margin)")
            #expect(margin < 0.15, "\(prompt["text"] as! String): differs at token \(k) where the reference's margin is \(margin)")
        }
    }
}

@Suite("QuantizedLlama: several streams in one decode step", .synapseRuntime)
struct QuantizedLlamaStreamsTests {
    @Test(arguments: [1, 2, 3])
    func aBatchedStepGivesEachStreamItsOwnNextTokenLogits(threads: Int) throws {
        let gguf = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        let model = try QuantizedLlama(gguf: gguf, threads: threads)
        let prompts = [[5, 17, 200], [3, 1, 4, 1, 5, 9, 2, 6], [42]]
        let next = [7, 99, 250]
        // Each stream alone: its prompt, then its next token.
        var expected: [Float] = []
        for (prompt, token) in zip(prompts, next) {
            let cache = model.makeCache(capacity: 16)
            _ = model.forward(prompt, cache: cache, lastOnly: true)
            expected += model.forward([token], cache: cache, lastOnly: true).scalars
        }
        // All three in one step, twice (the caches grow by one each time).
        let caches = prompts.map { prompt -> LlamaCache in
            let cache = model.makeCache(capacity: 16)
            _ = model.forward(prompt, cache: cache, lastOnly: true)
            return cache
        }
        let batched = model.forward(streams: next, caches: caches)
        #expect(batched.shape == [3, 300])
        // The attention of a batched step sums in another order than a lone decode step (which splits the positions
        // between threads): equal up to rounding, where a stream given another's cache would be off by O(1).
        #expect(LlamaTests.relativeError(batched.scalars, expected) < 2e-5)
        #expect(caches.map(\.length) == [4, 9, 2])
        let again = model.forward(streams: [1, 2, 3], caches: caches)
        var alone: [Float] = []
        for (i, prompt) in prompts.enumerated() {
            let cache = model.makeCache(capacity: 16)
            _ = model.forward(prompt + [next[i]], cache: cache, lastOnly: true)
            alone += model.forward([i + 1], cache: cache, lastOnly: true).scalars
        }
        // (The references here prefill prompt + token in one pass, whose products sum in another order than a
        // decode step's: the same 2e-4 as the stepwise check above.)
        #expect(LlamaTests.relativeError(again.scalars, alone) < 2e-4)
    }
}
