import ArgumentParser
import Foundation
import Synapse

/// `synapse graph`: draw a scalar computation graph with its data and gradients (Graphviz).
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a scalar Value graph with data and gradients (Graphviz DOT, SVG or PNG).",
        discussion: """
            Examples:
              synapse graph --example neuron --out neuron.png
              synapse graph --example neuron --tanh-as-exp --format svg
              synapse graph --example expression --expr "a*b + c" --set a=2,b=-3,c=10 --out expr.svg
            SVG and PNG need the Graphviz 'dot' program (apt-get install graphviz); without it the DOT source is
            written instead.
            """)

    enum Example: String, ExpressibleByArgument, CaseIterable {
        case neuron, expression
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dot, svg, png
    }

    @Option(help: "Which graph: neuron (the notes' tanh neuron) or expression (your own, with --expr).")
    var example: Example = .neuron

    @Flag(help: "Neuron example: write tanh as (e^{2n} - 1)/(e^{2n} + 1); the gradients come out identical.")
    var tanhAsExp = false

    @Option(help: "Expression example: the formula, e.g. \"a*b + c\" (+ - * / ^ **, exp log tanh relu sigmoid).")
    var expr: String?

    @Option(name: .customLong("set"), help: "Expression example: variable values, e.g. a=2,b=-3,c=10.")
    var bindings: String = ""

    @Option(help: "Output file (default: <example>.<format>).")
    var out: String?

    @Option(help: "dot, svg or png (default: from --out's extension, else svg).")
    var format: Format?

    @Flag(help: "Draw the graph before backpropagation (all gradients 0).")
    var noBackward = false

    func run() throws {
        if let out { try AtomicFile.checkWritable(file: URL(fileURLWithPath: out)) }
        let output: Value
        let leaves: [(String, Value)]
        switch example {
        case .neuron:
            if expr != nil { throw ValidationError("--expr belongs to --example expression") }
            let neuron = ScalarExamples.neuron(tanhAsExp: tanhAsExp)
            output = neuron.output
            leaves = [("x1", neuron.x1), ("w1", neuron.w1), ("x2", neuron.x2), ("w2", neuron.w2), ("b", neuron.b)]
        case .expression:
            guard let expr else { throw ValidationError("--example expression needs --expr, e.g. --expr \"a*b + c\"") }
            do {
                let parsed = try ExpressionParser.parse(expr, variables: try ExpressionParser.parseBindings(bindings))
                output = parsed.output
                leaves = parsed.variables.sorted { $0.key < $1.key }
            } catch {
                throw CLIFailure(message: error.description)
            }
        }
        if !noBackward { output.backward() }

        let chosenFormat = format ?? out.flatMap { Format(rawValue: URL(fileURLWithPath: $0).pathExtension.lowercased()) } ?? .svg
        let path = out ?? "\(example.rawValue).\(chosenFormat.rawValue)"
        let dot = ValueGraph.dot(output)

        print("output = \(output.data)")
        for (name, leaf) in leaves { print("  \(name) = \(leaf.data)\tgrad \(leaf.grad)") }

        let url = URL(fileURLWithPath: path)
        do {
            try ValueGraph.render(dot, format: ValueGraph.Format(rawValue: chosenFormat.rawValue)!, to: url)
            print("wrote \(path)")
        } catch ValueGraphError.graphvizNotInstalled {
            let dotURL = chosenFormat == .dot ? url : url.deletingPathExtension().appendingPathExtension("dot")
            do {
                try ValueGraph.render(dot, format: .dot, to: dotURL)
            } catch {
                throw CLIFailure(message: "\(error)")
            }
            printError("Graphviz 'dot' was not found on PATH, so no \(chosenFormat.rawValue.uppercased()) was made; install it with 'apt-get install graphviz' (macOS: 'brew install graphviz').")
            print("wrote \(dotURL.path) (render it later with: dot -T\(chosenFormat.rawValue) \(dotURL.path) -o \(path))")
        } catch ValueGraphError.interrupted(let signal) {
            printError("\(ValueGraphError.interrupted(signal: signal))")
            throw ExitCode(130)
        } catch {
            throw CLIFailure(message: "\(error)")
        }
    }
}

/// A one-line error for the user, printed without the usage text ArgumentParser adds to validation errors.
private struct CLIFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

private func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
