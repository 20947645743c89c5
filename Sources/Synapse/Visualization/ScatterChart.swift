import Foundation

/// A scatter plot as standalone SVG: points coloured by group, optional text labels, rings around highlighted points,
/// crosses on flagged ones, and faint lines between linked points (a graph's edges drawn in an embedding space).
///
/// ```swift
/// var chart = ScatterChart(title: "Node embeddings", xLabel: "dim 1", yLabel: "dim 2", points: [
///     .init(x: 0.3, y: -0.8, group: 0, label: "0", highlighted: true),
///     .init(x: -0.5, y: 0.9, group: 1, label: "33"),
/// ])
/// chart.groupNames = ["Mr. Hi", "Officer"]
/// chart.links = [(0, 1)]
/// try chart.write(to: "embeddings.svg")
/// ```
public struct ScatterChart: Sendable {
    public struct Point: Sendable {
        public var x: Double
        public var y: Double
        /// Index into the palette and `groupNames`; negative for "no group" (drawn grey).
        public var group: Int
        public var label: String
        /// Drawn with a ring (e.g. the labelled training nodes).
        public var highlighted: Bool
        /// Drawn with a cross (e.g. misclassified nodes).
        public var flagged: Bool

        public init(x: Double, y: Double, group: Int = 0, label: String = "", highlighted: Bool = false,
                    flagged: Bool = false) {
            self.x = x
            self.y = y
            self.group = group
            self.label = label
            self.highlighted = highlighted
            self.flagged = flagged
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    /// Legend entries, by group index.
    public var groupNames: [String] = []
    /// Pairs of point indices joined by a faint line, drawn under the points.
    public var links: [(Int, Int)] = []
    /// A line of small print under the title.
    public var note: String = ""
    public var width: Double = 640
    public var height: Double = 560

    public init(title: String = "", xLabel: String = "", yLabel: String = "", points: [Point] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
    }

    /// Writes the SVG atomically.
    public func write(to path: String) throws { try AtomicFile.write(text: svg(), to: URL(fileURLWithPath: path)) }

    /// The chart as an SVG document.
    public func svg() -> String {
        let c = SVGText.coordinate
        let plotLeft = 70.0, plotRight = width - 150, plotTop = note.isEmpty ? 50.0 : 66.0, plotBottom = height - 56
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x), ys = finite.map(\.y)
        func padded(_ values: [Double]) -> (Double, Double) {
            let low = values.min() ?? 0, high = values.max() ?? 1
            let pad = Swift.max((high - low) * 0.06, 1e-6)
            return (low - pad, high + pad)
        }
        let (xLow, xHigh) = padded(xs), (yLow, yHigh) = padded(ys)
        let xAxis = LineChart.axis(low: xLow, high: xHigh, extendToTicks: false)
        let yAxis = LineChart.axis(low: yLow, high: yHigh, extendToTicks: false)
        func px(_ x: Double) -> Double { plotLeft + (x - xAxis.low) / (xAxis.high - xAxis.low) * (plotRight - plotLeft) }
        func py(_ y: Double) -> Double { plotBottom - (y - yAxis.low) / (yAxis.high - yAxis.low) * (plotBottom - plotTop) }
        func color(_ group: Int) -> String { group < 0 ? "#999999" : LineChart.palette[group % LineChart.palette.count] }

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(c(width))" height="\(c(height))" viewBox="0 0 \(c(width)) \(c(height))" \
        font-family="\(SVGText.fontFamily)">
        <rect width="100%" height="100%" fill="white"/>

        """
        if !title.isEmpty {
            out += "<text x=\"\(c((plotLeft + plotRight) / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\" fill=\"#222\">\(SVGText.escape(title))</text>\n"
        }
        if !note.isEmpty {
            out += "<text x=\"\(c((plotLeft + plotRight) / 2))\" y=\"48\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">\(SVGText.escape(note))</text>\n"
        }
        for tick in yAxis.ticks {
            out += "<line x1=\"\(c(plotLeft))\" y1=\"\(c(py(tick)))\" x2=\"\(c(plotRight))\" y2=\"\(c(py(tick)))\" stroke=\"#eeeeee\"/>\n"
            out += "<text x=\"\(c(plotLeft - 6))\" y=\"\(c(py(tick) + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">\(LineChart.label(tick, step: yAxis.step))</text>\n"
        }
        for tick in xAxis.ticks {
            out += "<line x1=\"\(c(px(tick)))\" y1=\"\(c(plotTop))\" x2=\"\(c(px(tick)))\" y2=\"\(c(plotBottom))\" stroke=\"#eeeeee\"/>\n"
            out += "<text x=\"\(c(px(tick)))\" y=\"\(c(plotBottom + 17))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">\(LineChart.label(tick, step: xAxis.step))</text>\n"
        }
        out += "<rect x=\"\(c(plotLeft))\" y=\"\(c(plotTop))\" width=\"\(c(plotRight - plotLeft))\" height=\"\(c(plotBottom - plotTop))\" fill=\"none\" stroke=\"#444\"/>\n"
        if !xLabel.isEmpty {
            out += "<text x=\"\(c((plotLeft + plotRight) / 2))\" y=\"\(c(plotBottom + 40))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">\(SVGText.escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let x = c(20), y = c((plotTop + plotBottom) / 2)
            out += "<text x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-90 \(x) \(y))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">\(SVGText.escape(yLabel))</text>\n"
        }

        for (i, j) in links where points.indices.contains(i) && points.indices.contains(j) {
            let (a, b) = (points[i], points[j])
            guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { continue }
            out += "<line x1=\"\(c(px(a.x)))\" y1=\"\(c(py(a.y)))\" x2=\"\(c(px(b.x)))\" y2=\"\(c(py(b.y)))\" stroke=\"#bbbbbb\" stroke-width=\"0.8\" stroke-opacity=\"0.7\"/>\n"
        }
        for p in finite {
            let (x, y) = (c(px(p.x)), c(py(p.y)))
            if p.highlighted {
                out += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"11\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\"/>\n"
            }
            out += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"6\" fill=\"\(color(p.group))\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"1\"/>\n"
            if p.flagged {
                let (cx, cy) = (px(p.x), py(p.y))
                out += "<path d=\"M\(c(cx - 8)) \(c(cy - 8))L\(c(cx + 8)) \(c(cy + 8))M\(c(cx - 8)) \(c(cy + 8))L\(c(cx + 8)) \(c(cy - 8))\" stroke=\"#111\" stroke-width=\"2\"/>\n"
            }
            if !p.label.isEmpty {
                out += "<text x=\"\(c(px(p.x) + 8))\" y=\"\(c(py(p.y) - 7))\" font-size=\"10\" fill=\"#333\">\(SVGText.escape(p.label))</text>\n"
            }
        }
        for (index, name) in groupNames.enumerated() {
            let y = plotTop + 12 + Double(index) * 22
            out += "<circle cx=\"\(c(plotRight + 22))\" cy=\"\(c(y))\" r=\"6\" fill=\"\(color(index))\"/>\n"
            out += "<text x=\"\(c(plotRight + 34))\" y=\"\(c(y + 4))\" font-size=\"12\" fill=\"#333\">\(SVGText.escape(name))</text>\n"
        }
        out += "</svg>\n"
        return out
    }
}
