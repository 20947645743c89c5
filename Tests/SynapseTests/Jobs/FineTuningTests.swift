import Foundation
import Testing
@testable import Synapse

/// The fine-tuning recipe on the tiny GGUF model of the PEFT fixtures, with a byte-level vocabulary of its 96 ids:
/// the two ChatML markers, the newline and the printable bytes from space to '|'.
enum TinyChat {
    static let tokenizer: BPETokenizer = {
        var tokens = ["<|im_start|>", "<|im_end|>", String(Character(BPETokenizer.byteToScalar[0x0A]))]
        tokens += (0x20...0x7C).map { String(Character(BPETokenizer.byteToScalar[$0])) }
        let kinds: [BPETokenizer.TokenKind] = [.control, .control] + [BPETokenizer.TokenKind](repeating: .normal, count: tokens.count - 2)
        return try! BPETokenizer(tokens: tokens, kinds: kinds, merges: [], preTokenizer: .gpt2)
    }()
    static let template = ChatTemplate(style: .chatML(defaultSystem: nil))

    static func conversation(_ user: String, _ assistant: String, line: Int = 1) -> ChatExample {
        ChatExample(messages: [ChatMessage(role: "user", content: user), ChatMessage(role: "assistant", content: assistant)], line: line)
    }

    /// Eight questions with fixed answers.
    static let data: [ChatExample] = (0..<8).map { i in
        conversation("What is item \(i)?", "Item \(i) is " + ["red", "blue", "green", "gold"][i % 4] + ".", line: i + 1)
    }

    static func options(steps: Int = 12) -> FineTuning.Options {
        var o = FineTuning.Options(lora: LoRAConfiguration(rank: 4, alpha: 8, targets: Set(LlamaProjection.allCases)))
        (o.steps, o.batchSize, o.learningRate, o.heldOutFraction, o.evaluationInterval) = (steps, 2, 1e-2, 0.25, 4)
        o.seed = 3
        return o
    }

    static func tuning(_ options: FineTuning.Options) throws -> FineTuning {
        try FineTuning(gguf: FinetuneFixtures.gguf, options: options, tokenizer: tokenizer, template: template)
    }
}

