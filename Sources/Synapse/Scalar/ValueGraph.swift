import Foundation

/// Draws a `Value` graph the way the notes do: a record per value showing `label | data | grad`, a small oval per
/// op, edges child → op → result, left to right.
///
/// ```swift
/// let example = ScalarExamples.neuron()
/// example.output.backward()
/// let dot = ValueGraph.dot(example.output)              // Graphviz source
/// try ValueGraph.render(dot, format: .svg, to: URL(fileURLWithPath: "neuron.svg"))
/// ```
public enum ValueGraph {
    /// The file kinds `render` can produce; `.dot` is the source itself and needs no Graphviz.
    public enum Format: String, CaseIterable, Sendable {
        case dot, svg, png
    }

    /// Graphviz DOT source for `root` and everything it depends on. Values appear in topological order, so the
    /// output is the same for the same graph.
    public static func dot(_ root: Value, title: String? = nil) -> String {
        let order = root.topologicalOrder()
        var ids: [ObjectIdentifier: Int] = [:]
        for (index, value) in order.enumerated() { ids[ObjectIdentifier(value)] = index }
        var lines = ["digraph G {", "  rankdir=LR;", "  node [fontname=\"Helvetica\", fontsize=11];"]
        if let title {
            lines.append("  label=\"\(escapeString(title))\"; labelloc=t;")
        }
        for (index, value) in order.enumerated() {
            let cells = [escapeRecord(value.label), "data \(number(value.data))", "grad \(number(value.grad))"]
            lines.append("  v\(index) [shape=record, label=\"{ \(cells.joined(separator: " | ")) }\"];")
            guard !value.op.isEmpty else { continue }
            // The op gets its own small node so the reader sees which operation combined which inputs.
            lines.append("  v\(index)op [shape=ellipse, label=\"\(escapeString(value.op))\", fontsize=10, width=0.3, height=0.3];")
            lines.append("  v\(index)op -> v\(index);")
            for child in value.children {
                lines.append("  v\(ids[ObjectIdentifier(child)]!) -> v\(index)op;")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `dot` source to `url` as `format`, atomically. SVG and PNG run Graphviz's `dot` program.
    public static func render(_ dot: String, format: Format, to url: URL) throws {
        if format == .dot {
            do {
                try Data(dot.utf8).write(to: url, options: .atomic)
            } catch {
                throw ValueGraphError.cannotWrite(path: url.path, reason: error.localizedDescription)
            }
            return
        }
        guard let program = findDotProgram() else { throw ValueGraphError.graphvizNotInstalled }
        // Let dot write next to the target, then rename: a reader never sees half an image. The source goes in a
        // file too, rather than a pipe, so a failing dot cannot kill us with SIGPIPE.
        let directory = url.deletingLastPathComponent()
        let stem = ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier)"
        let temporary = directory.appendingPathComponent(stem + ".tmp")
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-graph-\(UUID().uuidString).dot")
        do {
            try Data(dot.utf8).write(to: source)
        } catch {
            throw ValueGraphError.cannotWrite(path: source.path, reason: error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(at: source) }
        let process = Process()
        process.executableURL = program
        process.arguments = ["-T\(format.rawValue)", "-o", temporary.path, source.path]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw ValueGraphError.graphvizFailed(status: -1, message: error.localizedDescription)
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            let firstLine = message.split(separator: "\n").first.map(String.init) ?? "no message"
            throw ValueGraphError.graphvizFailed(status: process.terminationStatus, message: firstLine)
        }
        // rename(2) replaces an existing file atomically; FileManager's replace/move refuse or copy instead.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ValueGraphError.cannotWrite(path: url.path, reason: reason)
        }
    }

    /// The `dot` executable on `PATH`, or `nil` when Graphviz is not installed.
    public static func findDotProgram() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("dot")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    static func number(_ x: Double) -> String { String(format: "%.4f", x) }

    /// Record labels treat `{ } | < >` as structure; a user's label must not reshape the node.
    static func escapeRecord(_ text: String) -> String {
        var out = ""
        for ch in text {
            if "{}|<>\"\\".contains(ch) { out.append("\\") }
            if ch == "\n" { out += " "; continue }
            out.append(ch)
        }
        return out
    }

    static func escapeString(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            if ch == "\n" { out += " "; continue }
            out.append(ch)
        }
        return out
    }
}

/// Why a graph could not be written.
public enum ValueGraphError: Error, CustomStringConvertible, Equatable {
    case graphvizNotInstalled
    case graphvizFailed(status: Int32, message: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .graphvizNotInstalled:
            return "the Graphviz 'dot' program is not on PATH; install it (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz) or use --format dot"
        case let .graphvizFailed(status, message):
            return "Graphviz 'dot' failed (exit status \(status)): \(message)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
