import Foundation
import Testing
@testable import Synapse

@Suite("Scalar expression parser", .synapseRuntime)
struct ExpressionParserTests {
    private func value(_ text: String, _ variables: [String: Double] = [:]) throws -> Double {
        try ExpressionParser.parse(text, variables: variables).output.data
    }

    @Test func precedenceAndAssociativity() throws {
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("(1 + 2) * 3") == 9)
        #expect(try value("8 / 4 / 2") == 1)            // left to right
        #expect(try value("10 - 4 - 3") == 3)
        #expect(try value("2 ^ 3 ^ 2") == 512)          // right to left
        #expect(try value("2 ** 3") == 8)
        #expect(try value("-2 ^ 2") == -4)              // −(2²)
        #expect(try value("2 ^ -1") == 0.5)
        #expect(try value("--3") == 3)
        #expect(try value("+3 - -3") == 6)
        #expect(try value("1.5e2 + .5 + 2E-1") == 150.7)
        #expect(abs(try value("exp(1)") - M_E) < 1e-15)
        #expect(try value("relu(-3) + sigmoid(0) + tanh(0) + log(1)") == 0.5)
        #expect(try value("a^(1/2)", ["a": 9]) == 3)
    }

    @Test func variablesAreSharedLeavesWithGradients() throws {
        let parsed = try ExpressionParser.parse("a*b + c", variables: ["a": 2, "b": -3, "c": 10, "unused": 1])
        parsed.output.backward()
        #expect(parsed.output.data == 4)
        #expect(parsed.variables.keys.sorted() == ["a", "b", "c"])
        #expect(parsed.variables["a"]!.grad == -3 && parsed.variables["b"]!.grad == 2 && parsed.variables["c"]!.grad == 1)
        #expect(parsed.output.label == "a*b + c")

        let square = try ExpressionParser.parse("x * x + x", variables: ["x": 3])
        square.output.backward()
        #expect(square.variables["x"]!.grad == 7)   // 2x + 1: one leaf, three contributions
    }

    @Test func malformedInputIsAOneLineError() {
        let cases: [(String, ExpressionError)] = [
            ("", .syntax(position: 1, problem: "the expression is empty")),
            ("a +", .syntax(position: 4, problem: "expected a number, a name or '(' but the expression ended")),
            ("(a + 1", .syntax(position: 7, problem: "missing ')' for the '(' at position 1")),
            ("a + 1)", .syntax(position: 6, problem: "unexpected ')' after a complete expression")),
            ("2a", .syntax(position: 2, problem: "unexpected 'a' after a complete expression")),
            ("a $ b", .syntax(position: 3, problem: "unexpected '$' after a complete expression")),
            ("1.2.3", .syntax(position: 1, problem: "'1.2.3' is not a number")),
            ("1e999", .syntax(position: 1, problem: "'1e999' is too large")),
            ("foo(1)", .syntax(position: 1, problem: "unknown function 'foo'; known: exp, log, tanh, relu, sigmoid")),
            ("2 ^ a", .syntax(position: 3, problem: "the exponent after '^' must be a constant; pow takes a number, not a variable")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try ExpressionParser.parse(text, variables: ["a": 1, "b": 2]) }
            do {
                _ = try ExpressionParser.parse(text, variables: ["a": 1, "b": 2])
            } catch {
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func unknownVariablesAreAllNamed() {
        #expect(throws: ExpressionError.unknownVariables(["x", "y"])) {
            try ExpressionParser.parse("a * x + y - x", variables: ["a": 1])
        }
        #expect(ExpressionError.unknownVariables(["x", "y"]).description.contains("'x', 'y'"))
    }

    @Test func hostileNestingIsRejectedNotACrash() throws {
        let deep = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        #expect(throws: ExpressionError.nestingTooDeep(position: ExpressionParser.maximumDepth + 1,
                                                     limit: ExpressionParser.maximumDepth)) {
            try ExpressionParser.parse(deep, variables: [:])
        }
        let minus = String(repeating: "-", count: 100_000) + "1"
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(minus, variables: [:]) }
        let calls = String(repeating: "exp(", count: 10_000) + "0" + String(repeating: ")", count: 10_000)
        #expect(throws: ExpressionError.self) { try ExpressionParser.parse(calls, variables: [:]) }
        // Just inside the limit still parses.
        let ok = String(repeating: "(", count: ExpressionParser.maximumDepth - 1) + "1"
            + String(repeating: ")", count: ExpressionParser.maximumDepth - 1)
        #expect(try value(ok) == 1)
        // A long flat sum is not nesting: it builds a 20,000-node chain iteratively.
        let sum = Array(repeating: "a", count: 20_000).joined(separator: "+")
        let parsed = try ExpressionParser.parse(sum, variables: ["a": 1])
        parsed.output.backward()
        #expect(parsed.output.data == 20_000 && parsed.variables["a"]!.grad == 20_000)
    }

    @Test func bindings() throws {
        #expect(try ExpressionParser.parseBindings("a=2, b=-3,c=1e-2") == ["a": 2, "b": -3, "c": 0.01])
        #expect(try ExpressionParser.parseBindings("") == [:])
        #expect(throws: ExpressionError.self) { try ExpressionParser.parseBindings("a=2,b") }
        #expect(throws: ExpressionError.self) { try ExpressionParser.parseBindings("a=two") }
        #expect(throws: ExpressionError.self) { try ExpressionParser.parseBindings("2a=1") }
        #expect(throws: ExpressionError.self) { try ExpressionParser.parseBindings("x=inf") }
    }
}
