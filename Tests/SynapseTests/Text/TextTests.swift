import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct CharacterTokenizerTests {
    @Test func vocabularyIsSortedByCodePointAndRoundTrips() throws {
        let tokenizer = CharacterTokenizer(corpus: "hello world\nÉté")
        #expect(tokenizer.vocabulary.map(\.value) == tokenizer.vocabulary.map(\.value).sorted())
        #expect(tokenizer.vocabulary.first == "\n")
        let ids = try tokenizer.encode("world Été")
        #expect(tokenizer.decode(ids) == "world Été")
        let restored = try CharacterTokenizer(vocabularyJSON: tokenizer.vocabularyJSON, source: "m.safetensors")
        #expect(restored == tokenizer)
    }

    @Test func unknownCharactersAndBadVocabulariesAreOneLineErrors() {
        let tokenizer = CharacterTokenizer(corpus: "abc")
        #expect(throws: TextError.unknownCharacter(source: "prompt", character: "z", position: 2)) {
            try tokenizer.encode("abz", source: "prompt")
        }
        let message = TextError.unknownCharacter(source: "--prompt", character: "€", position: 5).description
        #expect(message.contains("U+20AC") && message.contains("position 5") && !message.contains("\n"))
        #expect(throws: TextError.self) { try CharacterTokenizer(vocabularyJSON: "{\"a\": 1}", source: "f") }
        #expect(throws: TextError.badVocabulary(source: "f", reason: "entry 'ab' is not a single character")) {
            try CharacterTokenizer(vocabularyJSON: "[\"ab\"]", source: "f")
        }
        #expect(throws: TextError.badVocabulary(source: "f", reason: "entry 'a' appears twice")) {
            try CharacterTokenizer(vocabularyJSON: "[\"a\", \"a\"]", source: "f")
        }
    }
}

@Suite(.synapseRuntime) struct TextDatasetTests {
    static let corpus = String(repeating: "First Citizen:\nBefore we proceed any further, hear me speak.\n", count: 20)

    @Test func splitsNinetyTenAndShiftsTargets() throws {
        let dataset = try TextDataset(text: Self.corpus, blockLength: 8)
        let total = Self.corpus.unicodeScalars.count
        #expect(dataset.trainTokens.count == Int(0.9 * Double(total)))
        #expect(dataset.trainTokens.count + dataset.validationTokens.count == total)
        var rng = RandomGenerator(seed: 3)
        let batch = dataset.randomBatch(.validation, batchSize: 4, generator: &rng)
        #expect(batch.inputs.count == 32 && batch.targets.count == 32)
        for row in 0..<4 {
            let x = Array(batch.inputs[(row * 8)..<(row * 8 + 8)]), y = Array(batch.targets[(row * 8)..<(row * 8 + 8)])
            #expect(Array(x.dropFirst()) == Array(y.dropLast()), "targets are the inputs shifted by one")
            // The window must come from the validation split.
            let v = dataset.validationTokens
            #expect((0...(v.count - 9)).contains { Array(v[$0..<($0 + 8)]) == x && v[$0 + 8] == y[7] })
        }
    }

    @Test func emptyShortAndMissingFilesAreErrors() throws {
        #expect(throws: TextError.empty(path: "t.txt")) { try TextDataset(text: "", blockLength: 8, source: "t.txt") }
        #expect(throws: TextError.self) { try TextDataset(text: "short text", blockLength: 8, source: "t.txt") }
        let missing = URL(fileURLWithPath: "/nonexistent/synapse/input.txt")
        #expect(throws: TextError.unreadable(path: missing.path, reason: "no such file")) {
            try TextDataset(contentsOf: missing, blockLength: 8)
        }
    }
}

@Suite(.synapseRuntime) struct LanguageModelTests {
    static func tinyModel(_ kind: RecurrentLanguageModel.Kind, vocabulary: Int, seed: UInt64 = 0) -> RecurrentLanguageModel {
        var rng = RandomGenerator(seed: seed)
        return RecurrentLanguageModel(.init(kind: kind, vocabularySize: vocabulary, embeddingSize: 8, hiddenSize: 16, layers: 2),
                                      generator: &rng)
    }

