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

    /// Writes `dot` source to `url` as `format` through `AtomicFile` (so a device or FIFO is written into, never
    /// replaced). SVG and PNG run Graphviz's `dot` program, stopped after `timeLimit` seconds.
    public static func render(_ dot: String, format: Format, to url: URL, timeLimit: Double = 60) throws {
        do {
            if format == .dot {
                try AtomicFile.write(text: dot, to: url)
                return
            }
            guard let program = findDotProgram() else { throw ValueGraphError.graphvizNotInstalled }
            try AtomicFile.write(to: url) { temporary in
                try runDot(program, source: dot, format: format, output: temporary, timeLimit: timeLimit)
            }
        } catch let error as AtomicFile.WriteError {
            throw ValueGraphError.cannotWrite(path: error.path, reason: error.reason)
        }
    }

    /// Runs `dot -T<format> -o output` on `source` (from a temporary file rather than a pipe, so a failing dot cannot
    /// kill us with SIGPIPE), terminating it after `timeLimit` seconds.
    static func runDot(_ program: URL, source dot: String, format: Format, output: URL, timeLimit: Double) throws {
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-graph-\(UUID().uuidString).dot")
        do {
            try Data(dot.utf8).write(to: source)
        } catch {
            throw ValueGraphError.cannotWrite(path: source.path, reason: error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(at: source) }
        let process = Process()
        process.executableURL = program
        process.arguments = ["-T\(format.rawValue)", "-o", output.path, source.path]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw ValueGraphError.graphvizFailed(status: -1, message: error.localizedDescription)
        }
        // dot is a child of ours, not of the shell's job: were we stopped alone (SIGTERM to our pid, a supervisor's
        // timeout) it would run on. So while it runs, SIGINT/SIGTERM are caught; a watch every 50 ms ends dot on one
        // of them or when the time is up, and the temporary files go with the thrown error.
        Runtime.stopTrainingOnInterrupt()
        let probe = InterruptProbe.current   // a test's simulated signal; task-locals do not reach a Dispatch queue
        let queue = DispatchQueue(label: "synapse.graphviz-watch")
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let deadline = DispatchTime.now() + timeLimit
        nonisolated(unsafe) var stopped: (timedOut: Bool, signal: Int32?) = (false, nil)   // touched on `queue` only
        nonisolated(unsafe) var terminatedAt: DispatchTime?
        timer.schedule(deadline: .now() + 0.05, repeating: 0.05)
        timer.setEventHandler {
            guard process.isRunning else { return }
            if let sent = terminatedAt {
                // A child that ignores SIGTERM (its mask is inherited: some parents block it) gets SIGKILL after 1 s.
                if DispatchTime.now() >= sent + 1 { kill(process.processIdentifier, SIGKILL) }
                return
            }
            if let signal = Runtime.interruptSignal ?? probe?.signal {
                stopped.signal = signal
            } else if DispatchTime.now() >= deadline {
                stopped.timedOut = true
            } else {
                return
            }
            terminatedAt = .now()
            process.terminate()
        }
        timer.resume()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        timer.cancel()
        let outcome = queue.sync { stopped }
        if let signal = outcome.signal { throw ValueGraphError.interrupted(signal: signal) }
        if outcome.timedOut { throw ValueGraphError.graphvizTimedOut(seconds: timeLimit) }
        guard process.terminationStatus == 0 else {
            let firstLine = message.split(separator: "\n").first.map(String.init) ?? "no message"
            throw ValueGraphError.graphvizFailed(status: process.terminationStatus, message: firstLine)
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
    case graphvizTimedOut(seconds: Double)
    /// SIGINT or SIGTERM arrived while `dot` ran: it was stopped and nothing was written.
    case interrupted(signal: Int32)

    public var description: String {
        switch self {
        case .graphvizNotInstalled:
            return "the Graphviz 'dot' program is not on PATH; install it (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz) or use --format dot"
        case let .graphvizFailed(status, message):
            return "Graphviz 'dot' failed (exit status \(status)): \(message)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .interrupted(signal):
            return "stopped by \(signal == 2 ? "SIGINT" : signal == 15 ? "SIGTERM" : "signal \(signal)") while Graphviz 'dot' ran; nothing was written"
        case let .graphvizTimedOut(seconds):
            return "Graphviz 'dot' took longer than \(Int(seconds)) s and was stopped; draw a smaller expression or use --format dot"
        }
    }
}
