import Foundation

/// A function of two variables drawn as a shaded contour map, with paths walked across it — the picture of a cost
/// surface J(w, b) and the steps gradient descent takes down it.
///
/// ```swift
/// var chart = ContourChart(title: "J(w, b)", xLabel: "w", yLabel: "b", xRange: -1...4, yRange: -2...5,
///                          resolution: 120) { w, b in cost(w, b) }
/// chart.paths.append(.init(name: "batch", points: steps))
/// try chart.write(to: "cost.svg")
/// ```
public struct ContourChart: Sendable {
    /// A sequence of points drawn as a line with a dot at each end.
    public struct Path: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: String?
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.color = color
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public let xRange: ClosedRange<Double>
    public let yRange: ClosedRange<Double>
    /// Samples per side of the grid.
    public let resolution: Int
    /// `values[row * resolution + column]`: row 0 is `yRange.lowerBound`, column 0 is `xRange.lowerBound`.
    public let values: [Double]
    public var paths: [Path] = []
    /// Points marked with a cross and a label (e.g. the exact minimum).
    public var marks: [(name: String, x: Double, y: Double)] = []
    /// Tick intervals along each axis (choose them so the ticks land on round numbers).
    public var xTicks = 5
    public var yTicks = 5
    public var width: Double = 820
    public var height: Double = 560

