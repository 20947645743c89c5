import Foundation
import Testing
@testable import Synapse

@Suite("GPT", .synapseRuntime)
struct GPTTests {
    static let configuration = GPTConfiguration(vocabularySize: 11, blockSize: 8, layers: 2, heads: 2, embedding: 16)

    @Test("The head is tied to the token embedding and decay applies to matrices only")
    func tyingAndGroups() {
        let gpt = GPT(Self.configuration, seed: 1)
        let names = gpt.namedParameters().map(\.name)
        #expect(names.first == "tok.weight" && !names.contains { $0.contains("head") })
        // tok 11×16, pos 8×16, per block 2 LayerNorm gains + 16·48 + 16·16 + 16·64 + 64·16, final LayerNorm gain.
        #expect(gpt.parameterCount == 11 * 16 + 8 * 16 + 2 * (2 * 16 + 16 * 48 + 16 * 16 + 2 * 16 * 64) + 16)
        let groups = gpt.parameterGroups(learningRate: 1e-3, weightDecay: 0.1)
        #expect(groups[0].parameters.allSatisfy { $0.rank == 2 } && groups[1].parameters.allSatisfy { $0.rank == 1 })
        #expect(groups[0].weightDecay == 0.1 && groups[1].weightDecay == 0)
    }

    @Test("Greedy generation through the KV cache equals generation without it, past the block size too")
    func cacheMatchesFullRecomputation() {
        let gpt = GPT(Self.configuration, seed: 2)
        let prompt = [1, 4, 2]
        let cached = gpt.generate(prompt: prompt, count: 14, useCache: true)
        let uncached = gpt.generate(prompt: prompt, count: 14, useCache: false)
        #expect(cached == uncached)
        // Cached logits of each step equal the full forward's last row.
        let cache = KeyValueCache(layers: 2, batch: 1, capacity: 8, features: 16)
        let tokens = [3, 1, 4, 1, 5, 9]
        var stepwise: [Float] = noGrad { gpt.forwardCached(Array(tokens.prefix(2)), cache: cache) }
        for t in 2..<tokens.count { stepwise = noGrad { gpt.forwardCached([tokens[t]], cache: cache) } }
        let full = noGrad { gpt.logits(tokens: tokens, batch: 1) }.scalars.suffix(11)
        for (a, b) in zip(stepwise, full) { #expect(abs(a - b) < 1e-4) }
    }

    @Test("Sampling through the session respects top-k and is reproducible from its seed")
    func sampling() {
        let gpt = GPT(Self.configuration, seed: 3)
        let a = gpt.generate(prompt: [0], count: 20, sampler: TokenSampler(temperature: 1, topK: 3, seed: 9))
        let b = gpt.generate(prompt: [0], count: 20, sampler: TokenSampler(temperature: 1, topK: 3, seed: 9))
        #expect(a == b && a.allSatisfy { (0..<11).contains($0) })
        // With top-3 every drawn token is among the 3 largest logits of its step (checked on the uncached path).
        var session = GPTSession(model: gpt, useCache: false)
        var logits = noGrad { session.feed([0]) }
        for token in a {
            let top3 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(3))
            #expect(top3.contains(token))
            logits = noGrad { session.feed([token]) }
        }
    }

    @Test("A few AdamW steps with clipping learn a repeating sequence")
    func learns() {
        let gpt = GPT(Self.configuration, seed: 4)
        let optimizer = AdamW(groups: gpt.parameterGroups(learningRate: 1e-2, weightDecay: 0.1), beta1: 0.9, beta2: 0.99)
        let pattern = (0..<9).map { $0 % 5 }
        let inputs = Array(pattern.prefix(8)), targets = Array(pattern.dropFirst())
        let first = gpt.loss(inputs: inputs, targets: targets, batch: 1).item
        var last = first
        for _ in 0..<40 {
            let loss = gpt.loss(inputs: inputs, targets: targets, batch: 1)
            optimizer.zeroGrad()
            loss.backward()
            GradientClipping.clipByGlobalNorm(gpt.parameters(), maxNorm: 1)
            optimizer.step()
            last = loss.item
        }
        #expect(first > 2 && last < 0.2, "loss \(first) → \(last)")
    }

    @Test("A saved GPT loads back through LanguageModelFile with the same outputs")
    func roundTrip() throws {
        let tokenizer = CharacterTokenizer(corpus: "abcdefghij\n")
        let gpt = GPT(GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: 8, layers: 1, heads: 2, embedding: 8), seed: 5)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-gpt-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try LanguageModelFile.save(gpt, tokenizer: tokenizer, to: url)
        let (loaded, loadedTokenizer, _) = try LanguageModelFile.load(from: url)
        let copy = try #require(loaded as? GPT)
        #expect(copy.configuration == gpt.configuration && loadedTokenizer.vocabularySize == tokenizer.vocabularySize)
        let tokens = [1, 2, 3, 4]
        let a = noGrad { gpt.logits(tokens: tokens, batch: 1) }, b = noGrad { copy.logits(tokens: tokens, batch: 1) }
        expectClose(b, a, "logits after reload")
        #expect(copy.generate(prompt: [0], count: 5) == gpt.generate(prompt: [0], count: 5))
    }
}
