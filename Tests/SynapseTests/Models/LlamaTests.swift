import Foundation
import Testing
@testable import Synapse

/// SmolLM2-135M-Instruct's GGUF: $SYNAPSE_SMOLLM2_GGUF, else models/SmolLM2-135M-Instruct.Q4_1.gguf (where
/// scripts/get-models.sh puts it).
enum SmolLM2File {
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["SYNAPSE_SMOLLM2_GGUF"], !path.isEmpty { return path }
        return packageRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    }()
    static var available: Bool { FileManager.default.fileExists(atPath: path) }
    static let skipMessage: Comment = "SmolLM2 GGUF not found: run `bash scripts/get-models.sh` (or `scripts/test`), or set SYNAPSE_SMOLLM2_GGUF"

    /// Loaded once for every test that needs it (540 MB of Float32 weights).
    nonisolated(unsafe) static let model: (gguf: GGUFFile, llama: Llama, tokenizer: BPETokenizer)? = {
        guard available, let gguf = try? GGUFFile(path: path), let llama = try? Llama(gguf: gguf),
              let tokenizer = try? BPETokenizer(gguf: gguf) else { return nil }
        return (gguf, llama, tokenizer)
    }()
}

@Suite("Llama (against the NumPy reference of scripts/llama_reference.py)", .synapseRuntime)
struct LlamaTests {
    /// The largest |a − e| over all logits, relative to the largest |e|.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        var worst: Float = 0, scale: Float = 0
        for (a, e) in zip(actual, expected) { worst = max(worst, abs(a - e)); scale = max(scale, abs(e)) }
        return worst / max(scale, 1e-12)
    }

    @Test func tinyModelMatchesTheReference() throws {
        let gguf = try GGUFFile(path: LLMFixtures.url("tiny_llama.gguf").path)
        let model = try Llama(gguf: gguf)
        let c = model.configuration
        #expect((c.layers, c.embedding, c.feedForward, c.heads, c.keyValueHeads, c.vocabularySize) == (2, 64, 96, 4, 2, 300))
        #expect(c.tiedOutput)
        let fixture = try Fixtures.json("llm/tiny_llama.json")
        let tokens = (fixture["tokens"] as! [NSNumber]).map(\.intValue)
        let expected = (fixture["logits"] as! [[NSNumber]]).flatMap { $0.map(\.floatValue) }
        // All at once, and token by token through the cache: both equal the reference.
        let whole = model.forward(tokens, cache: model.makeCache())
        #expect(whole.shape == [tokens.count, 300])
        #expect(Self.relativeError(whole.scalars, expected) < 1e-5)
        let cache = model.makeCache()
        var stepwise: [Float] = []
        for (i, t) in tokens.enumerated() {
            if i == 4 { stepwise += model.forward(Array(tokens[4..<7]), cache: cache).scalars; continue }
            if i == 5 || i == 6 { continue }
            stepwise += model.forward([t], cache: cache).scalars
        }
        #expect(Self.relativeError(stepwise, expected) < 1e-5)
        let greedy = (fixture["greedy"] as! [NSNumber]).map(\.intValue)
        var session = LlamaSession(model: model)
        #expect(session.greedy(prompt: Array(tokens.prefix(5)), count: greedy.count) == greedy)
    }

    @Test func rotaryEmbeddingPassesGradCheck() {
        var g = RandomGenerator(seed: 3)
        let x = Tensor.normal([3, 8], std: 1, generator: &g).requiringGrad()
        let w = Tensor.normal([3, 8], std: 1, generator: &g)
        let result = GradCheck.check([x]) { inputs in (inputs[0].rotaryEmbedding(headDim: 4, start: 5, base: 100) * w).sum() }
        #expect(result.passed, "\(result)")
        // Position 0 does not rotate; rotation keeps each pair's length.
        let y = x.detached().rotaryEmbedding(headDim: 4, start: 0)
        #expect(y.slice(axis: 0, 0..<1).scalars == x.detached().slice(axis: 0, 0..<1).scalars)
        let z = x.detached().rotaryEmbedding(headDim: 4, start: 7)
        let (xs, zs) = (x.detached().scalars, z.scalars)
        for p in stride(from: 0, to: xs.count, by: 2) {
            #expect(abs((xs[p] * xs[p] + xs[p + 1] * xs[p + 1]) - (zs[p] * zs[p] + zs[p + 1] * zs[p + 1])) < 1e-4)
        }
    }

    @Test func rmsNormPassesGradCheck() {
        var g = RandomGenerator(seed: 4)
        let x = Tensor.normal([2, 6], std: 1, generator: &g).requiringGrad()
        let w = Tensor.normal([6], std: 1, generator: &g).requiringGrad()
        let result = GradCheck.check([x, w]) { i in i[0].rmsNorm(weight: i[1], eps: 1e-5).squared().sum() }
        #expect(result.passed, "\(result)")
    }

    /// Grouped-query attention through the fused kernel equals attention composed of matmul, mask and softmax with
    /// each key/value head repeated for its group of query heads.
    @Test func groupedQueryAttentionMatchesTheComposedReference() {
        var g = RandomGenerator(seed: 5)
        let (t, heads, kvHeads, d) = (5, 4, 2, 8)
        let q = Tensor.normal([t, heads * d], std: 1, generator: &g)
        let k = Tensor.normal([t, kvHeads * d], std: 1, generator: &g)
        let v = Tensor.normal([t, kvHeads * d], std: 1, generator: &g)
        let out = Tensor(uninitializedShape: [t, heads * d])
        var geometry = Tensor.attentionGeometry(batch: 1, heads: heads, queryLength: t, keyLength: t, features: heads * d,
                                                causal: true, keyLengths: nil, scale: nil)
        geometry.queriesPerKeyHead = heads / kvHeads
        Kernels.attentionForward(geometry, query: AttentionOperand(base: q.storage.pointer, rowStride: heads * d, batchStride: 0),
                                 key: AttentionOperand(base: k.storage.pointer, rowStride: kvHeads * d, batchStride: 0),
                                 value: AttentionOperand(base: v.storage.pointer, rowStride: kvHeads * d, batchStride: 0),
                                 out: AttentionOperand(base: out.storage.pointer, rowStride: heads * d, batchStride: 0),
                                 probabilities: nil)
        var mask = [Float](repeating: 0, count: t * t)
        for i in 0..<t { for j in (i + 1)..<max(t, i + 1) where j < t { mask[i * t + j] = -.infinity } }
        let maskTensor = Tensor(shape: [t, t], scalars: mask)
        var heads_: [Tensor] = []
        for h in 0..<heads {
            let kh = h / (heads / kvHeads)
            let qh = q.slice(axis: 1, (h * d)..<((h + 1) * d))
            let keys = k.slice(axis: 1, (kh * d)..<((kh + 1) * d)), values = v.slice(axis: 1, (kh * d)..<((kh + 1) * d))
            let scores = qh.matmul(keys.transposed()) * (1 / Float(d).squareRoot()) + maskTensor
            heads_.append(scores.softmax(axis: -1).matmul(values))
        }
        expectClose(out, Tensor.concat(heads_, axis: 1), rtol: 1e-5, atol: 1e-5, "GQA attention")
    }

    @Test func badModelsAreRefusedWithTheirReason() throws {
        let blocks = try GGUFFile(path: LLMFixtures.url("blocks.gguf").path)
        #expect(throws: GGUFError.unsupportedArchitecture(file: blocks.path, architecture: "test")) { _ = try Llama(gguf: blocks) }
        // Heads that do not divide the width: patch the u32 value of llama.attention.head_count in the tiny file.
        var bytes = try LLMFixtures.bytes("tiny_llama.gguf")
        let key = Array("llama.attention.head_count".utf8)
        let at = try #require((0..<(bytes.count - key.count)).first { bytes[$0..<($0 + key.count)].elementsEqual(key) && bytes[$0 + key.count] != UInt8(ascii: "_") })
        bytes[at + key.count + 4] = 5   // after the u32 type tag
        let file = try LLMFixtures.gguf(bytes)
        #expect(throws: GGUFError.self) { _ = try Llama(gguf: file) }
        do { _ = try Llama(gguf: file) } catch { #expect("\(error)".contains("do not divide")) }
        // A missing tensor is named.
        var renamed = try LLMFixtures.bytes("tiny_llama.gguf")
        let name = Array("blk.1.ffn_up.weight".utf8)
        let n = try #require((0..<(renamed.count - name.count)).first { renamed[$0..<($0 + name.count)].elementsEqual(name) })
        renamed[n + 4] = UInt8(ascii: "X")
        let missing = try LLMFixtures.gguf(renamed)
        #expect(throws: GGUFError.missingTensor(file: missing.path, tensor: "blk.1.ffn_up.weight")) { _ = try Llama(gguf: missing) }
    }
}