    /// Samples `function` on a `resolution × resolution` grid over the ranges.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", xRange: ClosedRange<Double>,
                yRange: ClosedRange<Double>, resolution: Int = 100, function: (Double, Double) -> Double) {
        precondition(resolution >= 2, "ContourChart: resolution must be at least 2, got \(resolution)")
        precondition(xRange.upperBound > xRange.lowerBound && yRange.upperBound > yRange.lowerBound,
                     "ContourChart: empty range \(xRange) × \(yRange)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.resolution = resolution
        var values = [Double](repeating: 0, count: resolution * resolution)
        for row in 0..<resolution {
            let y = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(row) / Double(resolution - 1)
            for column in 0..<resolution {
                let x = xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double(column) / Double(resolution - 1)
                values[row * resolution + column] = function(x, y)
            }
        }
        self.values = values
    }

    /// Contour levels spaced evenly in log scale between the grid's smallest and largest finite values (costs span
    /// decades; evenly spaced levels would crowd the rim and leave the valley empty).
    public func logLevels(_ count: Int) -> [Double] {
        let finite = values.filter { $0.isFinite && $0 > 0 }
        guard let low = finite.min(), let high = finite.max(), high > low, count > 0 else { return [] }
        let (a, b) = (log(low), log(high))
        return (1...count).map { exp(a + (b - a) * Double($0) / Double(count + 1)) }
    }

    public func write(to path: String, levels: Int = 14) throws {
        try AtomicFile.write(text: svg(levels: levels), to: URL(fileURLWithPath: path))
    }

    public func svg(levels levelCount: Int = 14) -> String {
        let (left, right, top, bottom) = (70.0, 270.0, 44.0, 56.0)
        let f = Frame(left: left, top: top, width: width - left - right, height: height - top - bottom,
                      xRange: xRange, yRange: yRange)
        let c = SVGText.coordinate
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"\(SVGText.fontFamily)\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<defs><clipPath id=\"plot\"><rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(f.width))\" height=\"\(c(f.height))\"/></clipPath></defs>\n"
        out += "<text x=\"\(c(left + f.width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">\(SVGText.escape(title))</text>\n"
        return out + shading(f) + contourLines(f, levels: levelCount) + axes(f) + pathsAndLegend(f) + "</svg>\n"
    }

    /// The plot area and the map from data to SVG coordinates.
    private struct Frame {
        let left: Double, top: Double, width: Double, height: Double
        let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
        func x(_ v: Double) -> Double { left + (v - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width }
        func y(_ v: Double) -> Double { top + height - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * height }
    }

    /// Log of the value, light (low) to darker (high), one rectangle per grid cell.
    private func shading(_ f: Frame) -> String {
        let (plotWidth, plotHeight) = (f.width, f.height)
        let (px, py, c) = (f.x, f.y, SVGText.coordinate)
        var out = ""
        let finite = values.filter { $0.isFinite && $0 > 0 }
        let (low, high) = (log(finite.min() ?? 1), log(finite.max() ?? 2))
        let (cellWidth, cellHeight) = (plotWidth / Double(resolution - 1), plotHeight / Double(resolution - 1))
        out += "<g clip-path=\"url(#plot)\">\n"
        for row in 0..<resolution {
            for column in 0..<resolution {
                let v = values[row * resolution + column]
                let t = v > 0 && v.isFinite && high > low ? (log(v) - low) / (high - low) : 1
                let (r, g, b) = (Int(255 - 70 * t), Int(250 - 120 * t), Int(235 - 190 * t))
                let x = px(xRange.lowerBound) + (Double(column) - 0.5) * cellWidth
                let y = py(yRange.lowerBound) - (Double(row) + 0.5) * cellHeight
                out += "<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(cellWidth + 0.5))\" height=\"\(c(cellHeight + 0.5))\" fill=\"rgb(\(r),\(g),\(b))\"/>\n"
            }
        }
        out += "</g>\n"

        return out
    }

    /// Contour lines by marching squares: in each cell, where the level crosses an edge (linear interpolation
    /// between its corners), and a segment between each pair of crossings.
    private func contourLines(_ f: Frame, levels levelCount: Int) -> String {
        let (px, py, c) = (f.x, f.y, SVGText.coordinate)
        var out = ""
        out += "<g clip-path=\"url(#plot)\" stroke=\"#8a6d3b\" stroke-width=\"0.8\" fill=\"none\" stroke-opacity=\"0.8\">\n"
        let xs = (0..<resolution).map { xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double($0) / Double(resolution - 1) }
        let ys = (0..<resolution).map { yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double($0) / Double(resolution - 1) }
        for level in logLevels(levelCount) {
            var d = ""
            for row in 0..<(resolution - 1) {
                for column in 0..<(resolution - 1) {
                    let corners = [(column, row), (column + 1, row), (column + 1, row + 1), (column, row + 1)]
                    var crossings: [(Double, Double)] = []
                    for k in 0..<4 {
                        let (c0, r0) = corners[k], (c1, r1) = corners[(k + 1) % 4]
                        let (v0, v1) = (values[r0 * resolution + c0], values[r1 * resolution + c1])
                        guard v0.isFinite, v1.isFinite, (v0 < level) != (v1 < level) else { continue }
                        let t = (level - v0) / (v1 - v0)
                        crossings.append((xs[c0] + t * (xs[c1] - xs[c0]), ys[r0] + t * (ys[r1] - ys[r0])))
                    }
                    var k = 0
                    while k + 1 < crossings.count {
                        d += "M\(c(px(crossings[k].0))) \(c(py(crossings[k].1)))L\(c(px(crossings[k + 1].0))) \(c(py(crossings[k + 1].1)))"
                        k += 2
                    }
                }
            }
            if !d.isEmpty { out += "<path d=\"\(d)\"/>\n" }
        }
        out += "</g>\n"

        return out
    }

    /// The frame, the ticks and the axis labels.
    private func axes(_ f: Frame) -> String {
        let (left, top, plotWidth, plotHeight) = (f.left, f.top, f.width, f.height)
        let (px, py, c) = (f.x, f.y, SVGText.coordinate)
        var out = ""
        out += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(plotWidth))\" height=\"\(c(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        for k in 0...max(xTicks, 1) {
            let x = xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double(k) / Double(max(xTicks, 1))
            out += "<text x=\"\(c(px(x)))\" y=\"\(c(top + plotHeight + 16))\" text-anchor=\"middle\" font-size=\"11\">\(ContourChart.tick(x))</text>\n"
        }
        for k in 0...max(yTicks, 1) {
            let y = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(k) / Double(max(yTicks, 1))
            out += "<text x=\"\(c(left - 6))\" y=\"\(c(py(y) + 4))\" text-anchor=\"end\" font-size=\"11\">\(ContourChart.tick(y))</text>\n"
        }
        out += "<text x=\"\(c(left + plotWidth / 2))\" y=\"\(c(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(SVGText.escape(xLabel))</text>\n"
        out += "<text x=\"18\" y=\"\(c(top + plotHeight / 2))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(c(top + plotHeight / 2)))\">\(SVGText.escape(yLabel))</text>\n"

        return out
    }

    /// The descent paths (start ring, end dot), the marks, and the legend beside the plot.
    private func pathsAndLegend(_ f: Frame) -> String {
        let (left, top, plotWidth) = (f.left, f.top, f.width)
        let (px, py, c) = (f.x, f.y, SVGText.coordinate)
        var out = ""
        out += "<g clip-path=\"url(#plot)\" fill=\"none\">\n"
        for (i, path) in paths.enumerated() where !path.points.isEmpty {
            let color = path.color ?? LineChart.palette[i % LineChart.palette.count]
            let finitePoints = path.points.filter { $0.x.isFinite && $0.y.isFinite }
            let points = finitePoints.map { "\(c(min(max(px($0.x), -1e4), 1e4))),\(c(min(max(py($0.y), -1e4), 1e4)))" }.joined(separator: " ")
            out += "<polyline points=\"\(points)\" stroke=\"\(color)\" stroke-width=\"1.6\"\(path.dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            if let first = finitePoints.first {
                out += "<circle cx=\"\(c(px(first.x)))\" cy=\"\(c(py(first.y)))\" r=\"4\" fill=\"white\" stroke=\"\(color)\"/>\n"
            }
            if let last = finitePoints.last {
                out += "<circle cx=\"\(c(min(max(px(last.x), -1e4), 1e4)))\" cy=\"\(c(min(max(py(last.y), -1e4), 1e4)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
            }
        }
        for mark in marks {
            let (x, y) = (px(mark.x), py(mark.y))
            out += "<path d=\"M\(c(x - 6)) \(c(y - 6))L\(c(x + 6)) \(c(y + 6))M\(c(x - 6)) \(c(y + 6))L\(c(x + 6)) \(c(y - 6))\" stroke=\"black\" stroke-width=\"2\"/>\n"
        }
        out += "</g>\n"
        var legendY = top + 8
        for (i, path) in paths.enumerated() {
            let color = path.color ?? LineChart.palette[i % LineChart.palette.count]
            let x = left + plotWidth + 14
            out += "<line x1=\"\(c(x))\" y1=\"\(c(legendY))\" x2=\"\(c(x + 22))\" y2=\"\(c(legendY))\" stroke=\"\(color)\" stroke-width=\"2\"\(path.dashed ? " stroke-dasharray=\"5 3\"" : "")/>\n"
            out += "<text x=\"\(c(x + 28))\" y=\"\(c(legendY + 4))\" font-size=\"11\">\(SVGText.escape(path.name))</text>\n"
            legendY += 18
        }
        for mark in marks {
            let x = left + plotWidth + 14
            out += "<path d=\"M\(c(x + 5)) \(c(legendY - 5))L\(c(x + 15)) \(c(legendY + 5))M\(c(x + 5)) \(c(legendY + 5))L\(c(x + 15)) \(c(legendY - 5))\" stroke=\"black\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(c(x + 28))\" y=\"\(c(legendY + 4))\" font-size=\"11\">\(SVGText.escape(mark.name))</text>\n"
            legendY += 18
        }
        return out
    }

    static func tick(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2g", rounded)
    }
}