    @Test func stateDictKeysMatchThePyTorchReference() {
        let model = Self.tinyModel(.lstm, vocabulary: 5)
        #expect(model.orderedStateDict().map(\.key) == [
            "embed.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1", "head.weight", "head.bias"])
    }

    @Test func filesRoundTripForEveryKindAndSessionsMatchFullForward() throws {
        let tokenizer = CharacterTokenizer(corpus: "abcdefg\n")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-lm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokens = try tokenizer.encode("abc\ngfed")
        for kind in RecurrentLanguageModel.Kind.allCases {
            let model = Self.tinyModel(kind, vocabulary: tokenizer.vocabularySize, seed: 9)
            let url = directory.appendingPathComponent("\(kind).safetensors")
            try LanguageModelFile.save(model, tokenizer: tokenizer, to: url)
            let (loaded, loadedTokenizer, _) = try LanguageModelFile.load(from: url)
            #expect(loadedTokenizer == tokenizer)
            let expected = noGrad { model.logits(tokens: tokens, batchSize: 1) }
            expectClose(noGrad { loaded.logits(tokens: tokens, batchSize: 1) }, expected, "\(kind) reloaded logits")
            // Feeding the prompt in pieces carries the recurrent state exactly.
            var session = loaded.makeSession()
            _ = session.feed(Array(tokens[..<3]))
            let last = session.feed(Array(tokens[3...]))
            let v = tokenizer.vocabularySize
            expectClose(Tensor(last), Tensor(Array(expected.scalars[((tokens.count - 1) * v)...])), "\(kind) session")
        }
        let url = directory.appendingPathComponent("plain.safetensors")
        try Self.tinyModel(.gru, vocabulary: 8).save(to: url)
        #expect(throws: LanguageModelFile.Error.missingMetadata(file: "plain.safetensors", key: LanguageModelFile.vocabularyKey)) {
            try LanguageModelFile.load(from: url)
        }
    }

    @Test func samplingIsSeededAndRespectsTemperatureAndTopK() {
        let logits: [Float] = [0.1, 2.0, 1.5, -1.0]
        var greedy = TokenSampler(temperature: 0, seed: 1)
        #expect(greedy.sample(logits) == 1)
        var topOne = TokenSampler(temperature: 5, topK: 1, seed: 2)
        #expect((0..<20).allSatisfy { _ in topOne.sample(logits) == 1 })
        var a = TokenSampler(temperature: 1, topK: 3, seed: 7), b = TokenSampler(temperature: 1, topK: 3, seed: 7)
        let drawsA = (0..<50).map { _ in a.sample(logits) }, drawsB = (0..<50).map { _ in b.sample(logits) }
        #expect(drawsA == drawsB)
        #expect(!drawsA.contains(3), "top-3 never picks the least likely token")
        #expect(Set(drawsA).count > 1)
    }

    @Test func trainingLowersTheLossAndGenerationStreams() throws {
        let text = String(repeating: "to be or not to be\n", count: 40)
        let dataset = try TextDataset(text: text, blockLength: 12)
        let model = Self.tinyModel(.lstm, vocabulary: dataset.tokenizer.vocabularySize, seed: 4)
        let trainer = TextTrainer(model: model, dataset: dataset,
                                  optimizer: Adam(parameters: model.parameters(), learningRate: 1e-2),
                                  options: .init(iterations: 60, batchSize: 8, evaluationInterval: 30, evaluationBatches: 4))
        var steps = 0
        let result = try trainer.run { if case .step = $0 { steps += 1 } }
        #expect(steps == 60)
        #expect(result.evaluations.map(\.iteration) == [30, 60])
        #expect(result.validationLoss < 1.5, "validation loss \(result.validationLoss) after 60 steps on a repeated line")
        var sampler = TokenSampler(temperature: 0, seed: 1)
        var pieces: [String] = []
        let generated = try TextGeneration.generate(model: model, tokenizer: dataset.tokenizer, prompt: "to be",
                                                    tokenCount: 14, sampler: &sampler) { pieces.append($0) }
        #expect(pieces.count == 14 && pieces.joined() == generated)
        #expect(throws: TextError.unknownCharacter(source: "prompt", character: "Z", position: 0)) {
            try TextGeneration.generate(model: model, tokenizer: dataset.tokenizer, prompt: "Z", tokenCount: 1, sampler: &sampler)
        }
    }
}