@Suite("Fine-tuning with LoRA (the synapse finetune recipe)", .synapseRuntime)
struct FineTuningTests {
    @Test func onlyTheAssistantsWordsAndEndOfTurnAreLearned() throws {
        let sequence = try ChatData.tokenize(TinyChat.conversation("Hi?", "Yes."), tokenizer: TinyChat.tokenizer,
                                             template: TinyChat.template, maximumTokens: 100)
        let text = TinyChat.tokenizer.decode(sequence.tokens, renderSpecial: true)
        #expect(text == "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nYes.<|im_end|>\n")
        let learned = sequence.tokens.indices.filter { sequence.learned[$0] }.map { sequence.tokens[$0] }
        #expect(TinyChat.tokenizer.decode(learned, renderSpecial: true) == "Yes.<|im_end|>")
        // The batch's targets: the next token where it is learned, −1 elsewhere (padding too).
        let longer = try ChatData.tokenize(TinyChat.conversation("Hello there?", "Yes."), tokenizer: TinyChat.tokenizer,
                                           template: TinyChat.template, maximumTokens: 100)
        let batch = FineTuning.batch([sequence, longer])
        #expect(batch.learned == 2 * learned.count)
        let t = longer.tokens.count
        let targets = Array(batch.targets[0..<t]).filter { $0 >= 0 }
        #expect(targets == learned)
        #expect(batch.targets[(t - 1)...].allSatisfy { $0 < 0 } || batch.targets[t - 1] < 0)
        #expect(throws: ChatDataError.self) {
            try ChatData.tokenize(TinyChat.conversation("Hi?", "Yes."), tokenizer: TinyChat.tokenizer, template: TinyChat.template, maximumTokens: 10)
        }
    }

    @Test func trainingLearnsTheAnswersAndReportsBeforeAndAfter() throws {
        var events: [FineTuning.Event] = []
        let result = try TinyChat.tuning(TinyChat.options(steps: 30)).run(train: TinyChat.data) { events.append($0) }
        #expect(result.steps == 30 && result.history.count == 30)
        #expect(result.heldOutLossAfter! < 0.5 * result.heldOutLossBefore!, "\(result.heldOutLossBefore!) → \(result.heldOutLossAfter!)")
        #expect(result.history.last!.loss < 0.2 * result.history.first!.loss)
        #expect(result.answersAfter.total == 2)
        // Warm-up (5% of 30 steps, rounded down to 1) then cosine decay to 0.
        #expect(result.history[0].learningRate == 1e-2)
        #expect(result.history.last!.learningRate < 1e-4)
        #expect(events.contains { if case .evaluation(step: 4, _) = $0 { true } else { false } })
    }

    @Test func aStoppedRunResumesToTheSameAdapter() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-ft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = TinyChat.options(steps: 9)
        options.checkAnswers = false
        let reference = try TinyChat.tuning(options).run(train: TinyChat.data)
        options.checkpoint = Checkpointing(directory: directory, resume: true)
        options.checkpointInterval = 4
        let probe = InterruptProbe()
        #expect(throws: TrainingError.self) {
            try InterruptProbe.$current.withValue(probe) {
                try TinyChat.tuning(options).run(train: TinyChat.data) { event in
                    if case .step(step: 6, _, _, _) = event { probe.signal = 15 }
                }
            }
        }
        let resumed = try TinyChat.tuning(options).run(train: TinyChat.data)
        let bits = { (lora: LlamaLoRA) in lora.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(resumed.lora) == bits(reference.lora))
        #expect(resumed.history == reference.history)
        // Another seed does not resume from this checkpoint.
        var other = options
        other.seed = 4
        #expect(throws: TrainingError.self) { try TinyChat.tuning(other).run(train: TinyChat.data) }
    }

    @Test func aDivergingRunStopsNamingTheStep() throws {
        var options = TinyChat.options(steps: 5)
        (options.learningRate, options.clip, options.checkAnswers) = (1e30, 0, false)
        do {
            _ = try TinyChat.tuning(options).run(train: TinyChat.data)
            Issue.record("a run with learning rate 1e30 finished")
        } catch let error as TrainingError {
            #expect("\(error)".contains("step"), "\(error)")
        }
    }

    @Test func badChatDataIsNamedByLineAndReason() {
        func message(_ text: String) -> String {
            do { _ = try ChatData.parse(Array(text.utf8), source: "chat.jsonl"); return "accepted" } catch { return error.description }
        }
        let ok = #"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}"#
        #expect(message(ok + "\n\n" + ok + "\r\n") == "accepted")
        #expect(message(ok + "\n{\"messages\": [") .hasPrefix("chat.jsonl, line 2: not valid JSON"))
        #expect(message(ok + "\n" + #"{"messages": [{"role": "user", "content": "a"}]}"#) == "chat.jsonl, line 2: has no assistant message, so nothing to learn from")
        #expect(message(#"{"messages": [{"role": "robot", "content": "a"}]}"#).contains("role \"robot\"; use system, user or assistant"))
        #expect(message(#"{"messages": [{"role": "user", "content": 3}]}"#).contains("message 1 has no \"content\" string"))
        #expect(message(#"{"text": "hi"}"#) == "chat.jsonl, line 1: has no \"messages\"")
        #expect(message("[1, 2]") == "chat.jsonl, line 1: holds an array, not an object with \"messages\"")
        #expect(message("\n  \n") == "chat.jsonl: holds no conversations; write one JSON object with \"messages\" per line")
        #expect(message(#"{"messages": []}"#).contains("not a non-empty list"))
    }

    @Test func readingRefusesWhatIsNotAFile() throws {
        #expect(throws: ChatDataError.self) { try ChatData.read(URL(fileURLWithPath: "/dev/zero")) }
        #expect(throws: ChatDataError.self) { try ChatData.read(FileManager.default.temporaryDirectory) }
        #expect(throws: ChatDataError.self) { try ChatData.read(URL(fileURLWithPath: "/no/such/file.jsonl")) }
    }
}