@Suite("SmolLM2-135M-Instruct (the real GGUF) against the NumPy reference", .enabled(if: SmolLM2File.available, SmolLM2File.skipMessage), .synapseRuntime)
struct SmolLM2Tests {
    @Test func configurationComesFromTheMetadata() throws {
        let (gguf, model, _) = try #require(SmolLM2File.model)
        let c = model.configuration
        #expect((c.layers, c.embedding, c.feedForward, c.heads, c.keyValueHeads, c.headDim) == (30, 576, 1536, 9, 3, 64))
        #expect((c.vocabularySize, c.contextLength, c.tiedOutput) == (49152, 8192, true))
        #expect(c.ropeBase == 100_000 && c.normEpsilon == 1e-5)
        #expect(c.parameterCount == 134_515_008)
        #expect(gguf.tensors.filter { $0.type == .q4_1 }.count == 210)
    }

    @Test func logitsMatchTheReference() throws {
        let (_, model, _) = try #require(SmolLM2File.model)
        let reference = try SafeTensorsFile(contentsOf: LLMFixtures.url("smollm2_logits.safetensors"))
        let fixture = try Fixtures.json("llm/smollm2.json")
        let chatIds = ((fixture["chat"] as! [String: Any])["ids"] as! [NSNumber]).map(\.intValue)
        let all = model.forward(chatIds, cache: model.makeCache())
        let expected = try reference.floatTensor("chat")
        #expect(all.shape == expected.shape)
        let error = LlamaTests.relativeError(all.scalars, expected.scalars)
        #expect(error < 1e-3, "chat prompt: max |Δlogit| / max |logit| = \(error)")
        print("SmolLM2 parity: chat prompt (\(chatIds.count) positions) max |Δlogit| / max |logit| = \(error)")
        for (i, prompt) in (fixture["prompts"] as! [[String: Any]]).enumerated() {
            let ids = (prompt["ids"] as! [NSNumber]).map(\.intValue)
            let last = model.forward(ids, cache: model.makeCache(), lastOnly: true)
            let e = LlamaTests.relativeError(last.scalars, try reference.floatTensor("prompt\(i)").scalars)
            #expect(e < 1e-3, "prompt \(i): \(e)")
            print("SmolLM2 parity: prompt \(i) last position \(e)")
        }
    }

