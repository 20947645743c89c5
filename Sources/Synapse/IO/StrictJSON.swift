/// A JSON value as read by `StrictJSON`.
///
/// Numbers keep their source text so that callers decide how to read them (safetensors offsets are 64-bit
/// integers, which a `Double` would round).
public enum JSONValue: Equatable, Sendable {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// A short name of the kind of value, for error messages.
    public var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// A JSON object that remembers the order of its keys, so that whoever walks it (and reports errors) does so in
/// the order of the text rather than in a hash order that changes from run to run.
public struct JSONObject: Equatable, Sendable {
    public private(set) var keys: [String] = []
    private(set) var values: [String: JSONValue] = [:]

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? { values[key] }

    /// Adds a member; returns false (and changes nothing) when the key is already present.
    mutating func insert(_ value: JSONValue, forKey key: String) -> Bool {
        guard values[key] == nil else { return false }
        keys.append(key)
        values[key] = value
        return true
    }

    /// The members in text order.
    public var members: [(key: String, value: JSONValue)] { keys.map { ($0, values[$0]!) } }
}

/// Why a text is not strict JSON, and at which byte offset.
public struct JSONSyntaxError: Error, Equatable, Sendable {
    public var reason: String
    public var offset: Int
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Written for untrusted file headers, it is stricter than `JSONSerialization`, whose Linux and Apple versions
/// differ: it rejects duplicate object keys, invalid UTF-8, unpaired surrogate escapes, control characters in
/// strings, trailing commas, comments, leading zeros and anything after the value except whitespace. Nesting is
/// limited so that hostile input cannot exhaust the stack.
///
/// ```swift
/// let value = try StrictJSON.parse(Array(#"{"a": [1, 2]}"#.utf8))
/// ```
public enum StrictJSON {
    public static let defaultMaximumDepth = 64

    public static func parse(_ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONValue in
            try parse(buffer, maximumDepth: maximumDepth)
        }
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = defaultMaximumDepth) throws(JSONSyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes, maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw JSONSyntaxError(reason: "unexpected \(parser.describeCurrent()) after the JSON value", offset: parser.position)
        }
        return value
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let maximumDepth: Int
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
        }

        var atEnd: Bool { position >= bytes.count }

        func describeCurrent() -> String {
            guard position < bytes.count else { return "end of text" }
            let byte = bytes[position]
            if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x\(String(byte, radix: 16))"
        }

        func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(reason: reason, offset: position) }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
            guard position < bytes.count, bytes[position] == byte else { throw fail("expected \(what), found \(describeCurrent())") }
            position += 1
        }

        mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard !atEnd else { throw fail("expected a value, found end of text") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try parseLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw fail("expected a value, found \(describeCurrent())")
            }
        }

        mutating func parseLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - position >= count else { throw fail("invalid literal") }
            let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
            for i in 0..<count where bytes[position + i] != expected[i] { throw fail("invalid literal") }
            position += count
        }

        mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels") }
            position += 1  // {
            var members = JSONObject()
            skipWhitespace()
            if !atEnd && bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard !atEnd, bytes[position] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key, found \(describeCurrent())")
                }
                let keyOffset = position
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                skipWhitespace()
                let value = try parseValue(depth: depth)
                if !members.insert(value, forKey: key) {
                    throw JSONSyntaxError(reason: "duplicate key \(JSONValue.escaped(String(key.prefix(200))))", offset: keyOffset)
                }
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated object") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw fail("expected ',' or '}' in an object, found \(describeCurrent())")
            }
        }

        mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= maximumDepth else { throw fail("nesting deeper than \(maximumDepth) levels") }
            position += 1  // [
            var elements: [JSONValue] = []
            skipWhitespace()
            if !atEnd && bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth))
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated array") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
                throw fail("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }

        /// Reads `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?` and returns its text.
        mutating func parseNumber() throws(JSONSyntaxError) -> String {
            let start = position
            func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard !atEnd, isDigit(bytes[position]) else { throw fail("expected a digit in a number") }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
                if !atEnd && isDigit(bytes[position]) { throw fail("number with a leading zero") }
            } else {
                while !atEnd && isDigit(bytes[position]) { position += 1 }
            }
            if !atEnd && bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard !atEnd, isDigit(bytes[position]) else { throw fail("expected a digit after '.'") }
                while !atEnd && isDigit(bytes[position]) { position += 1 }
            }
            if !atEnd && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
                position += 1
                if !atEnd && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
                guard !atEnd, isDigit(bytes[position]) else { throw fail("expected a digit in an exponent") }
                while !atEnd && isDigit(bytes[position]) { position += 1 }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        }

        /// Reads a string literal, decoding escapes and validating UTF-8.
        mutating func parseString() throws(JSONSyntaxError) -> String {
            position += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            while true {
                guard !atEnd else { throw fail("unterminated string") }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") { position += 1; return String(scalars) }
                if byte < 0x20 { throw fail("unescaped control character 0x\(String(byte, radix: 16)) in a string") }
                if byte == UInt8(ascii: "\\") {
                    scalars.append(try parseEscape())
                } else if byte < 0x80 {
                    scalars.append(Unicode.Scalar(byte))
                    position += 1
                } else {
                    scalars.append(try parseMultiByteScalar())
                }
            }
        }

        /// Decodes one UTF-8 sequence of 2–4 bytes, rejecting overlong forms, surrogates and values above U+10FFFF.
        mutating func parseMultiByteScalar() throws(JSONSyntaxError) -> Unicode.Scalar {
            let lead = UInt32(bytes[position])
            let length: Int
            let minimum: UInt32
            var value: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; minimum = 0x80; value = lead & 0x1F
            case 0xE0...0xEF: length = 3; minimum = 0x800; value = lead & 0x0F
            case 0xF0...0xF4: length = 4; minimum = 0x10000; value = lead & 0x07
            default: throw fail("invalid UTF-8 byte 0x\(String(lead, radix: 16))")
            }
            guard bytes.count - position >= length else { throw fail("truncated UTF-8 sequence") }
            for i in 1..<length {
                let continuation = UInt32(bytes[position + i])
                guard continuation & 0xC0 == 0x80 else { throw fail("invalid UTF-8 continuation byte") }
                value = (value << 6) | (continuation & 0x3F)
            }
            guard value >= minimum, let scalar = Unicode.Scalar(value) else { throw fail("invalid UTF-8 sequence") }
            position += length
            return scalar
        }

        mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
            position += 1  // backslash
            guard !atEnd else { throw fail("unterminated escape") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try parseHex4()
                if unit >= 0xD800 && unit < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate escape") }
                    position += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate escape") }
                    return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(unit) else { throw fail("unpaired surrogate escape") }
                return scalar
            default:
                position -= 1
                throw fail("invalid escape \\\(describeCurrent())")
            }
        }

        mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
            guard bytes.count - position >= 4 else { throw fail("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw fail("invalid hex digit in \\u escape")
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }
    }
}

extension JSONValue {
    /// `string` as a JSON string literal, escaped the way serde_json (safetensors' writer) does it: short escapes
    /// where JSON has them, `\u00XX` for other control characters, everything else verbatim.
    public static func escaped(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
