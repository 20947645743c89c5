import Foundation

/// A progress display for long loops such as a training epoch. It writes to **standard error**, so standard output
/// stays clean for results and pipes; it is the only part of the library that prints.
///
/// On a terminal it redraws one line in place, at most `redrawsPerSecond` times a second:
///
///     epoch 2/5 [██████████░░░░░░░░░░]  1234/1875  412 it/s  ETA 0:02  loss 0.231
///
/// When standard error is not a terminal (a log file, CI) it writes plain lines instead: one when the work finishes,
/// and optionally one every `plainReportFraction` of the way.
///
/// ```swift
/// let bar = ProgressBar(total: loader.batchCount, label: "epoch \(epoch)/\(epochs)")
/// for batch in loader {
///     let loss = step(batch)
///     bar.set("loss", loss)
///     bar.advance()
/// }
/// bar.finish()
/// ```
public final class ProgressBar {
    /// How the progress is shown.
    public enum Mode: Sendable {
        /// `terminal` when standard error is a terminal, `plain` otherwise.
        case automatic
        /// One line redrawn in place with `\r`.
        case terminal
        /// Whole lines, suitable for logs.
        case plain
        /// Nothing is written.
        case off
    }

    public let total: Int
    public var label: String
    public let mode: Mode
    /// Number of cells in the bar.
    public var barWidth: Int
    /// The name of one unit of work in the rate (`it/s`, `img/s`, ...).
    public var unit: String
    /// Upper bound on terminal redraws per second.
    public var redrawsPerSecond: Double
    /// In plain mode, also write a line each time this fraction of the work is done (e.g. 0.25); `nil`: only at the end.
    public var plainReportFraction: Double?
    /// Work done so far.
    public private(set) var completed = 0
    /// Extra `name value` pairs shown after the timing, in the order they were first set.
    public private(set) var fields: [(name: String, value: String)] = []

    private let clock: () -> Double
    private let write: (String) -> Void
    private let startTime: Double
    private var lastDraw: Double = -.infinity
    private var nextPlainReport = 1
    private var finished = false
    private var drewTerminalLine = false

