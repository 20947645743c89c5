import CPNG
import Foundation

/// 8-bit pixels in row-major order: 1 (grey), 3 (RGB) or 4 (RGBA) bytes per pixel.
///
/// ```swift
/// var canvas = Bitmap(width: 2, height: 1, channels: 3)
/// canvas.bytes = [255, 0, 0,  0, 0, 255]     // a red and a blue pixel
/// try PNG.write(canvas, to: "two.png")
/// ```
public struct Bitmap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var bytes: [UInt8]

    /// A bitmap filled with `fill` (every byte).
    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        precondition(width >= 0 && height >= 0, "Bitmap: negative size \(width)×\(height)")
        precondition([1, 3, 4].contains(channels), "Bitmap: channels must be 1, 3 or 4, got \(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        bytes = [UInt8](repeating: fill, count: width * height * channels)
    }

    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        precondition([1, 3, 4].contains(channels), "Bitmap: channels must be 1, 3 or 4, got \(channels)")
        precondition(bytes.count == width * height * channels,
                     "Bitmap: \(bytes.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.bytes = bytes
    }
}

/// PNG files through libpng's simplified API (errors come back in `png_image.message`, no `setjmp` involved).
///
/// ```swift
/// try PNG.write(Bitmap(width: 28, height: 28, channels: 1, bytes: pixels), to: "digit.png")
/// let grey = try PNG.readGray(from: "digit.png")      // GrayImage with values in 0...1
/// ```
public enum PNG {
    // PNG_FORMAT_* values from png.h (macros built from other macros are not reliably imported).
    static let formatGray: UInt32 = 0
    static let formatGrayAlpha: UInt32 = 1
    static let formatRGB: UInt32 = 2
    static let formatRGBA: UInt32 = 3

    /// Writes `bitmap` as an 8-bit PNG (grey, RGB or RGBA by its channel count), atomically.
    public static func write(_ bitmap: Bitmap, to path: String) throws {
        guard bitmap.width > 0, bitmap.height > 0 else { throw ImageError.zeroSize(path: path) }
        try AtomicFile.write(to: URL(fileURLWithPath: path)) { temporaryURL in
            let temporary = temporaryURL.path
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            image.width = UInt32(bitmap.width)
            image.height = UInt32(bitmap.height)
            image.format = bitmap.channels == 1 ? formatGray : bitmap.channels == 3 ? formatRGB : formatRGBA
            let ok = bitmap.bytes.withUnsafeBytes { raw in
                png_image_write_to_file(&image, temporary, 0, raw.baseAddress, 0, nil)
            }
            if ok == 0 {
                let message = PNG.message(of: &image)
                png_image_free(&image)
                throw ImageError.cannotWrite(path: path, reason: message)
            }
        }
    }

    /// Reads any PNG (palette, grey, RGB, 16-bit, with or without alpha) as grey values in `0...1`.
    ///
    /// Transparent pixels are composited onto the background that contrasts with the visible ink: dark strokes on a
    /// transparent canvas become dark on white, light strokes become light on black.
    public static func readGray(from path: String) throws -> GrayImage {
        guard FileManager.default.fileExists(atPath: path) else { throw ImageError.missingFile(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError.unreadableFile(path: path, reason: "permission denied or an I/O error")
        }
        return try readGray(bytes: [UInt8](data), name: path)
    }

    /// The same from PNG bytes in memory (an upload); `name` is used in errors.
    public static func readGray(bytes: [UInt8], name path: String) throws -> GrayImage {
        // libpng's memory reader keeps a pointer to the bytes from begin to finish: both happen inside one closure.
        let (width, height, buffer) = try bytes.withUnsafeBytes { raw -> (Int, Int, [UInt8]) in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                let message = PNG.message(of: &image)
                png_image_free(&image)
                throw ImageError.unreadablePNG(path: path, message: message)
            }
            let width = Int(image.width), height = Int(image.height)
            guard width > 0, height > 0 else {
                png_image_free(&image)
                throw ImageError.zeroSize(path: path)
            }
            // Deflate expands at most ~1032:1, so the file's size bounds the pixels it can really hold.
            let declared = width * height
            guard declared <= GrayImage.maximumPixels, declared <= (raw.count + 64) * 1032 else {
                png_image_free(&image)
                throw ImageError.tooLarge(path: path, width: width, height: height,
                                          reason: declared > GrayImage.maximumPixels
                                            ? "more than the \(GrayImage.maximumPixels / 1_000_000) million this reads"
                                            : "more than its \(raw.count) compressed bytes can hold")
            }
            image.format = formatGrayAlpha
            var buffer = [UInt8](repeating: 0, count: width * height * 2)
            let ok = buffer.withUnsafeMutableBytes { out in png_image_finish_read(&image, nil, out.baseAddress, 0, nil) }
            guard ok != 0 else {
                let message = PNG.message(of: &image)
                png_image_free(&image)
                throw ImageError.unreadablePNG(path: path, message: message)
            }
            return (width, height, buffer)
        }

        let count = width * height
        var pixels = [Float](repeating: 0, count: count)
        buffer.withUnsafeBufferPointer { ga in
            pixels.withUnsafeMutableBufferPointer { out in
                // Alpha-weighted mean of the visible pixels decides whether the ink is dark or light.
                var inkSum: Double = 0, alphaSum: Double = 0
                var hasTransparency = false
                for i in 0..<count {
                    let a = Double(ga[2 * i + 1])
                    inkSum += Double(ga[2 * i]) * a
                    alphaSum += a
                    if ga[2 * i + 1] != 255 { hasTransparency = true }
                }
                let background: Float = hasTransparency && alphaSum > 0 && inkSum / alphaSum < 127.5 ? 1 : 0
                let scale: Float = 1 / 255
                for i in 0..<count {
                    let g = Float(ga[2 * i]) * scale, a = Float(ga[2 * i + 1]) * scale
                    out[i] = g * a + background * (1 - a)
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "unknown libpng error" : text
    }
}