    @Test func greedyContinuationsEqualTheReference() throws {
        let (_, model, tokenizer) = try #require(SmolLM2File.model)
        let fixture = try Fixtures.json("llm/smollm2.json")
        for prompt in fixture["prompts"] as! [[String: Any]] {
            let ids = (prompt["ids"] as! [NSNumber]).map(\.intValue)
            let expected = (prompt["greedy"] as! [NSNumber]).map(\.intValue)
            var session = LlamaSession(model: model)
            let produced = session.greedy(prompt: ids, count: expected.count, stop: tokenizer.endOfText)
            #expect(produced == expected, "\(prompt["text"] as! String): \(tokenizer.decode(produced)) vs \(tokenizer.decode(expected))")
        }
    }
}

@Suite("Chat sessions and sampling", .synapseRuntime)
struct LlamaChatTests {
    @Test func samplerTruncationsKeepTheBestToken() {
        let logits: [Float] = [0, 5, 1, 4.9, -2]
        var nucleus = TokenSampler(temperature: 1, topP: 0.01, seed: 1)
        var minP = TokenSampler(temperature: 1, minP: 0.99, seed: 2)
        for _ in 0..<50 {
            #expect(nucleus.sample(logits) == 1)
            #expect(minP.sample(logits) == 1)
        }
        // top-p 0.9 keeps tokens 1 and 3 (0.50 + 0.45 of the mass) and never draws the others.
        var both = TokenSampler(temperature: 1, topP: 0.9, seed: 3)
        let draws = Set((0..<200).map { _ in both.sample(logits) })
        #expect(draws == [1, 3])
        // A repetition penalty moves the greedy choice off a token just produced.
        var greedy = TokenSampler(temperature: 0, repetitionPenalty: 1.5)
        #expect(greedy.sample(logits, recent: [1]) == 3)
    }

    @Test(.enabled(if: SmolLM2File.available, SmolLM2File.skipMessage))
    func aSecondTurnReusesTheCachedConversation() throws {
        let (gguf, model, tokenizer) = try #require(SmolLM2File.model)
        let chat = LlamaChat(model: model, tokenizer: tokenizer, template: try ChatTemplate(source: try gguf.string("tokenizer.chat_template")))
        var sampler = TokenSampler(temperature: 0)
        var streamed = ""
        let first = try chat.reply(to: "What is the capital of France?", sampler: &sampler, maxTokens: 16) { streamed += $0 }
        #expect(first == "The capital of France is Paris.")
        #expect(streamed == first)
        let cachedAfterFirst = chat.session.tokens.count
        _ = try chat.reply(to: "And of Italy?", sampler: &sampler, maxTokens: 12)
        // The second prompt's tokens start with the whole first exchange, so the cache kept it.
        let second = tokenizer.encode(chat.renderedPrompt(adding: nil))
        #expect(Array(second.prefix(cachedAfterFirst)) == Array(chat.session.tokens.prefix(cachedAfterFirst)))
        #expect(chat.messages.count == 4)
        chat.reset()
        #expect(chat.messages.isEmpty && chat.session.tokens.isEmpty)
        #expect(throws: LLMError.self) { try chat.reply(to: String(repeating: "word ", count: 9000), sampler: &sampler) }
    }
}
