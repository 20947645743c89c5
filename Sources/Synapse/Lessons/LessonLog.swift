import Foundation

/// What a lesson says, checks and draws, collected as it runs.
///
/// Every lesson prints its worked numbers (`say`), verifies them against an independent computation (`check`: the
/// closed form against gradient descent, autograd against the hand derivation, …) and writes its pictures into one
/// directory (`picture`). The command line prints each line as it comes and fails when a check fails; tests read
/// `checks` and `pictures` afterwards.
///
/// ```swift
/// let log = try LessonLog(directory: URL(fileURLWithPath: "runs/lessons/neuron"))
/// try NeuronLesson.run(log)
/// log.failedChecks.isEmpty   // true
/// ```
public final class LessonLog {
    /// One verified figure.
    public struct Check: Sendable {
        public let name: String
        public let passed: Bool
        /// What was compared, e.g. "autograd 0.1966 vs formula 0.1966 (|Δ| 1.5e-08 ≤ 1e-06)".
        public let detail: String
    }

    /// The directory the pictures go into (created by `init`).
    public let directory: URL
    /// Every line said so far, in order.
    public private(set) var lines: [String] = []
    public private(set) var checks: [Check] = []
    /// Paths of the pictures written, in order.
    public private(set) var pictures: [String] = []
    private let echo: ((String) -> Void)?

    /// - Parameter echo: called with every line as it is said (and every check as it is made); `print` for a terminal.
    public init(directory: URL, echo: ((String) -> Void)? = nil) throws {
        self.directory = directory
        self.echo = echo
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public var failedChecks: [Check] { checks.filter { !$0.passed } }

    /// Prints one line of the lesson.
    public func say(_ line: String = "") {
        lines.append(line)
        echo?(line)
    }

    /// A section heading.
    public func heading(_ title: String) {
        if !lines.isEmpty { say() }
        say("== \(title)")
    }

    /// Checks `actual` against `expected` to within `tolerance` (absolute).
    public func check(_ name: String, _ actual: Double, equals expected: Double, tolerance: Double) {
        let difference = abs(actual - expected)
        let passed = difference <= tolerance && actual.isFinite
        record(Check(name: name, passed: passed,
                     detail: "\(LessonLog.format(actual)) vs \(LessonLog.format(expected)) (|Δ| \(String(format: "%.1e", difference)) \(passed ? "≤" : ">") \(String(format: "%.0e", tolerance)))"))
    }

    /// Checks a condition, with what it rests on.
    public func check(_ name: String, _ condition: Bool, _ detail: String) {
        record(Check(name: name, passed: condition, detail: detail))
    }

    /// Writes a picture named `file` into the directory with `write` and records it.
    @discardableResult
    public func picture(_ file: String, _ write: (String) throws -> Void) throws -> String {
        let path = directory.appendingPathComponent(file).path
        try write(path)
        pictures.append(path)
        say("picture: \(path)")
        return path
    }

    private func record(_ check: Check) {
        checks.append(check)
        let line = "check \(check.passed ? "ok  " : "FAIL") \(check.name): \(check.detail)"
        lines.append(line)
        echo?(line)
    }

    /// Up to 6 significant digits, no trailing noise: 1.4, 0.880797, 1.0e-07.
    public static func format(_ x: Double) -> String {
        if x == 0 { return "0" }
        if !x.isFinite { return "\(x)" }
        if abs(x) >= 1e-4 && abs(x) < 1e7 {
            var text = String(format: "%.6g", x)
            if text.contains("e") { text = String(format: "%.1f", x) }
            return text
        }
        return String(format: "%.3e", x)
    }
}

/// A lesson's failure to run at all (its checks failing is reported through `LessonLog.failedChecks` instead).
public enum LessonError: Error, CustomStringConvertible, Equatable {
    /// A setting is out of range, e.g. a training size of 0.
    case invalidSetting(String)

    public var description: String {
        switch self {
        case .invalidSetting(let message): return message
        }
    }
}
