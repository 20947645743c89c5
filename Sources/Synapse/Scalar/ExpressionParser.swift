import Foundation

/// Turns a typed arithmetic expression such as `"a*b + c"` into a `Value` graph, so a reader can draw and
/// differentiate formulas of their own.
///
/// Grammar (precedence low to high; `^` and `**` bind right to left, and tighter than unary minus, so
/// `-a^2` is −(a²)):
///
///     expression := term (("+" | "-") term)*
///     term       := unary (("*" | "/") unary)*
///     unary      := ("-" | "+") unary | power
///     power      := primary (("^" | "**") unary)?
///     primary    := number | name | function "(" expression ")" | "(" expression ")"
///     function   := exp | log | tanh | relu | sigmoid
///
/// Every variable becomes one shared leaf, so `a*a` uses `a` twice and its gradient collects both paths.
/// Exponents must be constants (`a^2`, `a^(1/2)`), as in `Value.pow`. Each op's result is labelled with the
/// source text that produced it. Bad input throws an `ExpressionError`; nesting is limited to
/// `ExpressionParser.maximumDepth` so hostile input cannot exhaust the stack.
///
/// ```swift
/// let parsed = try ExpressionParser.parse("a*b + c", variables: ["a": 2, "b": -3, "c": 10])
/// parsed.output.backward()
/// print(parsed.output.data, parsed.variables["a"]!.grad)   // 4.0 -3.0
/// ```
public struct ExpressionParser {
    /// Deepest allowed nesting of parentheses, function calls, unary signs and exponents.
    public static let maximumDepth = 100

    /// The graph built from an expression.
    public struct Parsed {
        public let output: Value
        /// The leaf for each variable the expression uses.
        public let variables: [String: Value]
    }

    public static let functions = ["exp", "log", "tanh", "relu", "sigmoid"]

    /// Parses `text` with the given variable values.
    public static func parse(_ text: String, variables: [String: Double]) throws(ExpressionError) -> Parsed {
        var parser = ExpressionParser(text: text, bindings: variables)
        parser.skipSpaces()
        guard parser.index < parser.characters.count else {
            throw .syntax(position: 1, problem: "the expression is empty")
        }
        let (output, _) = try parser.expression()
        if parser.index < parser.characters.count {
            throw parser.error("unexpected '\(parser.characters[parser.index])' after a complete expression")
        }
        if !parser.unknown.isEmpty { throw .unknownVariables(parser.unknown) }
        return Parsed(output: output, variables: parser.leaves)
    }

