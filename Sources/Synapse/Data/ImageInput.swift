import Foundation

/// Reading user images (PNG, PGM) and turning them into MNIST-like 28×28 inputs.
///
/// ```swift
/// let photo = try GrayImage(contentsOfFile: "photo-of-a-3.pgm")
/// let digit = photo.preparedLikeMNIST()            // 28×28, white on black, centred by mass in a 20×20 box
/// let logits = model(digit.tensor(batched: true))
/// ```
extension GrayImage {
    /// Reads a PNG (any colour type; converted to grey) or a PGM (`P2` text or `P5` binary), chosen by content.
    public init(contentsOfFile path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ImageError.missingFile(path: path) }
        if isDirectory.boolValue { throw ImageError.unreadableFile(path: path, reason: "it is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= 1 << 30 else {
            throw ImageError.unreadableFile(path: path, reason: "\(size) bytes is more than the 1 GiB an image may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError.unreadableFile(path: path, reason: "permission denied or an I/O error")
        }
        try self.init(imageBytes: [UInt8](data), name: path)
    }

    /// A PNG or PGM given as bytes (an upload), told apart by content; `name` is used in errors.
    public init(imageBytes bytes: [UInt8], name path: String) throws {
        if bytes.starts(with: [0x89, 0x50, 0x4e, 0x47]) {
            self = try PNG.readGray(bytes: bytes, name: path)
        } else if bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && (bytes[1] == UInt8(ascii: "2") || bytes[1] == UInt8(ascii: "5")) {
            self = try GrayImage(pgm: bytes, path: path)
        } else if bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(bytes[1]) {
            throw ImageError.badPGMHeader(path: path, reason: "P\(Character(UnicodeScalar(bytes[1]))) is not a grey PGM; only P2 and P5 are supported")
        } else {
            throw ImageError.unsupportedFormat(path: path)
        }
    }

    /// Parses PGM bytes (`P2` or `P5`, `#` comments allowed in the header, maxval up to 65535).
    public init(pgm bytes: [UInt8], path: String) throws {
        var position = 0
        func skipSpaceAndComments() {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != 10 && bytes[position] != 13 { position += 1 }
                } else if [9, 10, 11, 12, 13, 32].contains(bytes[position]) {
                    position += 1
                } else {
                    return
                }
            }
        }
        func number(_ what: String) throws -> Int {
            skipSpaceAndComments()
            let start = position
            while position < bytes.count && bytes[position] >= 48 && bytes[position] <= 57 && position - start < 9 { position += 1 }
            guard position > start else {
                let found = position < bytes.count ? "'\(Character(UnicodeScalar(bytes[position])))'" : "end of file"
                throw ImageError.badPGMHeader(path: path, reason: "expected \(what), found \(found)")
            }
            return bytes[start..<position].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "2") || bytes[1] == UInt8(ascii: "5") else {
            throw ImageError.badPGMHeader(path: path, reason: "missing P2/P5 magic")
        }
        let binary = bytes[1] == UInt8(ascii: "5")
        position = 2
        let width = try number("the width")
        let height = try number("the height")
        let maxValue = try number("the maximum value")
        guard width > 0, height > 0 else { throw ImageError.zeroSize(path: path) }
        guard (1...65535).contains(maxValue) else {
            throw ImageError.badPGMHeader(path: path, reason: "maximum value \(maxValue) is outside 1...65535")
        }
        // The pixels must fit in the bytes that follow: 1 or 2 per pixel in P5, at least 2 (a digit and a space) in P2.
        let remaining = bytes.count - position, (product, overflow) = width.multipliedReportingOverflow(by: height)
        let bytesPerPixel = binary ? (maxValue > 255 ? 2 : 1) : 2
        guard !overflow, product <= GrayImage.maximumPixels, product * bytesPerPixel <= remaining + 1 else {
            throw ImageError.tooLarge(path: path, width: width, height: height,
                                      reason: overflow || product > GrayImage.maximumPixels
                                        ? "more than the \(GrayImage.maximumPixels / 1_000_000) million this reads"
                                        : "but the file has only \(remaining) bytes of pixel data")
        }
        let count = width * height
        var pixels = [Float](repeating: 0, count: count)
        if binary {
            // Exactly one whitespace byte separates the header from the binary pixels.
            guard position < bytes.count, [9, 10, 11, 12, 13, 32].contains(bytes[position]) else {
                throw ImageError.badPGMHeader(path: path, reason: "no whitespace after the maximum value")
            }
            position += 1
            let bytesPerPixel = maxValue > 255 ? 2 : 1
            guard bytes.count - position >= count * bytesPerPixel else {
                throw ImageError.badPGMData(path: path, reason: "\(count) pixels need \(count * bytesPerPixel) bytes, found \(bytes.count - position)")
            }
            for i in 0..<count {
                let value = bytesPerPixel == 1 ? Int(bytes[position + i])
                    : Int(bytes[position + 2 * i]) << 8 | Int(bytes[position + 2 * i + 1])
                guard value <= maxValue else {
                    throw ImageError.badPGMData(path: path, reason: "pixel \(i) is \(value), above the maximum \(maxValue)")
                }
                pixels[i] = Float(value) / Float(maxValue)
            }
        } else {
            for i in 0..<count {
                let value: Int
                do { value = try number("pixel \(i) of \(count)") } catch {
                    throw ImageError.badPGMData(path: path, reason: "only \(i) of \(count) pixel values")
                }
                guard value <= maxValue else {
                    throw ImageError.badPGMData(path: path, reason: "pixel \(i) is \(value), above the maximum \(maxValue)")
                }
                pixels[i] = Float(value) / Float(maxValue)
            }
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Writes the image as a grey PNG (atomically).
    public func writePNG(to path: String) throws { try PNG.write(bitmap(), to: path) }

    /// Resamples to `newWidth × newHeight` by area averaging: each output pixel is the mean of the source area it
    /// covers (fractional pixels weighted by coverage), which keeps thin strokes when shrinking a large photo.
    /// The largest image a file may declare (64 megapixels): far above any digit photo, far below what a crafted
    /// header can ask for.
    public static let maximumPixels = 1 << 26

    public func resized(width newWidth: Int, height newHeight: Int) -> GrayImage {
        precondition(newWidth > 0 && newHeight > 0, "GrayImage.resized: size must be positive, got \(newWidth)×\(newHeight)")
        precondition(width > 0 && height > 0, "GrayImage.resized: cannot resize an empty image")
        let horizontal = GrayImage.areaWeights(from: width, to: newWidth)
        let vertical = GrayImage.areaWeights(from: height, to: newHeight)
        // Separable: rows first (height × newWidth), then columns.
        var rows = [Float](repeating: 0, count: height * newWidth)
        pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for (x, taps) in horizontal.enumerated() {
                        var sum: Float = 0
                        for tap in taps { sum += src[y * width + tap.index] * tap.weight }
                        dst[y * newWidth + x] = sum
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: newHeight * newWidth)
        rows.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (y, taps) in vertical.enumerated() {
                    for tap in taps {
                        for x in 0..<newWidth { dst[y * newWidth + x] += src[tap.index * newWidth + x] * tap.weight }
                    }
                }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: out)
    }

