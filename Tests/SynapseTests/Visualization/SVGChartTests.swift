import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct SVGChartTests {
    @Test func niceSteps() {
        #expect(LineChart.niceStep(0.23) == 0.2)
        #expect(LineChart.niceStep(1) == 1)
        #expect(LineChart.niceStep(1.5) == 2)
        #expect(LineChart.niceStep(37) == 50)
        #expect(abs(LineChart.niceStep(0.0031) - 0.005) < 1e-12)
    }

    @Test func axesExtendToNiceTicks() {
        let axis = LineChart.axis(low: 0.043, high: 2.31, extendToTicks: true)
        #expect(axis.low == 0 && axis.high == 2.5 && axis.step == 0.5)
        #expect(axis.ticks == [0, 0.5, 1, 1.5, 2, 2.5])
        let epochs = LineChart.axis(low: 1, high: 10, extendToTicks: false)
        #expect(epochs.low == 1 && epochs.high == 10)
        #expect(epochs.ticks == [2, 4, 6, 8, 10])
        let constant = LineChart.axis(low: 3, high: 3, extendToTicks: true)
        #expect(constant.low < 3 && constant.high > 3)
        #expect(LineChart.label(0.5, step: 0.5) == "0.5")
        #expect(LineChart.label(2, step: 0.5) == "2.0")
        #expect(LineChart.label(0.95, step: 0.05) == "0.95")
        #expect(LineChart.label(4, step: 2) == "4")
    }

    @Test func svgHasPanelsCurvesLegendAndEscapedText() {
        var chart = LineChart(title: "loss & accuracy <test>")
        chart.panels = [
            .init(title: "loss", xLabel: "epoch", yLabel: "loss", series: [
                .init(name: "train", y: [2.0, 1.0, 0.5]),
                .init(name: "validation", y: [2.1, 1.2, .nan], dashed: true),
            ]),
            .init(title: "accuracy", series: [.init(name: "val", y: [0.5, 0.9])], yRange: 0...1),
        ]
        let svg = chart.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("loss &amp; accuracy &lt;test&gt;"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains(">validation</text>"))
        #expect(!svg.contains("nan"))
    }

    @Test func emptyPanelSaysNoData() {
        let svg = LineChart(title: "", panels: [.init(title: "nothing yet")]).svg()
        #expect(svg.contains(">no data</text>"))
    }

    @Test func realisticTrainingCurves() throws {
        // Per-step training loss (noisy, sampled every 25 steps of 1875) and per-epoch validation values.
        var rng = RandomGenerator(seed: 11)
        let epochs = 10, steps = 1875
        var stepX: [Double] = [], stepLoss: [Double] = []
        for s in stride(from: 0, to: epochs * steps, by: 25) {
            let t = Double(s) / Double(steps)
            let noise = Double(rng.next() % 1000) / 1000 - 0.5
            stepX.append(t)
            stepLoss.append(0.06 + 2.2 * exp(-t * 3.5) + 0.35 * exp(-t) * 0.2 + 0.04 * noise)
        }
        let e = (1...epochs).map(Double.init)
        let valLoss = e.map { 0.075 + 0.25 * exp(-($0 - 1) * 0.6) + 0.002 * $0 }
        let trainAcc = e.map { 0.995 - 0.07 * exp(-($0 - 1) * 0.7) }
        let valAcc = e.map { 0.981 - 0.05 * exp(-($0 - 1) * 0.8) }
        var chart = LineChart(title: "MNIST · MLP 784-128-10 · Adam lr 1e-3")
        chart.panels = [
            .init(title: "loss", xLabel: "epoch", yLabel: "cross-entropy", series: [
                .init(name: "train (per step)", x: stepX, y: stepLoss),
                .init(name: "validation", x: e, y: valLoss),
            ]),
            .init(title: "accuracy", xLabel: "epoch", yLabel: "accuracy", series: [
                .init(name: "train", x: e, y: trainAcc),
                .init(name: "validation", x: e, y: valAcc),
            ]),
        ]
        let dir = TemporaryDirectory()
        try chart.write(to: dir.file("curves.svg"))
        let text = try String(contentsOfFile: dir.file("curves.svg"), encoding: .utf8)
        #expect(text == chart.svg())
        try keepForInspection({ try chart.write(to: $0) }, name: "curves.svg")
    }
}
