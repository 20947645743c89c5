import Foundation

/// A confusion matrix as an SVG heat map: rows are true classes, columns predicted ones, each cell shows its count
/// and is shaded by the fraction of its row, so mistakes stand out even for small classes. A last column gives
/// each class's recall; the title gives the overall accuracy.
///
/// ```swift
/// let chart = ConfusionMatrixChart(predictions: predicted, labels: mnist.test.labels, classNames: MNIST.Variant.digits.classNames)
/// try chart.write(to: "report/confusion.svg")
/// ```
public struct ConfusionMatrixChart: Sendable {
    /// `counts[t][p]`: how many samples of true class `t` were predicted as `p`.
    public let counts: [[Int]]
    public let classNames: [String]
    public var title: String
    public var cellSize: Double = 44

    public init(counts: [[Int]], classNames: [String]? = nil, title: String = "confusion matrix") {
        precondition(!counts.isEmpty && counts.allSatisfy { $0.count == counts.count },
                     "ConfusionMatrixChart: counts must be a non-empty square matrix")
        precondition(classNames == nil || classNames!.count == counts.count,
                     "ConfusionMatrixChart: \(classNames?.count ?? 0) class names for \(counts.count) classes")
        self.counts = counts
        self.classNames = classNames ?? (0..<counts.count).map(String.init)
        self.title = title
    }

    /// Counts predictions against labels; both must be in `0..<classNames.count`.
    public init(predictions: [Int], labels: [Int], classNames: [String], title: String = "confusion matrix") {
        self.init(counts: ConfusionMatrixChart.count(predictions: predictions, labels: labels, classes: classNames.count),
                  classNames: classNames, title: title)
    }

    public static func count(predictions: [Int], labels: [Int], classes: Int) -> [[Int]] {
        precondition(predictions.count == labels.count,
                     "ConfusionMatrixChart.count: \(predictions.count) predictions for \(labels.count) labels")
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, t) in zip(predictions, labels) {
            precondition((0..<classes).contains(p) && (0..<classes).contains(t),
                         "ConfusionMatrixChart.count: class \(max(p, t)) outside 0..<\(classes)")
            counts[t][p] += 1
        }
        return counts
    }

    /// Correct predictions over all predictions.
    public var accuracy: Double {
        let total = counts.joined().reduce(0, +)
        let correct = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        return total == 0 ? 0 : Double(correct) / Double(total)
    }

    public func write(to path: String) throws { try AtomicFile.write(text: svg(), to: URL(fileURLWithPath: path)) }

    public func svg() -> String {
        let c = SVGText.coordinate
        let n = counts.count
        let longestName = classNames.map(\.count).max() ?? 1
        let labelWidth = max(30, Double(longestName) * 7 + 10)
        let longLabels = longestName > 3
        let left = 30 + labelWidth, top = longLabels ? 62.0 : 74.0
        let gridSize = cellSize * Double(n)
        let recallWidth = 62.0
        let width = left + gridSize + recallWidth + 16
        // Column labels are rotated below the grid when names are long (Fashion-MNIST), horizontal above it otherwise.
        let rotateColumnLabels = longLabels
        let height = top + gridSize + (rotateColumnLabels ? labelWidth * 0.7 + 30 : 16)

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" \
        font-family="\(SVGText.fontFamily)">
        <rect width="100%" height="100%" fill="white"/>

        """
        let accuracyText = String(format: "%.2f%%", accuracy * 100)
        out += "<text x=\"\(c(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#222\">\(SVGText.escape(title)) · accuracy \(accuracyText)</text>\n"
        let predictedY = rotateColumnLabels ? height - 10 : 52
        out += "<text x=\"\(c(left + gridSize / 2))\" y=\"\(c(predictedY))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">predicted</text>\n"
        let trueX = c(14), trueY = c(top + gridSize / 2)
        out += "<text x=\"\(trueX)\" y=\"\(trueY)\" transform=\"rotate(-90 \(trueX) \(trueY))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">true</text>\n"
        out += "<text x=\"\(c(left + gridSize + recallWidth / 2 + 4))\" y=\"\(c(top - 8))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">recall</text>\n"

        for t in 0..<n {
            let rowTotal = counts[t].reduce(0, +)
            let y = top + Double(t) * cellSize
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(y + cellSize / 2 + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">\(SVGText.escape(classNames[t]))</text>\n"
            for p in 0..<n {
                let x = left + Double(p) * cellSize
                let fraction = rowTotal == 0 ? 0 : Double(counts[t][p]) / Double(rowTotal)
                // Off-diagonal cells use a steeper, square-root ramp: a 1% confusion should already stand out.
                let shade = p == t ? fraction : min(1, fraction * 20).squareRoot()
                let (fill, ink) = p == t ? ConfusionMatrixChart.blue(shade) : ConfusionMatrixChart.red(shade)
                out += "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cellSize))\" height=\"\(c(cellSize))\" fill=\"\(fill)\" stroke=\"#e8e8e8\" stroke-width=\"1\"/>\n"
                if counts[t][p] > 0 {
                    let size = counts[t][p] >= 10000 ? 10 : 12
                    out += "<text x=\"\(c(x + cellSize / 2))\" y=\"\(c(y + cellSize / 2 + 4))\" text-anchor=\"middle\" font-size=\"\(size)\" fill=\"\(ink)\">\(counts[t][p])</text>\n"
                }
            }
            let recall = rowTotal == 0 ? "–" : String(format: "%.1f%%", Double(counts[t][t]) / Double(rowTotal) * 100)
            out += "<text x=\"\(c(left + gridSize + recallWidth / 2 + 4))\" y=\"\(c(y + cellSize / 2 + 4))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">\(recall)</text>\n"
        }
        for p in 0..<n {
            let x = left + (Double(p) + 0.5) * cellSize
            let y = top + gridSize + 16
            if rotateColumnLabels {
                out += "<text x=\"\(c(x + 4))\" y=\"\(c(y - 6))\" transform=\"rotate(-45 \(c(x + 4)) \(c(y - 6)))\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">\(SVGText.escape(classNames[p]))</text>\n"
            } else {
                out += "<text x=\"\(c(x))\" y=\"\(c(top - 8))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">\(SVGText.escape(classNames[p]))</text>\n"
            }
        }
        out += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(gridSize))\" height=\"\(c(gridSize))\" fill=\"none\" stroke=\"#666\"/>\n"
        out += "</svg>\n"
        return out
    }

    /// White to dark blue, with the text colour that stays readable on it.
    static func blue(_ t: Double) -> (String, String) {
        ramp(t, to: (8, 69, 148))
    }

    /// White to dark red for mistakes.
    static func red(_ t: Double) -> (String, String) {
        ramp(t, to: (165, 15, 21))
    }

    static func ramp(_ t: Double, to end: (Double, Double, Double)) -> (String, String) {
        let t = min(max(t, 0), 1)
        let r = 255 + (end.0 - 255) * t, g = 255 + (end.1 - 255) * t, b = 255 + (end.2 - 255) * t
        let hex = "#" + [r, g, b].map { String(Int($0.rounded()), radix: 16).leftPadded(toWidth: 2) }.joined()
        let luminance = 0.299 * r + 0.587 * g + 0.114 * b
        return (hex, luminance < 140 ? "#ffffff" : "#222222")
    }
}
