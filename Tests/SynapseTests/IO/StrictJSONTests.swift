import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct StrictJSONTests {
    private func parse(_ text: String) throws -> JSONValue { try StrictJSON.parse(Array(text.utf8)) }

    private func syntaxError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try parse(text)
            return nil
        } catch let error as JSONSyntaxError {
            return error
        } catch {
            return nil
        }
    }

    @Test func parsesNestedValuesKeepingKeyOrder() throws {
        let value = try parse(#" {"z": [1, -2.5e3, true, false, null], "a": {"b": "c"}} "#)
        guard case let .object(object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["z", "a"])
        #expect(object["z"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(object["a"] == .object({ var o = JSONObject(); _ = o.insert(.string("c"), forKey: "b"); return o }()))
    }

    @Test func decodesEscapesAndUnicode() throws {
        #expect(try parse(#""a\"\\\/\b\f\n\r\t""#) == .string("a\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u20AC\ud83d\ude00""#) == .string("é€😀"))
        #expect(try parse("\"é€😀\"") == .string("é€😀"))
    }

    @Test func numbersKeepTheirTextExactly() throws {
        #expect(try parse("18446744073709551616") == .number("18446744073709551616"))
        #expect(try parse("-0") == .number("-0"))
        #expect(try parse("0.5E+10") == .number("0.5E+10"))
    }

    @Test func rejectsWhatLenientParsersAccept() {
        let invalid = [
            "", " ", "{", "[1,]", "[1 2]", #"{"a" 1}"#, #"{a:1}"#, "'a'", "01", "1.", ".5", "+1", "1e", "-", "NaN",
            "Infinity", "[1]]", "{}{}", "// c\n{}", "\"\\x41\"", "\"\\u12\"", "\"\\udc00\"", "\"\\ud800x\"", "\"a\tb\"",
            #"{"k":1,"k":2}"#, "nul", "truex",
        ]
        for text in invalid {
            #expect(syntaxError(text) != nil, "accepted \(text.debugDescription)")
        }
        #expect(syntaxError(#"{"k":1,"k":2}"#)?.reason == #"duplicate key "k""#)
        #expect(syntaxError("[1,]")?.offset == 3)
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
                               [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xE2]] {
            #expect(throws: JSONSyntaxError.self) { try StrictJSON.parse(bytes) }
        }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(deep)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(syntaxError(tooDeep)?.reason.contains("nesting") == true)
        // Far deeper input fails quickly instead of overflowing the stack.
        #expect(syntaxError(String(repeating: "[", count: 1_000_000)) != nil)
    }

    @Test func escapingRoundTrips() throws {
        let text = "tab\there \"quote\" back\\slash \u{01} é 😀 /"
        #expect(try parse(JSONValue.escaped(text)) == .string(text))
        #expect(JSONValue.escaped("\u{01}\n") == #""\u0001\n""#)
    }
}