    /// Parses variable assignments such as `"a=2, b=-3,c=1e-2"`.
    public static func parseBindings(_ text: String) throws(ExpressionError) -> [String: Double] {
        var result: [String: Double] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, isName(parts[0]) else {
                throw .badBinding("'\(item.trimmingCharacters(in: .whitespaces))' is not of the form name=number")
            }
            guard let value = Double(parts[1]), value.isFinite else {
                throw .badBinding("'\(parts[1])' (for \(parts[0])) is not a finite number")
            }
            result[parts[0]] = value
        }
        return result
    }

    // MARK: Recursive descent

    private let characters: [Character]
    private let bindings: [String: Double]
    private var index = 0
    private var depth = 0
    private var leaves: [String: Value] = [:]
    /// Unknown names, in order of first appearance: they are all reported together after parsing.
    private var unknown: [String] = []

    private init(text: String, bindings: [String: Double]) {
        self.characters = Array(text)
        self.bindings = bindings
    }

    /// Each rule returns the value and whether it depends on a variable (exponents must not).
    private typealias Result = (value: Value, usesVariable: Bool)

    private mutating func expression() throws(ExpressionError) -> Result {
        let start = index
        var (left, usesVariable) = try term()
        while let op = peekOperator(), op == "+" || op == "-" {
            index += 1
            let (right, rightUses) = try term()
            left = op == "+" ? left + right : left - right
            left.label = sourceText(from: start)
            usesVariable = usesVariable || rightUses
        }
        return (left, usesVariable)
    }

    private mutating func term() throws(ExpressionError) -> Result {
        let start = index
        var (left, usesVariable) = try unary()
        while let op = peekOperator(), op == "*" || op == "/" {
            index += 1
            let (right, rightUses) = try unary()
            left = op == "*" ? left * right : left / right
            left.label = sourceText(from: start)
            usesVariable = usesVariable || rightUses
        }
        return (left, usesVariable)
    }

    private mutating func unary() throws(ExpressionError) -> Result {
        skipSpaces()
        let start = index
        guard index < characters.count, characters[index] == "-" || characters[index] == "+" else {
            return try power()
        }
        let sign = characters[index]
        index += 1
        try enter()
        defer { depth -= 1 }
        let (operand, usesVariable) = try unary()
        guard sign == "-" else { return (operand, usesVariable) }
        let negated = -operand
        negated.label = sourceText(from: start)
        return (negated, usesVariable)
    }

    private mutating func power() throws(ExpressionError) -> Result {
        let start = index
        let (base, usesVariable) = try primary()
        guard let op = peekOperator(), op == "^" || op == "**" else { return (base, usesVariable) }
        let exponentStart = index
        index += op.count
        try enter()
        defer { depth -= 1 }
        let (exponent, exponentUses) = try unary()
        if exponentUses {
            throw .syntax(position: exponentStart + 1,
                          problem: "the exponent after '\(op)' must be a constant; pow takes a number, not a variable")
        }
        let result = base.pow(exponent.data)
        result.label = sourceText(from: start)
        return (result, usesVariable)
    }

    private mutating func primary() throws(ExpressionError) -> Result {
        skipSpaces()
        guard index < characters.count else { throw error("expected a number, a name or '(' but the expression ended") }
        let start = index
        let ch = characters[index]
        if ch == "(" {
            index += 1
            try enter()
            defer { depth -= 1 }
            let inner = try expression()
            try expect(")", openedAt: start)
            return inner
        }
        if (ch.isASCII && ch.isNumber) || ch == "." { return (try number(), false) }
        if ch.isLetter || ch == "_" {
            let name = identifier()
            skipSpaces()
            if index < characters.count, characters[index] == "(" {
                guard Self.functions.contains(name) else {
                    throw .syntax(position: start + 1,
                                  problem: "unknown function '\(name)'; known: \(Self.functions.joined(separator: ", "))")
                }
                let open = index
                index += 1
                try enter()
                defer { depth -= 1 }
                let (argument, usesVariable) = try expression()
                try expect(")", openedAt: open)
                let result: Value
                switch name {
                case "exp": result = argument.exp()
                case "log": result = argument.log()
                case "tanh": result = argument.tanh()
                case "relu": result = argument.relu()
                default: result = argument.sigmoid()
                }
                result.label = sourceText(from: start)
                return (result, usesVariable)
            }
            return (variable(name), true)
        }
        throw error("unexpected '\(ch)'; expected a number, a name or '('")
    }

    // MARK: Pieces

    private mutating func variable(_ name: String) -> Value {
        if let leaf = leaves[name] { return leaf }
        guard let data = bindings[name] else {
            if !unknown.contains(name) { unknown.append(name) }
            return Value(0, label: name)   // keeps parsing so every unknown name is reported at once
        }
        let leaf = Value(data, label: name)
        leaves[name] = leaf
        return leaf
    }

    private mutating func number() throws(ExpressionError) -> Value {
        let start = index
        while index < characters.count, characters[index].isASCII, characters[index].isNumber || characters[index] == "." {
            index += 1
        }
        // A scientific exponent only when digits follow, so "2e" stays an error rather than a silent 2.
        if index < characters.count, characters[index] == "e" || characters[index] == "E" {
            var look = index + 1
            if look < characters.count, characters[look] == "+" || characters[look] == "-" { look += 1 }
            if look < characters.count, characters[look].isASCII, characters[look].isNumber {
                index = look
                while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            }
        }
        let text = String(characters[start..<index])
        guard let value = Double(text) else {
            throw .syntax(position: start + 1, problem: "'\(text)' is not a number")
        }
        guard value.isFinite else { throw .syntax(position: start + 1, problem: "'\(text)' is too large") }
        return Value(value)
    }

    private mutating func identifier() -> String {
        let start = index
        while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "_" {
            index += 1
        }
        return String(characters[start..<index])
    }

    /// The operator at the cursor (after spaces), without consuming it.
    private mutating func peekOperator() -> String? {
        skipSpaces()
        guard index < characters.count else { return nil }
        let ch = characters[index]
        if ch == "*", index + 1 < characters.count, characters[index + 1] == "*" { return "**" }
        return "+-*/^".contains(ch) ? String(ch) : nil
    }

    private mutating func expect(_ closing: Character, openedAt open: Int) throws(ExpressionError) {
        skipSpaces()
        guard index < characters.count else {
            throw error("missing '\(closing)' for the '(' at position \(open + 1)")
        }
        guard characters[index] == closing else {
            throw error("expected '\(closing)' for the '(' at position \(open + 1) but found '\(characters[index])'")
        }
        index += 1
    }

    private mutating func enter() throws(ExpressionError) {
        depth += 1
        // `index` is just past the opening character, i.e. its 1-based position.
        if depth > Self.maximumDepth { throw .nestingTooDeep(position: index, limit: Self.maximumDepth) }
    }

    private mutating func skipSpaces() {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
    }

    /// The source of the value just parsed, shortened for graph labels (and so long sums stay linear time).
    private func sourceText(from start: Int) -> String {
        let limit = 32
        let text = String(characters[start..<min(index, start + limit)]).trimmingCharacters(in: .whitespaces)
        return index - start <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    private func error(_ problem: String) -> ExpressionError { .syntax(position: index + 1, problem: problem) }

    private static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !functions.contains(text)
    }
}

/// A problem with a typed expression or its variable values. Positions count characters from 1.
public enum ExpressionError: Error, CustomStringConvertible, Equatable {
    case syntax(position: Int, problem: String)
    case unknownVariables([String])
    case nestingTooDeep(position: Int, limit: Int)
    case badBinding(String)

    public var description: String {
        switch self {
        case let .syntax(position, problem):
            return "expression, position \(position): \(problem)"
        case let .unknownVariables(names):
            let list = names.map { "'\($0)'" }.joined(separator: ", ")
            return "expression: no value for \(names.count == 1 ? "variable" : "variables") \(list); give \(names.count == 1 ? "it" : "them") one, e.g. \(names[0])=1"
        case let .nestingTooDeep(position, limit):
            return "expression, position \(position): nested more than \(limit) levels deep"
        case let .badBinding(problem):
            return "variable values: \(problem); write them as name=number, separated by commas"
        }
    }
}
