import Foundation

/// Why chat data cannot be used: the file, and where a line is at fault, which line and why.
public struct ChatDataError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based; nil for the file as a whole.
    public var line: Int?
    public var reason: String

    public init(path: String, line: Int? = nil, reason: String) { (self.path, self.line, self.reason) = (path, line, reason) }

    public var description: String { line.map { "\(path), line \($0): \(reason)" } ?? "\(path): \(reason)" }
}

/// One conversation of a chat dataset, with the line it came from.
public struct ChatExample: Sendable, Equatable {
    public var messages: [ChatMessage]
    public var line: Int
    public init(messages: [ChatMessage], line: Int) { (self.messages, self.line) = (messages, line) }
}

/// A conversation as a model reads it: its token ids, and for each token whether the model learns to write it (the
/// assistant's words and end-of-turn marker) or only reads it (the prompt: system and user turns, headers).
public struct ChatSequence: Sendable, Equatable {
    public var tokens: [Int]
    public var learned: [Bool]
    public var line: Int

    /// Tokens the model learns to write.
    public var learnedCount: Int { learned.lazy.filter { $0 }.count }
}

/// Chat data for fine-tuning, in the form most tools write it (OpenAI's fine-tuning files, Hugging Face TRL): a
/// JSONL file, one conversation per line,
///
///     {"messages": [{"role": "system", "content": "…"}, {"role": "user", "content": "…"},
///                   {"role": "assistant", "content": "…"}]}
///
/// Roles are `system`, `user` and `assistant`; other keys are ignored; blank lines are skipped. Every line is checked
/// before any is used, and the first bad one is named with why.
///
/// ```swift
/// let examples = try ChatData.read(URL(fileURLWithPath: "chat.jsonl"))
/// let sequence = try ChatData.tokenize(examples[0], tokenizer: tokenizer, template: template, maximumTokens: 2048)
/// ```
public enum ChatData {
    /// Larger files are refused before reading.
    public static let maximumFileBytes = 1 << 30
    static let roles: Set<String> = ["system", "user", "assistant"]

    /// The conversations of a JSONL file.
    public static func read(_ url: URL) throws(ChatDataError) -> [ChatExample] {
        let bytes = try readBounded(url)
        return try parse(bytes, source: url.path)
    }

    /// The conversations of JSONL text.
    public static func parse(_ bytes: [UInt8], source: String) throws(ChatDataError) -> [ChatExample] {
        var examples: [ChatExample] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var slice = bytes[start..<end]
            if slice.last == 0x0D { slice = slice.dropLast() }
            start = end + 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            examples.append(try parseLine(Array(slice), line: lineNumber, source: source))
        }
        guard !examples.isEmpty else { throw ChatDataError(path: source, reason: "holds no conversations; write one JSON object with \"messages\" per line") }
        return examples
    }

    private static func parseLine(_ bytes: [UInt8], line: Int, source: String) throws(ChatDataError) -> ChatExample {
        let fail = { (reason: String) in ChatDataError(path: source, line: line, reason: reason) }
        let value: JSONValue
        do { value = try StrictJSON.parse(bytes, maximumDepth: 8) } catch {
            throw fail("not valid JSON (\(error.reason) at column \(error.offset + 1))")
        }
        guard case .object(let object) = value else { throw fail("holds \(value.kindName), not an object with \"messages\"") }
        guard let list = object["messages"] else { throw fail("has no \"messages\"") }
        guard case .array(let items) = list, !items.isEmpty else { throw fail("\"messages\" is not a non-empty list") }
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            guard case .object(let message) = item else { throw fail("message \(index + 1) is \(item.kindName), not an object") }
            guard case .string(let role)? = message["role"] else { throw fail("message \(index + 1) has no \"role\" string") }
            guard roles.contains(role) else {
                throw fail("message \(index + 1) has role \(role.debugDescription); use system, user or assistant")
            }
            guard case .string(let content)? = message["content"] else { throw fail("message \(index + 1) has no \"content\" string") }
            messages.append(ChatMessage(role: role, content: content))
        }
        guard messages.contains(where: { $0.role == "assistant" }) else {
            throw fail("has no assistant message, so nothing to learn from")
        }
        return ChatExample(messages: messages, line: line)
    }

    /// The conversation rendered with `template` and tokenised piece by piece (`ChatTemplate.segments`), so the
    /// assistant's words are tokenised exactly as the model will produce them after the prompt. Longer than
    /// `maximumTokens`: an error naming the line.
    public static func tokenize(_ example: ChatExample, tokenizer: BPETokenizer, template: ChatTemplate, maximumTokens: Int,
                                source: String = "chat data") throws(ChatDataError) -> ChatSequence {
        var tokens: [Int] = [], learned: [Bool] = []
        for segment in template.segments(example.messages, addGenerationPrompt: false) {
            let ids = tokenizer.encode(segment.text)
            tokens += ids
            learned += [Bool](repeating: segment.learned, count: ids.count)
            guard tokens.count <= maximumTokens else {
                throw ChatDataError(path: source, line: example.line,
                                    reason: "the conversation is longer than \(maximumTokens) tokens; shorten it or raise --max-tokens (the model's context is the limit)")
            }
        }
        return ChatSequence(tokens: tokens, learned: learned, line: example.line)
    }

    /// The file's bytes, refusing a directory, a device that never ends, or anything larger than the limit before
    /// reading past it.
    static func readBounded(_ url: URL) throws(ChatDataError) -> [UInt8] {
        let path = url.path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw ChatDataError(path: path, reason: !exists ? "no such file" : isDirectory.boolValue ? "is a directory, not a JSONL file" : "cannot be opened (permissions?)")
        }
        defer { try? handle.close() }
        var status = stat()
        if fstat(handle.fileDescriptor, &status) == 0 {
            let kind = status.st_mode & S_IFMT
            guard kind == S_IFREG || kind == S_IFIFO else {
                throw ChatDataError(path: path, reason: kind == S_IFDIR ? "is a directory, not a JSONL file" : "is a device, not a JSONL file")
            }
        }
        var bytes: [UInt8] = []
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw ChatDataError(path: path, reason: "cannot be read (is it a directory?)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            bytes += chunk
            guard bytes.count <= maximumFileBytes else {
                throw ChatDataError(path: path, reason: "is larger than \(maximumFileBytes >> 30) GiB; split it")
            }
        }
        guard !bytes.isEmpty else { throw ChatDataError(path: path, reason: "is empty; write one JSON object with \"messages\" per line") }
        return bytes
    }
}
