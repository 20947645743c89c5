import Foundation
import Synapse

/// A JSON value to write: what the handlers answer with, built in code and serialised in one pass (a list of floats
/// is written straight from the array, the bulk of an embeddings or classify answer).
indirect enum JSONText: Sendable {
    case object([(String, JSONText)])
    case array([JSONText])
    case string(String)
    case int(Int)
    case double(Double)
    case floats([Float])
    case bool(Bool)
    case null

    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                out += JSONValue.escaped(key) + ":"
                value.write(into: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .string(let s): out += JSONValue.escaped(s)
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .floats(let values):
            out += "["
            for (i, v) in values.enumerated() {
                if i > 0 { out += "," }
                out += v.isFinite ? String(v) : "null"
            }
            out += "]"
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }
}

/// A request body read as a JSON object, with typed fields and errors that name the field.
struct RequestObject {
    let object: JSONObject

    init(bytes: [UInt8]) throws(APIError) {
        guard !bytes.isEmpty else { throw APIError.invalid("the request has no body; send a JSON object") }
        let value: JSONValue
        do { value = try StrictJSON.parse(bytes, maximumDepth: 16) } catch {
            throw APIError.invalid("the body is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .object(let object) = value else { throw APIError.invalid("the body is \(value.kindName), not a JSON object") }
        self.object = object
    }

    func has(_ key: String) -> Bool { object[key] != nil && object[key] != .null }

    func string(_ key: String) throws(APIError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let s) = value else { throw APIError.invalid("'\(key)' must be a string, not \(value.kindName)", param: key) }
        return s
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let value = object[key], value != .null else { return nil }
        guard case .number(let text) = value, let x = Double(text), x.isFinite else {
            throw APIError.invalid("'\(key)' must be a number, not \(value.kindName)", param: key)
        }
        guard range.contains(x) else { throw APIError.invalid("'\(key)' must lie in \(range.lowerBound)...\(range.upperBound), got \(text)", param: key) }
        return x
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let x = try number(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
        guard x == x.rounded() else { throw APIError.invalid("'\(key)' must be a whole number", param: key) }
        return Int(x)
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let b) = value else { throw APIError.invalid("'\(key)' must be true or false", param: key) }
        return b
    }

    /// OpenAI's `stop`: a string or a list of up to 4 strings.
    func stops() throws(APIError) -> [String] {
        guard let value = object["stop"], value != .null else { return [] }
        switch value {
        case .string(let s): return s.isEmpty ? [] : [s]
        case .array(let items):
            guard items.count <= 4 else { throw APIError.invalid("'stop' may hold at most 4 strings", param: "stop") }
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw APIError.invalid("'stop' must be a string or a list of strings", param: "stop") }
                if !s.isEmpty { out.append(s) }
            }
            return out
        default: throw APIError.invalid("'stop' must be a string or a list of strings", param: "stop")
        }
    }
}
