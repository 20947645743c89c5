import ArgumentParser
import Foundation
import Synapse

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with an instruction-tuned LLM from its GGUF file (e.g. SmolLM2-135M-Instruct).",
        discussion: """
            Type a message and press Return; the answer streams as it is generated. /reset starts a new conversation, \
            /system TEXT sets the system message (and resets), Ctrl-D leaves. Standard input may be a pipe: \
            `echo "Hi" | synapse chat --model FILE.gguf` answers each line and exits.
            """)

    @Option(help: "The model file (.gguf).")
    var model: String

    @Option(help: "The system message (default: the chat template's own, if it has one).")
    var system: String?

    @Option(help: "native: weights stay in their 4-bit blocks, integer dot products (fast); float: dequantised to Float32, the reference.")
    var precision: LLMPrecision = .native

    @Option(help: "A LoRA adapter to apply (a PEFT folder from `synapse finetune`, or its adapter_model.safetensors).")
    var adapter: String?

    @OptionGroup var sampling: SamplingOptions

    func run() throws {
        try requireValidUTF8Arguments()
        let llm = try LoadedLLM.load(model, precision: precision, adapter: adapter)
        let chat = LlamaChat(model: llm.model, tokenizer: llm.tokenizer, template: try llm.template, system: system)
        var sampler = sampling.sampler()
        let interactive = isatty(STDIN_FILENO) != 0
        if interactive { FileHandle.standardError.write(Data("type a message; /reset, /system TEXT, Ctrl-D to leave\n".utf8)) }
        while true {
            if interactive { writeUnbuffered("> ") }
            guard let line = try readStrictLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/reset" { chat.reset(); writeUnbuffered("(new conversation)\n"); continue }
            if text.hasPrefix("/system") {
                chat.system = String(text.dropFirst("/system".count)).trimmingCharacters(in: .whitespaces)
                chat.reset()
                writeUnbuffered("(system message set; new conversation)\n")
                continue
            }
            let show = sampling.showProbabilities
            do {
                try chat.reply(to: line, sampler: &sampler, maxTokens: sampling.maxTokens,
                               onText: { if show == 0 { writeUnbuffered($0) } },
                               onToken: { token, logits in
                                   if show > 0 { printProbabilities(token: token, logits: logits, count: show, tokenizer: llm.tokenizer) }
                               })
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                continue
            }
            writeUnbuffered(show == 0 ? "\n" : (chat.messages.last.map { "answer: \($0.content)\n" } ?? "\n"))
        }
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Show how an LLM's tokenizer cuts text into tokens: each piece and its id.")

    @Option(help: "The model file (.gguf).")
    var model: String

    @Argument(help: "The text to tokenize (control tokens such as <|im_start|> are recognised).")
    var text: String

    @Option(help: "text (a table) or json ({\"ids\": [...], \"pieces\": [...]}).")
    var format: OutputFormat = .text

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func run() throws {
        try requireValidUTF8Arguments()
        let gguf = try GGUFFile(path: model)
        let tokenizer = try BPETokenizer(gguf: gguf)
        let ids = tokenizer.encode(text)
        let pieces = tokenizer.pieces(ids)
        switch format {
        case .json:
            let data = try JSONSerialization.data(withJSONObject: ["ids": ids, "pieces": pieces], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        case .text:
            print("\(ids.count) tokens (vocabulary of \(tokenizer.vocabularySize))")
            for (id, piece) in zip(ids, pieces) {
                print(String(id).leftPadded(6) + "  " + piece.debugDescription)
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