    /// - Parameters:
    ///   - clock: seconds from any fixed origin; tests pass a fake one.
    ///   - write: where the text goes; defaults to standard error.
    public init(total: Int, label: String = "", mode: Mode = .automatic, barWidth: Int = 20, unit: String = "it",
                redrawsPerSecond: Double = 10, plainReportFraction: Double? = nil,
                clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime },
                write: @escaping (String) -> Void = ProgressBar.writeToStandardError) {
        precondition(total >= 0, "ProgressBar: total must not be negative, got \(total)")
        self.total = total
        self.label = label
        switch mode {
        case .automatic: self.mode = isatty(STDERR_FILENO) != 0 ? .terminal : .plain
        default: self.mode = mode
        }
        self.barWidth = barWidth
        self.unit = unit
        self.redrawsPerSecond = redrawsPerSecond
        self.plainReportFraction = plainReportFraction
        self.clock = clock
        self.write = write
        self.startTime = clock()
        if let fraction = plainReportFraction, fraction > 0 {
            nextPlainReport = max(1, Int((Double(total) * fraction).rounded(.up)))
        } else {
            nextPlainReport = Int.max
        }
    }

    public static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Sets (or replaces) an extra field; numbers are shown with 4 significant digits.
    public func set(_ name: String, _ value: Double) { set(name, ProgressBar.formatNumber(value)) }
    public func set(_ name: String, _ value: Float) { set(name, Double(value)) }
    public func set(_ name: String, _ value: String) {
        if let index = fields.firstIndex(where: { $0.name == name }) {
            fields[index].value = value
        } else {
            fields.append((name, value))
        }
    }

    /// Records `steps` more units of work and redraws if it is time to.
    public func advance(by steps: Int = 1) { update(completed: completed + steps) }

    /// Records the total work done so far and redraws if it is time to.
    public func update(completed newValue: Int) {
        completed = min(max(newValue, 0), total)
        guard !finished else { return }
        let now = clock()
        switch mode {
        case .terminal:
            if now - lastDraw >= 1 / redrawsPerSecond {
                lastDraw = now
                drewTerminalLine = true
                write("\r" + fittedLine(now: now, final: false) + "\u{1B}[K")
            }
        case .plain:
            if completed >= nextPlainReport && completed < total {
                write(line(now: now) + "\n")
                let step = max(1, Int((Double(total) * (plainReportFraction ?? 1)).rounded(.up)))
                while nextPlainReport <= completed { nextPlainReport += step }
            }
        case .off, .automatic:
            break
        }
    }

    /// Draws the final state and ends the line. Further updates are ignored.
    public func finish() {
        guard !finished else { return }
        finished = true
        let now = clock()
        switch mode {
        case .terminal: write("\r" + fittedLine(now: now, final: true) + "\u{1B}[K\n")
        case .plain: write(line(now: now, final: true) + "\n")
        case .off, .automatic: break
        }
    }

    /// A line longer than the terminal would wrap, and `\r` would then redraw only its last row: drop the bar
    /// first, then cut the end.
    private func fittedLine(now: Double, final: Bool) -> String {
        let text = line(now: now, final: final)
        guard let columns = terminalColumns, text.count >= columns else { return text }
        let compact = line(now: now, final: final, showBar: false)
        return compact.count < columns ? compact : String(compact.prefix(max(columns - 1, 0)))
    }

    private lazy var terminalColumns: Int? = {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }()

    /// Seconds since the bar was created.
    public var elapsed: Double { clock() - startTime }

    /// The text of the progress line at time `now` (without control characters).
    public func line(now: Double, final: Bool = false, showBar: Bool = true) -> String {
        let seconds = now - startTime
        let rate = seconds > 0 ? Double(completed) / seconds : 0
        var parts: [String] = []
        if !label.isEmpty { parts.append(label) }
        if mode == .terminal && showBar {
            parts.append("[" + ProgressBar.bar(fraction: total == 0 ? 1 : Double(completed) / Double(total), width: barWidth) + "]")
        }
        let digits = String(total).count
        parts.append(String(completed).leftPadded(toWidth: digits, with: " ") + "/" + String(total))
        parts.append(ProgressBar.formatRate(rate, unit: unit))
        if final || completed == total {
            parts.append(ProgressBar.formatDuration(seconds))
        } else {
            parts.append("ETA " + (rate > 0 ? ProgressBar.formatDuration(Double(total - completed) / rate) : "-:--"))
        }
        parts += fields.map { "\($0.name) \($0.value)" }
        return parts.joined(separator: "  ")
    }

    // MARK: Formatting

    /// `width` cells, the first `fraction` of them full.
    public static func bar(fraction: Double, width: Int) -> String {
        let clamped = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let full = Int((clamped * Double(width)).rounded(.down))
        return String(repeating: "█", count: full) + String(repeating: "░", count: width - full)
    }

    /// `m:ss` below an hour, `h:mm:ss` above.
    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "-:--" }
        let whole = Int(seconds.rounded())
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        let ss = String(s).leftPadded(toWidth: 2)
        return h > 0 ? "\(h):\(String(m).leftPadded(toWidth: 2)):\(ss)" : "\(m):\(ss)"
    }

    /// Items per second with sensible precision; below one per second, seconds per item.
    public static func formatRate(_ perSecond: Double, unit: String = "it") -> String {
        guard perSecond.isFinite, perSecond > 0 else { return "- \(unit)/s" }
        if perSecond >= 100 { return "\(Int(perSecond.rounded())) \(unit)/s" }
        if perSecond >= 10 { return String(format: "%.1f", perSecond) + " \(unit)/s" }
        if perSecond >= 1 { return String(format: "%.2f", perSecond) + " \(unit)/s" }
        return String(format: "%.2f", 1 / perSecond) + " s/\(unit)"
    }

    /// Four significant digits, without exponent for everyday magnitudes.
    public static func formatNumber(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e6) { return String(format: "%.3e", value) }
        return String(format: "%.4g", value)
    }
}
