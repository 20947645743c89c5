/// Tiles many small grey images into one picture: MNIST samples, first-layer weights seen as 28×28 images,
/// convolution filters scaled up.
///
/// ```swift
/// // 16 hidden neurons of a 784-16 layer, weights in red (positive) and blue (negative), 4× larger:
/// let tiles = ImageGrid.tiles(from: layer.weight.transposed(), width: 28, height: 28)
/// let grid = ImageGrid(colormap: .diverging, scale: 4)
/// try grid.write(tiles, to: "report/hidden-weights.png")
/// ```
public struct ImageGrid: Sendable {
    /// How values become colours.
    public enum Colormap: Sendable {
        /// Black (low) to white (high).
        case gray
        /// Blue (negative) through white (zero) to red (positive), symmetric around zero: for signed weights.
        case diverging
    }

    /// Which values map to the ends of the colormap.
    public enum Normalization: Sendable {
        /// Each tile by its own range (min…max, or ±max|v| for `.diverging`): shows every tile's pattern.
        case perImage
        /// One range for all tiles: keeps magnitudes comparable between tiles.
        case shared
        /// Values are already in `0...1` (`.gray`) or `-1...1` (`.diverging`).
        case none
    }

    public var colormap: Colormap
    public var normalization: Normalization
    /// Tiles per row; `nil` chooses a near-square layout.
    public var columns: Int?
    /// Each source pixel becomes a `scale × scale` block.
    public var scale: Int
    /// Pixels between tiles and around the border.
    public var padding: Int
    /// The colour of the padding (RGB); `nil` picks one that separates tiles for the colormap.
    public var paddingColor: (UInt8, UInt8, UInt8)?

    public init(colormap: Colormap = .gray, normalization: Normalization = .perImage, columns: Int? = nil,
                scale: Int = 1, padding: Int = 1, paddingColor: (UInt8, UInt8, UInt8)? = nil) {
        precondition(scale >= 1, "ImageGrid: scale must be at least 1, got \(scale)")
        precondition(padding >= 0, "ImageGrid: padding must not be negative, got \(padding)")
        self.colormap = colormap
        self.normalization = normalization
        self.columns = columns
        self.scale = scale
        self.padding = padding
        self.paddingColor = paddingColor
    }

    /// Splits a tensor into `count / (width * height)` tiles of `width × height` (e.g. `[16, 784]` or `[32, 1, 3, 3]`).
    public static func tiles(from tensor: Tensor, width: Int, height: Int) -> [GrayImage] {
        let size = width * height
        precondition(size > 0 && tensor.count % size == 0,
                     "ImageGrid.tiles: \(tensor.count) values do not split into \(width)×\(height) tiles")
        return tensor.withUnsafeBufferPointer { values in
            (0..<(tensor.count / size)).map { i in
                GrayImage(width: width, height: height, pixels: Array(values[(i * size)..<((i + 1) * size)]))
            }
        }
    }

    /// Renders `images` (all of the same size) into one RGB bitmap.
    public func render(_ images: [GrayImage]) -> Bitmap {
        precondition(!images.isEmpty, "ImageGrid.render: no images")
        let tileWidth = images[0].width, tileHeight = images[0].height
        precondition(images.allSatisfy { $0.width == tileWidth && $0.height == tileHeight },
                     "ImageGrid.render: images differ in size")
        let columnCount = max(1, min(columns ?? Int(Double(images.count).squareRoot().rounded(.up)), images.count))
        let rowCount = (images.count + columnCount - 1) / columnCount
        let cellWidth = tileWidth * scale, cellHeight = tileHeight * scale
        let width = padding + columnCount * (cellWidth + padding)
        let height = padding + rowCount * (cellHeight + padding)
        let pad = paddingColor ?? (colormap == .gray ? (128, 128, 128) : (90, 90, 90))
        var bitmap = Bitmap(width: width, height: height, channels: 3)
        bitmap.bytes.withUnsafeMutableBufferPointer { out in
            for p in 0..<(width * height) { out[3 * p] = pad.0; out[3 * p + 1] = pad.1; out[3 * p + 2] = pad.2 }
        }

        let shared = range(of: images.flatMap(\.pixels))
        for (index, image) in images.enumerated() {
            let (low, high) = normalization == .perImage ? range(of: image.pixels) : shared
            let left = padding + (index % columnCount) * (cellWidth + padding)
            let top = padding + (index / columnCount) * (cellHeight + padding)
            bitmap.bytes.withUnsafeMutableBufferPointer { out in
                for y in 0..<tileHeight {
                    for x in 0..<tileWidth {
                        let rgb = color(image.pixels[y * tileWidth + x], low: low, high: high)
                        for dy in 0..<scale {
                            var o = 3 * ((top + y * scale + dy) * width + left + x * scale)
                            for _ in 0..<scale { out[o] = rgb.0; out[o + 1] = rgb.1; out[o + 2] = rgb.2; o += 3 }
                        }
                    }
                }
            }
        }
        return bitmap
    }

    /// Renders and writes a PNG (atomically).
    public func write(_ images: [GrayImage], to path: String) throws {
        try PNG.write(render(images), to: path)
    }

    /// The value range that maps onto the colormap.
    func range(of values: [Float]) -> (Float, Float) {
        switch (normalization, colormap) {
        case (.none, .gray): return (0, 1)
        case (.none, .diverging): return (-1, 1)
        case (_, .gray): return (values.min() ?? 0, values.max() ?? 1)
        case (_, .diverging):
            let m = values.reduce(0) { max($0, abs($1)) }
            return (-m, m)
        }
    }

    func color(_ value: Float, low: Float, high: Float) -> (UInt8, UInt8, UInt8) {
        let span = high - low
        // A constant tile shows as the middle of the colormap rather than dividing by zero.
        let t = span > 0 ? min(max((value - low) / span, 0), 1) : 0.5
        switch colormap {
        case .gray:
            let g = UInt8((t * 255).rounded())
            return (g, g, g)
        case .diverging:
            // Blue (33, 102, 172) → near-white (247, 247, 247) → red (178, 24, 43), like ColorBrewer's RdBu.
            let (from, to, u): ((Float, Float, Float), (Float, Float, Float), Float) = t < 0.5
                ? ((33, 102, 172), (247, 247, 247), t * 2)
                : ((247, 247, 247), (178, 24, 43), (t - 0.5) * 2)
            return (UInt8((from.0 + (to.0 - from.0) * u).rounded()), UInt8((from.1 + (to.1 - from.1) * u).rounded()),
                    UInt8((from.2 + (to.2 - from.2) * u).rounded()))
        }
    }
}

extension Bitmap {
    /// Bitmaps one under another, left-aligned on white, with `gap` pixels between them (as RGB).
    public static func stacked(_ parts: [Bitmap], gap: Int = 8) -> Bitmap {
        let width = parts.map(\.width).max() ?? 0
        let height = parts.map(\.height).reduce(0, +) + gap * max(parts.count - 1, 0)
        var out = Bitmap(width: width, height: height, channels: 3, fill: 255)
        var top = 0
        for part in parts {
            for y in 0..<part.height {
                for x in 0..<part.width {
                    let source = (y * part.width + x) * part.channels
                    let target = ((top + y) * width + x) * 3
                    for c in 0..<3 { out.bytes[target + c] = part.bytes[source + (part.channels >= 3 ? c : 0)] }
                }
            }
            top += part.height + gap
        }
        return out
    }
}
