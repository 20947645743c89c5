import Foundation

/// A fully connected network drawn as the notes draw it: the input image on the left, then a column of neurons per
/// layer, each filled the darker the more active it is (ink on paper), with the connections between the small layers drawn in red
/// (positive weight) or blue (negative), as strong as the weight.
///
/// ```swift
/// let diagram = NetworkDiagram(image: GrayImage(digit, width: 28, height: 28),
///                              layers: [.init(title: "hidden 1", activations: a1), .init(title: "output", activations: p, labels: digits)],
///                              weights: [w2])
/// try diagram.write(to: "activations.svg")
/// ```
public struct NetworkDiagram: Sendable {
    /// One column of neurons.
    public struct Layer: Sendable {
        public var title: String
        /// Each neuron's activation, drawn as darkness; values are clamped to 0…1.
        public var activations: [Float]
        /// Optional text beside each neuron (e.g. the digit an output stands for).
        public var labels: [String]

        public init(title: String, activations: [Float], labels: [String] = []) {
            self.title = title
            self.activations = activations
            self.labels = labels
        }
    }

    public var title: String
    /// The input, drawn as a picture rather than as 784 neurons.
    public var image: GrayImage?
    public var layers: [Layer]
    /// `weights[i]` connects `layers[i]` to `layers[i + 1]`: shape [layers[i+1].count, layers[i].count] row-major.
    public var weights: [[Float]]
    public var caption: String

    public init(title: String = "", image: GrayImage? = nil, layers: [Layer], weights: [[Float]] = [], caption: String = "") {
        precondition(!layers.isEmpty, "NetworkDiagram: needs at least one layer")
        for (i, w) in weights.enumerated() where i + 1 < layers.count {
            precondition(w.count == layers[i].activations.count * layers[i + 1].activations.count,
                         "NetworkDiagram: weights[\(i)] has \(w.count) values for \(layers[i + 1].activations.count)×\(layers[i].activations.count) connections")
        }
        self.title = title
        self.image = image
        self.layers = layers
        self.weights = weights
        self.caption = caption
    }

    public func write(to path: String) throws { try AtomicFile.write(text: svg(), to: URL(fileURLWithPath: path)) }

    public func svg() -> String {
        let rowHeight = 26.0, top = 70.0, imageSide = 168.0
        let tallest = Double(layers.map(\.activations.count).max() ?? 1)
        let height = max(top + tallest * rowHeight + 50, top + imageSide + 80)
        let columnGap = 170.0
        let firstColumn = image == nil ? 80.0 : 60 + imageSide + 110
        let width = firstColumn + Double(layers.count - 1) * columnGap + 110
        func position(_ layer: Int, _ neuron: Int) -> (Double, Double) {
            let count = Double(layers[layer].activations.count)
            let start = top + (tallest - count) * rowHeight / 2
            return (firstColumn + Double(layer) * columnGap, start + (Double(neuron) + 0.5) * rowHeight)
        }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"\(SVGText.fontFamily)\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">\(SVGText.escape(title))</text>\n"
        if let image {
            let pixel = imageSide / Double(max(image.width, image.height))
            let y0 = top + (tallest * rowHeight - imageSide) / 2
            out += "<g>\n"
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let level = Int((1 - min(max(image[x, y], 0), 1)) * 255)
                    guard level < 255 else { continue }
                    out += "<rect x=\"\(SVGText.coordinate(60 + Double(x) * pixel))\" y=\"\(SVGText.coordinate(y0 + Double(y) * pixel))\" "
                        + "width=\"\(SVGText.coordinate(pixel + 0.3))\" height=\"\(SVGText.coordinate(pixel + 0.3))\" fill=\"rgb(\(level),\(level),\(level))\"/>\n"
                }
            }
            out += "<rect x=\"60\" y=\"\(SVGText.coordinate(y0))\" width=\"\(Int(imageSide))\" height=\"\(Int(imageSide))\" fill=\"none\" stroke=\"#888\"/>\n"
            out += "<text x=\"\(Int(60 + imageSide / 2))\" y=\"\(SVGText.coordinate(y0 - 10))\" text-anchor=\"middle\" font-size=\"13\">input (\(image.width * image.height) pixels)</text>\n</g>\n"
            // Fan of arrows from the image to the first layer: every pixel feeds every neuron.
            for neuron in 0..<layers[0].activations.count {
                let (x, y) = position(0, neuron)
                out += "<line x1=\"\(Int(60 + imageSide))\" y1=\"\(SVGText.coordinate(y0 + imageSide / 2))\" x2=\"\(SVGText.coordinate(x - 10))\" y2=\"\(SVGText.coordinate(y))\" stroke=\"#ccc\" stroke-width=\"0.6\"/>\n"
            }
        }
        for (i, w) in weights.enumerated() where i + 1 < layers.count {
            let largest = w.map { abs($0) }.max() ?? 1
            let (from, to) = (layers[i].activations.count, layers[i + 1].activations.count)
            for target in 0..<to {
                for source in 0..<from {
                    let value = w[target * from + source]
                    let strength = largest > 0 ? Double(abs(value) / largest) : 0
                    guard strength > 0.15 else { continue }           // the faintest lines only add grey
                    let (x1, y1) = position(i, source), (x2, y2) = position(i + 1, target)
                    out += "<line x1=\"\(SVGText.coordinate(x1 + 10))\" y1=\"\(SVGText.coordinate(y1))\" x2=\"\(SVGText.coordinate(x2 - 10))\" y2=\"\(SVGText.coordinate(y2))\" "
                        + "stroke=\"\(value > 0 ? "#d62728" : "#1f77b4")\" stroke-opacity=\"\(SVGText.coordinate(strength * 0.7))\" stroke-width=\"\(SVGText.coordinate(0.4 + strength * 1.4))\"/>\n"
                }
            }
        }
        for (l, layer) in layers.enumerated() {
            let (x, _) = position(l, 0)
            let (_, yFirst) = position(l, 0)
            out += "<text x=\"\(Int(x))\" y=\"\(SVGText.coordinate(yFirst - 22))\" text-anchor=\"middle\" font-size=\"13\">\(SVGText.escape(layer.title))</text>\n"
            for (n, activation) in layer.activations.enumerated() {
                let (cx, cy) = position(l, n)
                let level = Int((1 - min(max(Double(activation), 0), 1)) * 255)
                out += "<circle cx=\"\(SVGText.coordinate(cx))\" cy=\"\(SVGText.coordinate(cy))\" r=\"10\" fill=\"rgb(\(level),\(level),\(level))\" stroke=\"#333\"><title>\(String(format: "%.3f", activation))</title></circle>\n"
                let label = n < layer.labels.count ? layer.labels[n] + "  " : ""
                out += "<text x=\"\(SVGText.coordinate(cx + 15))\" y=\"\(SVGText.coordinate(cy + 4))\" font-size=\"10\" fill=\"#444\">\(SVGText.escape(label))\(String(format: "%.2f", activation))</text>\n"
            }
        }
        if !caption.isEmpty {
            out += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height - 16))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#444\">\(SVGText.escape(caption))</text>\n"
        }
        return out + "</svg>\n"
    }
}
