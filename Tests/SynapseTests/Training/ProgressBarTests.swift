import Testing
@testable import Synapse

/// A fake clock and a captured output for driving a `ProgressBar` without a terminal.
final class ProgressHarness {
    var now = 100.0
    var output: [String] = []

    func makeBar(total: Int, mode: ProgressBar.Mode, label: String = "epoch 2/5", plainReportFraction: Double? = nil) -> ProgressBar {
        ProgressBar(total: total, label: label, mode: mode, barWidth: 10, plainReportFraction: plainReportFraction,
                    clock: { [unowned self] in self.now }, write: { [unowned self] in self.output.append($0) })
    }
}

@Suite(.synapseRuntime) struct ProgressBarTests {
    @Test func barWidthAndFill() {
        #expect(ProgressBar.bar(fraction: 0, width: 10) == "░░░░░░░░░░")
        #expect(ProgressBar.bar(fraction: 0.66, width: 10) == "██████░░░░")
        #expect(ProgressBar.bar(fraction: 1, width: 10) == "██████████")
        #expect(ProgressBar.bar(fraction: 1.7, width: 4) == "████")
        #expect(ProgressBar.bar(fraction: .nan, width: 3) == "░░░")
    }

    @Test func durations() {
        #expect(ProgressBar.formatDuration(0) == "0:00")
        #expect(ProgressBar.formatDuration(2.4) == "0:02")
        #expect(ProgressBar.formatDuration(61) == "1:01")
        #expect(ProgressBar.formatDuration(3 * 3600 + 5 * 60 + 9) == "3:05:09")
        #expect(ProgressBar.formatDuration(.infinity) == "-:--")
    }

    @Test func rates() {
        #expect(ProgressBar.formatRate(411.6) == "412 it/s")
        #expect(ProgressBar.formatRate(42.25) == "42.2 it/s" || ProgressBar.formatRate(42.25) == "42.3 it/s")
        #expect(ProgressBar.formatRate(3.5, unit: "img") == "3.50 img/s")
        #expect(ProgressBar.formatRate(0.25) == "4.00 s/it")
        #expect(ProgressBar.formatRate(0) == "- it/s")
        #expect(ProgressBar.formatNumber(0.2311) == "0.2311")
        #expect(ProgressBar.formatNumber(0.00001234) == "1.234e-05")
    }

    @Test func terminalLineShowsBarRateEtaAndFields() {
        let h = ProgressHarness()
        let bar = h.makeBar(total: 1875, mode: .terminal)
        h.now += 3
        bar.set("loss", 0.231)
        bar.update(completed: 1236)
        // 1236 items in 3 s = 412 it/s; 639 left => 1.55 s => 0:02.
        #expect(h.output.last == "\repoch 2/5  [██████░░░░]  1236/1875  412 it/s  ETA 0:02  loss 0.231\u{1B}[K")
        #expect(bar.line(now: h.now, showBar: false) == "epoch 2/5  1236/1875  412 it/s  ETA 0:02  loss 0.231")
        bar.set("loss", 0.2)
        bar.set("acc", 0.9)
        #expect(bar.fields.map(\.name) == ["loss", "acc"])
    }

    @Test func terminalRedrawsAreThrottled() {
        let h = ProgressHarness()
        let bar = h.makeBar(total: 1000, mode: .terminal)
        for _ in 0..<100 { h.now += 0.001; bar.advance() }   // 0.1 s of work: one draw
        #expect(h.output.count == 1)
        h.now += 0.1
        bar.advance()
        #expect(h.output.count == 2)
        bar.finish()
        #expect(h.output.count == 3)
        #expect(h.output.last!.hasSuffix("\n"))
        #expect(!h.output.last!.contains("ETA"))
        bar.advance()
        bar.finish()
        #expect(h.output.count == 3)
    }

    @Test func plainModeWritesWholeLines() {
        let h = ProgressHarness()
        let bar = h.makeBar(total: 8, mode: .plain, plainReportFraction: 0.25)
        for _ in 0..<8 { h.now += 0.5; bar.advance() }
        bar.finish()
        // Reports at 2, 4, 6 of 8, then the final line; no bar, no carriage returns.
        #expect(h.output.count == 4)
        #expect(h.output.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("█") })
        #expect(h.output[0] == "epoch 2/5  2/8  2.00 it/s  ETA 0:03\n")
        #expect(h.output[3] == "epoch 2/5  8/8  2.00 it/s  0:04\n")
    }

    @Test func plainModeDefaultsToOneLineAtTheEnd() {
        let h = ProgressHarness()
        let bar = h.makeBar(total: 100, mode: .plain)
        for _ in 0..<100 { bar.advance() }
        bar.finish()
        #expect(h.output.count == 1)
    }

    @Test func offWritesNothing() {
        let h = ProgressHarness()
        let bar = h.makeBar(total: 10, mode: .off)
        for _ in 0..<10 { h.now += 1; bar.advance() }
        bar.finish()
        #expect(h.output.isEmpty)
    }
}
