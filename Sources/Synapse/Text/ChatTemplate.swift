import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { (self.role, self.content) = (role, content) }
}

/// Turns a conversation into the text an instruction-tuned model was trained on, following the Jinja template stored
/// in the GGUF file (`tokenizer.chat_template`).
///
/// Synapse does not run Jinja; it recognises the template families that models ship and renders them exactly:
/// - **ChatML** (SmolLM, Qwen, …): `<|im_start|>role\ncontent<|im_end|>\n` per message, `<|im_start|>assistant\n` as the
///   generation prompt, and the template's default system message when the conversation has none;
/// - **Llama 3**: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` after `<|begin_of_text|>`.
/// Any other template is refused with `ChatTemplate.Error.unsupported`, naming its start.
///
/// ```swift
/// let template = try ChatTemplate(source: try gguf.string("tokenizer.chat_template"))
/// let prompt = template.render([ChatMessage(role: "user", content: "Hi!")], addGenerationPrompt: true)
/// // "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, …<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
/// ```
public struct ChatTemplate: Sendable, Equatable {
    public enum Style: Sendable, Equatable {
        case chatML(defaultSystem: String?)
        case llama3
    }

    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        case unsupported(start: String)
        public var description: String {
            switch self {
            case .unsupported(let start):
                "the model's chat template is not one Synapse knows (ChatML, Llama 3): it starts \(start.debugDescription); use `synapse generate` with a prompt you format yourself"
            }
        }
    }

    public let style: Style
    /// The text that ends an assistant turn; generation stops there.
    public var endOfTurn: String {
        switch style {
        case .chatML: "<|im_end|>"
        case .llama3: "<|eot_id|>"
        }
    }

    public init(style: Style) { self.style = style }

    public init(source: String) throws(Error) {
        if source.contains("<|im_start|>") && source.contains("<|im_end|>") {
            // A default system message is written as a literal inside the first-message branch.
            // Jinja source may hold the newline itself or the escape `\n`.
            var system: String?
            for newline in ["\n", "\\n"] {
                let marker = "'<|im_start|>system" + newline
                if system == nil, source.contains("loop.first"), let open = source.range(of: marker),
                   let close = source.range(of: "<|im_end|>", range: open.upperBound..<source.endIndex) {
                    system = String(source[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "\\n", with: "\n")
                }
            }
            style = .chatML(defaultSystem: system)
        } else if source.contains("<|start_header_id|>") && source.contains("<|eot_id|>") {
            style = .llama3
        } else {
            throw .unsupported(start: String(source.prefix(60)))
        }
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        segments(messages, addGenerationPrompt: addGenerationPrompt).map(\.text).joined()
    }

    /// The rendered conversation in pieces, each marked with whether a model being fine-tuned learns to write it:
    /// an assistant message's content and the end-of-turn marker after it are learned; the headers, the other roles'
    /// messages and the template's own text are not. `render` is these pieces joined.
    public func segments(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> [(text: String, learned: Bool)] {
        var out: [(text: String, learned: Bool)] = []
        switch style {
        case .chatML(let defaultSystem):
            if let defaultSystem, messages.first?.role != "system" {
                out.append(("<|im_start|>system\n\(defaultSystem)<|im_end|>\n", false))
            }
            for m in messages {
                if m.role == "assistant" {
                    out += [("<|im_start|>assistant\n", false), (m.content + "<|im_end|>", true), ("\n", false)]
                } else {
                    out.append(("<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n", false))
                }
            }
            if addGenerationPrompt { out.append(("<|im_start|>assistant\n", false)) }
        case .llama3:
            out.append(("<|begin_of_text|>", false))
            for m in messages {
                let header = "<|start_header_id|>\(m.role)<|end_header_id|>\n\n"
                if m.role == "assistant" {
                    out += [(header, false), (m.content + "<|eot_id|>", true)]
                } else {
                    out.append((header + m.content + "<|eot_id|>", false))
                }
            }
            if addGenerationPrompt { out.append(("<|start_header_id|>assistant<|end_header_id|>\n\n", false)) }
        }
        return out
    }
}