    /// For each output index, the source indices it covers and their weights (summing to 1).
    static func areaWeights(from source: Int, to target: Int) -> [[(index: Int, weight: Float)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < source {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 1e-9 { taps.append((i, Float(overlap / scale))) }
                i += 1
            }
            return taps
        }
    }

    /// Crops to the rectangle `x..<x+w`, `y..<y+h`.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> GrayImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height,
                     "GrayImage.cropped: rectangle (\(x), \(y), \(w)×\(h)) outside \(width)×\(height)")
        var out = [Float](repeating: 0, count: w * h)
        for row in 0..<h {
            for column in 0..<w { out[row * w + column] = pixels[(y + row) * width + x + column] }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// Turns any grey picture of a single digit into an MNIST-style 28×28 input.
    ///
    /// 1. A light background (mean above 0.5) is inverted, so black-on-white drawings become white-on-black.
    /// 2. Contrast is stretched to `0...1`.
    /// 3. With `fitToBox`, as in MNIST's own preprocessing: the bounding box of the ink (pixels above `inkThreshold`)
    ///    is scaled to fit 20×20 keeping its aspect ratio, then placed in the 28×28 canvas so its centre of mass
    ///    is at the centre. Without it, the whole picture is resized to 28×28.
    public func preparedLikeMNIST(fitToBox: Bool = true, inkThreshold: Float = 0.2) -> GrayImage {
        var image = mean > 0.5 ? inverted() : self
        let low = image.pixels.min() ?? 0, high = image.pixels.max() ?? 0
        if high - low > 1e-6 {
            let scale = 1 / (high - low)
            image.pixels = image.pixels.map { ($0 - low) * scale }
        }
        guard fitToBox else { return image.resized(width: 28, height: 28) }

        var minX = image.width, minY = image.height, maxX = -1, maxY = -1
        for y in 0..<image.height {
            for x in 0..<image.width where image[x, y] > inkThreshold {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return GrayImage(width: 28, height: 28) }   // no ink: a blank input
        let box = image.cropped(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
        let fit = 20.0 / Double(max(box.width, box.height))
        let digit = box.resized(width: max(1, Int((Double(box.width) * fit).rounded())),
                                height: max(1, Int((Double(box.height) * fit).rounded())))

        // Centre of mass of the scaled digit decides where it goes in the 28×28 canvas. MNIST's digits have their
        // centre of mass at pixel index (14, 14) on average, i.e. 14.5 when pixel centres are at x + 0.5.
        var mass: Float = 0, sumX: Float = 0, sumY: Float = 0
        for y in 0..<digit.height {
            for x in 0..<digit.width {
                let v = digit[x, y]
                mass += v; sumX += v * (Float(x) + 0.5); sumY += v * (Float(y) + 0.5)
            }
        }
        let centreX = mass > 0 ? sumX / mass : Float(digit.width) / 2
        let centreY = mass > 0 ? sumY / mass : Float(digit.height) / 2
        let left = min(max(Int((14.5 - centreX).rounded()), 0), 28 - digit.width)
        let top = min(max(Int((14.5 - centreY).rounded()), 0), 28 - digit.height)
        var canvas = GrayImage(width: 28, height: 28)
        for y in 0..<digit.height {
            for x in 0..<digit.width { canvas[left + x, top + y] = digit[x, y] }
        }
        return canvas
    }
}
