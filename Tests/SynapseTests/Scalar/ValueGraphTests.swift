import Foundation
import Testing
@testable import Synapse

@Suite("Scalar Graphviz export", .synapseRuntime)
struct ValueGraphTests {
    @Test func neuronDotShowsLabelsDataGradsAndOps() {
        let neuron = ScalarExamples.neuron()
        neuron.output.backward()
        let dot = ValueGraph.dot(neuron.output)
        #expect(dot.hasPrefix("digraph G {"))
        #expect(dot.contains("rankdir=LR;"))
        #expect(dot.contains("{ x1 | data 2.0000 | grad -1.5000 }"))
        #expect(dot.contains("{ w1 | data -3.0000 | grad 1.0000 }"))
        #expect(dot.contains("{ x2 | data 0.0000 | grad 0.5000 }"))
        #expect(dot.contains("{ w2 | data 1.0000 | grad 0.0000 }"))
        #expect(dot.contains("{ o | data 0.7071 | grad 1.0000 }"))
        // 10 values; 5 ops (two *, two +, tanh): each op has one edge out and one edge per input.
        #expect(dot.components(separatedBy: "shape=record").count - 1 == 10)
        #expect(dot.components(separatedBy: "shape=ellipse").count - 1 == 5)
        #expect(dot.components(separatedBy: " -> ").count - 1 == 5 + 9)
        #expect(dot.contains("label=\"tanh\""))
    }

    @Test func edgesGoChildToOpToResult() {
        let a = Value(1, label: "a"), b = Value(2, label: "b")
        let c = a * b
        let dot = ValueGraph.dot(c)
        // Topological order numbers a, b, c as v0, v1, v2.
        #expect(dot.contains("v0 -> v2op;") && dot.contains("v1 -> v2op;") && dot.contains("v2op -> v2;"))
    }

    @Test func labelsCannotBreakTheRecord() {
        let v = Value(1, label: "a|b {c} <d> \"e\"")
        let dot = ValueGraph.dot(v)
        #expect(dot.contains("a\\|b \\{c\\} \\<d\\> \\\"e\\\""))
    }

    /// SIGTERM to synapse alone (not its process group) stops Graphviz too: dot is terminated, nothing is written and
    /// neither temporary file (dot's source, the atomic output) is left behind.
    @Test(.enabled(if: ValueGraph.findDotProgram() != nil, "needs Graphviz"))
    func aSignalStopsGraphvizAndLeavesNothingBehind() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = (0..<3000).map { "v\($0)" }
        let parsed = try ExpressionParser.parse(names.joined(separator: "+"),
                                                variables: Dictionary(uniqueKeysWithValues: names.map { ($0, 1.0) }))
        let dot = ValueGraph.dot(parsed.output)   // seconds of layout for dot: still running when the watch looks
        let temporaries = { Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { $0.hasPrefix("synapse-graph-") && $0.hasSuffix(".dot") }) }
        let before = try temporaries()
        let probe = InterruptProbe()
        probe.signal = 15
        let url = directory.appendingPathComponent("big.svg")
        let started = Date()
        InterruptProbe.$current.withValue(probe) {
            #expect(throws: ValueGraphError.interrupted(signal: 15)) { try ValueGraph.render(dot, format: .svg, to: url) }
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        #expect(try temporaries() == before)
    }

    @Test func writesDotAndRendersSVGWhenGraphvizIsInstalled() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let neuron = ScalarExamples.neuron()
        neuron.output.backward()
        let dot = ValueGraph.dot(neuron.output)

        let dotURL = directory.appendingPathComponent("neuron.dot")
        try ValueGraph.render(dot, format: .dot, to: dotURL)
        #expect(try String(contentsOf: dotURL, encoding: .utf8) == dot)

        guard ValueGraph.findDotProgram() != nil else { return }   // the DOT path above is what remains testable
        let svgURL = directory.appendingPathComponent("neuron.svg")
        try ValueGraph.render(dot, format: .svg, to: svgURL)
        let svg = try String(contentsOf: svgURL, encoding: .utf8)
        #expect(svg.contains("<svg"))
        #expect(svg.contains("grad &#45;1.5000") && svg.contains("data 0.7071"))   // dot writes − as &#45;
        // Rendering over an existing file replaces it and leaves no temporary behind.
        try ValueGraph.render(dot, format: .svg, to: svgURL)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["neuron.dot", "neuron.svg"])

        #expect(throws: ValueGraphError.self) {
            try ValueGraph.render("digraph { this is not dot", format: .svg, to: directory.appendingPathComponent("bad.svg"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("bad.svg").path))
    }
}
