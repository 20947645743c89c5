import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct ConfusionMatrixChartTests {
    @Test func countsAndAccuracy() {
        let chart = ConfusionMatrixChart(predictions: [0, 1, 1, 2, 2, 2], labels: [0, 1, 2, 2, 2, 0], classNames: ["a", "b", "c"])
        #expect(chart.counts == [[1, 0, 1], [0, 1, 0], [0, 1, 2]])
        #expect(abs(chart.accuracy - 4.0 / 6.0) < 1e-12)
        let svg = chart.svg()
        #expect(svg.contains("accuracy 66.67%"))
        #expect(svg.contains(">50.0%</text>"))        // recall of class a
        #expect(svg.components(separatedBy: "<rect").count - 1 == 1 + 9 + 1)
    }

    @Test func cellTextStaysReadable() {
        #expect(ConfusionMatrixChart.blue(1).1 == "#ffffff")
        #expect(ConfusionMatrixChart.blue(0).0 == "#ffffff" && ConfusionMatrixChart.blue(0).1 == "#222222")
    }

    @Test func realisticTenClassMatrices() throws {
        // A plausible MNIST test result: ~98% accuracy with the classic confusions (4↔9, 7→2, 3↔5).
        let totals = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        let mistakes: [(Int, Int, Int)] = [(4, 9, 11), (9, 4, 9), (7, 2, 10), (3, 5, 8), (5, 3, 9), (8, 3, 6), (2, 8, 5),
                                           (6, 0, 5), (9, 7, 6), (1, 8, 3), (0, 6, 2), (5, 8, 4), (8, 5, 4), (7, 9, 5)]
        for (t, p, k) in mistakes { counts[t][p] += k }
        for t in 0..<10 { counts[t][t] = totals[t] - counts[t].reduce(0, +) }
        let digits = ConfusionMatrixChart(counts: counts, title: "MNIST test")
        #expect(abs(digits.accuracy - Double(10000 - mistakes.reduce(0) { $0 + $1.2 }) / 10000) < 1e-12)
        let dir = TemporaryDirectory()
        try digits.write(to: dir.file("c.svg"))
        #expect(try String(contentsOfFile: dir.file("c.svg"), encoding: .utf8) == digits.svg())
        try keepForInspection({ try digits.write(to: $0) }, name: "confusion-digits.svg")
        let fashion = ConfusionMatrixChart(counts: counts, classNames: MNIST.Variant.fashion.classNames, title: "Fashion-MNIST test")
        #expect(fashion.svg().contains("T-shirt/top"))
        try keepForInspection({ try fashion.write(to: $0) }, name: "confusion-fashion.svg")
    }
}
