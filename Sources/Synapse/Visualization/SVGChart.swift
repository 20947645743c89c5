import Foundation

/// Line charts as standalone SVG: one or more panels side by side, each with axes at "nice" tick values, grid
/// lines, axis labels, a legend and a title. Meant for training curves in reports.
///
/// ```swift
/// var chart = LineChart(title: "MNIST, 784-128-10 MLP")
/// chart.panels = [
///     .init(title: "loss", xLabel: "epoch", yLabel: "cross-entropy", series: [
///         .init(name: "train", x: epochs, y: trainLoss),
///         .init(name: "validation", x: epochs, y: validationLoss),
///     ]),
///     .init(title: "accuracy", xLabel: "epoch", yLabel: "accuracy", series: [.init(name: "validation", x: epochs, y: accuracy)]),
/// ]
/// try chart.write(to: "report/curves.svg")
/// ```
public struct LineChart: Sendable {
    /// One named curve.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        /// A CSS colour; `nil` takes the next colour of the palette.
        public var color: String?
        public var dashed: Bool
        /// Draw a dot at every point; `nil`: only when there are at most 40 points.
        public var markers: Bool?

        public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false, markers: Bool? = nil) {
            precondition(x.count == y.count, "LineChart.Series \(name): \(x.count) x values for \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
            self.markers = markers
        }

        /// A series over `1...y.count` (epochs, steps).
        public init(name: String, y: [Double], color: String? = nil, dashed: Bool = false) {
            self.init(name: name, x: (0..<y.count).map { Double($0 + 1) }, y: y, color: color, dashed: dashed)
        }

        public init(name: String, x: [Double], y: [Float], color: String? = nil, dashed: Bool = false) {
            self.init(name: name, x: x, y: y.map(Double.init), color: color, dashed: dashed)
        }
    }

    /// One plot area.
    public struct Panel: Sendable {
        public var title: String
        public var xLabel: String
        public var yLabel: String
        public var series: [Series]
        /// Fixes the y axis (e.g. `0...1` for accuracy); `nil` fits the data.
        public var yRange: ClosedRange<Double>?

        public init(title: String, xLabel: String = "", yLabel: String = "", series: [Series] = [],
                    yRange: ClosedRange<Double>? = nil) {
            self.title = title
            self.xLabel = xLabel
            self.yLabel = yLabel
            self.series = series
            self.yRange = yRange
        }
    }

    public var title: String
    public var panels: [Panel]
    /// Size of each panel in SVG units (pixels).
    public var panelWidth: Double = 440
    public var panelHeight: Double = 320
    /// Panels per row.
    public var columns: Int = 2

    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public init(title: String = "", panels: [Panel] = []) {
        self.title = title
        self.panels = panels
    }

    /// Writes the SVG atomically.
    public func write(to path: String) throws { try AtomicFile.write(text: svg(), to: URL(fileURLWithPath: path)) }

    /// The whole chart as an SVG document.
    public func svg() -> String {
        let columnCount = max(1, min(columns, max(panels.count, 1)))
        let rowCount = max(1, (panels.count + columnCount - 1) / columnCount)
        let titleHeight: Double = title.isEmpty ? 8 : 40
        let width = Double(columnCount) * panelWidth
        let height = titleHeight + Double(rowCount) * panelHeight
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(SVGText.coordinate(width))" height="\(SVGText.coordinate(height))" \
        viewBox="0 0 \(SVGText.coordinate(width)) \(SVGText.coordinate(height))" font-family="\(SVGText.fontFamily)">
        <rect width="100%" height="100%" fill="white"/>

        """
        if !title.isEmpty {
            out += "<text x=\"\(SVGText.coordinate(width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">\(SVGText.escape(title))</text>\n"
        }
        for (index, panel) in panels.enumerated() {
            let left = Double(index % columnCount) * panelWidth
            let top = titleHeight + Double(index / columnCount) * panelHeight
            out += renderPanel(panel, left: left, top: top)
        }
        out += "</svg>\n"
        return out
    }

    // MARK: Panels

    func renderPanel(_ panel: Panel, left: Double, top: Double) -> String {
        let c = SVGText.coordinate
        let finite = panel.series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let f = PanelFrame(panel, left: left, top: top, width: panelWidth, height: panelHeight, finite: finite)
        var out = "<g>\n"
        out += "<text x=\"\(c((f.plotLeft + f.plotRight) / 2))\" y=\"\(c(top + 20))\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"#333\">\(SVGText.escape(panel.title))</text>\n"
        out += gridAndLabels(panel, f, left: left, empty: finite.isEmpty)
        out += curves(panel, f, clipID: "clip\(Int(left))x\(Int(top))")
        out += legend(panel, f, finite: finite)
        out += "</g>\n"
        return out
    }

    /// The plot area inside a panel (room left for the title, tick labels and axis labels), its axes, and the map
    /// from data to SVG coordinates.
    struct PanelFrame {
        let plotLeft: Double, plotRight: Double, plotTop: Double, plotBottom: Double
        let xAxis: Axis, yAxis: Axis

        init(_ panel: Panel, left: Double, top: Double, width: Double, height: Double, finite: [(Double, Double)]) {
            (plotLeft, plotRight, plotTop, plotBottom) = (left + 66, left + width - 18, top + 30, top + height - 48)
            let xData = finite.map(\.0), yData = finite.map(\.1)
            var xAxis = LineChart.axis(low: xData.min() ?? 0, high: xData.max() ?? 1, extendToTicks: false)
            // A small margin keeps the first and last markers from being cut by the frame.
            let margin = (xAxis.high - xAxis.low) * 0.02
            xAxis.low -= margin
            xAxis.high += margin
            self.xAxis = xAxis
            yAxis = panel.yRange.map { LineChart.axis(low: $0.lowerBound, high: $0.upperBound, extendToTicks: false) }
                ?? LineChart.axis(low: yData.min() ?? 0, high: yData.max() ?? 1, extendToTicks: true)
        }

        func x(_ v: Double) -> Double { plotLeft + (v - xAxis.low) / (xAxis.high - xAxis.low) * (plotRight - plotLeft) }
        func y(_ v: Double) -> Double { plotBottom - (v - yAxis.low) / (yAxis.high - yAxis.low) * (plotBottom - plotTop) }
    }

    /// Grid lines, ticks, the frame and the axis labels ("no data" when nothing is finite).
    private func gridAndLabels(_ panel: Panel, _ f: PanelFrame, left: Double, empty: Bool) -> String {
        let (plotLeft, plotRight, plotTop, plotBottom) = (f.plotLeft, f.plotRight, f.plotTop, f.plotBottom)
        let (xAxis, yAxis, c) = (f.xAxis, f.yAxis, SVGText.coordinate)
        func px(_ x: Double) -> Double { f.x(x) }
        func py(_ y: Double) -> Double { f.y(y) }
        var out = ""
        for tick in yAxis.ticks {
            let y = c(py(tick))
            out += "<line x1=\"\(c(plotLeft))\" y1=\"\(y)\" x2=\"\(c(plotRight))\" y2=\"\(y)\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n"
            out += "<text x=\"\(c(plotLeft - 6))\" y=\"\(c(py(tick) + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">\(LineChart.label(tick, step: yAxis.step))</text>\n"
        }
        for tick in xAxis.ticks {
            let x = c(px(tick))
            out += "<line x1=\"\(x)\" y1=\"\(c(plotTop))\" x2=\"\(x)\" y2=\"\(c(plotBottom))\" stroke=\"#f0f0f0\" stroke-width=\"1\"/>\n"
            out += "<line x1=\"\(x)\" y1=\"\(c(plotBottom))\" x2=\"\(x)\" y2=\"\(c(plotBottom + 4))\" stroke=\"#444\" stroke-width=\"1\"/>\n"
            out += "<text x=\"\(x)\" y=\"\(c(plotBottom + 17))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">\(LineChart.label(tick, step: xAxis.step))</text>\n"
        }
        out += "<rect x=\"\(c(plotLeft))\" y=\"\(c(plotTop))\" width=\"\(c(plotRight - plotLeft))\" height=\"\(c(plotBottom - plotTop))\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n"
        if !panel.xLabel.isEmpty {
            out += "<text x=\"\(c((plotLeft + plotRight) / 2))\" y=\"\(c(plotBottom + 38))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">\(SVGText.escape(panel.xLabel))</text>\n"
        }
        if !panel.yLabel.isEmpty {
            let x = c(left + 16), y = c((plotTop + plotBottom) / 2)
            out += "<text x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-90 \(x) \(y))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">\(SVGText.escape(panel.yLabel))</text>\n"
        }
        if empty {
            out += "<text x=\"\(c((plotLeft + plotRight) / 2))\" y=\"\(c((plotTop + plotBottom) / 2))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#888\">no data</text>\n"
        }

        return out
    }

    /// The curves, clipped to the plot area (a fixed yRange may cut them); non-finite values break a line.
    private func curves(_ panel: Panel, _ f: PanelFrame, clipID: String) -> String {
        let (plotLeft, plotRight, plotTop, plotBottom) = (f.plotLeft, f.plotRight, f.plotTop, f.plotBottom)
        let c = SVGText.coordinate
        func px(_ x: Double) -> Double { f.x(x) }
        func py(_ y: Double) -> Double { f.y(y) }
        var out = ""
        out += "<clipPath id=\"\(clipID)\"><rect x=\"\(c(plotLeft))\" y=\"\(c(plotTop))\" width=\"\(c(plotRight - plotLeft))\" height=\"\(c(plotBottom - plotTop))\"/></clipPath>\n"
        out += "<g clip-path=\"url(#\(clipID))\">\n"
        for (index, series) in panel.series.enumerated() {
            let color = series.color ?? LineChart.palette[index % LineChart.palette.count]
            // Non-finite values break the line instead of dragging it off the chart.
            var segments: [[(Double, Double)]] = [[]]
            for (x, y) in zip(series.x, series.y) {
                if x.isFinite && y.isFinite { segments[segments.count - 1].append((px(x), py(y))) }
                else if !segments[segments.count - 1].isEmpty { segments.append([]) }
            }
            let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
            for segment in segments where segment.count > 1 {
                let points = segment.map { "\(c($0.0)),\(c($0.1))" }.joined(separator: " ")
                out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\"\(dash)/>\n"
            }
            if series.markers ?? (series.x.count <= 40) {
                for segment in segments {
                    for (x, y) in segment {
                        out += "<circle cx=\"\(c(x))\" cy=\"\(c(y))\" r=\"3\" fill=\"\(color)\"/>\n"
                    }
                }
            }
        }
        out += "</g>\n"

        return out
    }

    /// The legend, in the corner with the fewest data points under it.
    private func legend(_ panel: Panel, _ f: PanelFrame, finite: [(Double, Double)]) -> String {
        let (plotLeft, plotRight, plotTop, plotBottom) = (f.plotLeft, f.plotRight, f.plotTop, f.plotBottom)
        let c = SVGText.coordinate
        func px(_ x: Double) -> Double { f.x(x) }
        func py(_ y: Double) -> Double { f.y(y) }
        var out = ""
        let named = panel.series.enumerated().filter { !$0.element.name.isEmpty }
        if !named.isEmpty {
            let longest = named.map { $0.element.name.count }.max() ?? 0
            let boxWidth = 34 + Double(longest) * 7, boxHeight = 8 + Double(named.count) * 18
            let pixels = finite.map { (px($0.0), py($0.1)) }
            let corners = [(plotRight - boxWidth - 8, plotTop + 8), (plotRight - boxWidth - 8, plotBottom - boxHeight - 8),
                           (plotLeft + 8, plotTop + 8), (plotLeft + 8, plotBottom - boxHeight - 8)]
            let (bx, by) = corners.min { a, b in
                LineChart.pointsInside(pixels, x: a.0, y: a.1, width: boxWidth, height: boxHeight)
                    < LineChart.pointsInside(pixels, x: b.0, y: b.1, width: boxWidth, height: boxHeight)
            }!
            out += "<rect x=\"\(c(bx))\" y=\"\(c(by))\" width=\"\(c(boxWidth))\" height=\"\(c(boxHeight))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
            for (row, (index, series)) in named.enumerated() {
                let color = series.color ?? LineChart.palette[index % LineChart.palette.count]
                let y = by + 4 + 18 * Double(row) + 9
                let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
                out += "<line x1=\"\(c(bx + 6))\" y1=\"\(c(y))\" x2=\"\(c(bx + 26))\" y2=\"\(c(y))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
                out += "<text x=\"\(c(bx + 30))\" y=\"\(c(y + 4))\" font-size=\"11\" fill=\"#222\">\(SVGText.escape(series.name))</text>\n"
            }
        }
        return out
    }

    static func pointsInside(_ points: [(Double, Double)], x: Double, y: Double, width: Double, height: Double) -> Int {
        points.reduce(0) { $0 + ($1.0 >= x - 4 && $1.0 <= x + width + 4 && $1.1 >= y - 4 && $1.1 <= y + height + 4 ? 1 : 0) }
    }

    // MARK: Axes

    /// An axis range and its tick values.
    struct Axis: Equatable {
        var low: Double
        var high: Double
        var step: Double
        var ticks: [Double]
    }

    /// Chooses about five ticks at 1, 2 or 5 × 10^k. With `extendToTicks` the range grows to the enclosing ticks.
    static func axis(low: Double, high: Double, extendToTicks: Bool, targetTicks: Int = 5) -> Axis {
        var low = low, high = high
        if high - low <= 0 {
            // A constant series still gets a readable axis around its value.
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = niceStep((high - low) / Double(max(targetTicks - 1, 1)))
        if extendToTicks {
            low = (low / step).rounded(.down) * step
            high = (high / step).rounded(.up) * step
        }
        var ticks: [Double] = []
        var tick = (low / step - 1e-9).rounded(.up) * step
        while tick <= high + step * 1e-9 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return Axis(low: low, high: high, step: step, ticks: ticks)
    }

    /// The 1, 2 or 5 × 10^k nearest to `rough` (Heckbert's "nice numbers"), so the tick count stays near the target.
    static func niceStep(_ rough: Double) -> Double {
        let exponent = (log10(rough)).rounded(.down)
        let base = pow(10, exponent)
        let fraction = rough / base
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * base
    }

    /// A tick label with just enough decimals for the step.
    static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, Int((-log10(step)).rounded(.up)))
        if abs(value) >= 1e6 || (abs(value) < 1e-4 && value != 0) { return String(format: "%.1e", value) }
        return String(format: "%.\(decimals)f", value)
    }
}
