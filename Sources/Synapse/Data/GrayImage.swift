/// A single-channel image with `Float` pixels in row-major order: 0 is black, 1 is white.
///
/// ```swift
/// let drawing = try GrayImage(contentsOfFile: "my-digit.png")       // PNG or PGM, any size
/// let input = drawing.preparedLikeMNIST().tensor(batched: true)     // [1, 784], white digit on black
/// ```
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0, "GrayImage: negative size \(width)×\(height)")
        precondition(pixels.count == width * height, "GrayImage: \(pixels.count) pixels for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of one colour.
    public init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: width * height))
    }

    /// An image from any tensor holding `width * height` values in row-major order (an MNIST row, a weight vector).
    public init(_ tensor: Tensor, width: Int, height: Int) {
        precondition(tensor.count == width * height, "GrayImage(tensor:): \(tensor.count) values for \(width)×\(height)")
        self.init(width: width, height: height, pixels: tensor.scalars)
    }

    public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The mean pixel value.
    public var mean: Float {
        guard !pixels.isEmpty else { return 0 }
        return pixels.withUnsafeBufferPointer { p in p.reduce(0, +) } / Float(pixels.count)
    }

    /// `1 - value` for every pixel.
    public func inverted() -> GrayImage {
        GrayImage(width: width, height: height, pixels: pixels.map { 1 - $0 })
    }

    /// The pixels as a tensor: `[height * width]`, or `[1, height * width]` when `batched` (one sample for a model).
    public func tensor(batched: Bool = false) -> Tensor {
        Tensor(shape: batched ? [1, pixels.count] : [pixels.count], scalars: pixels)
    }

    /// 8-bit grey pixels, clamped to `0...1` first.
    public func bitmap() -> Bitmap {
        Bitmap(width: width, height: height, channels: 1,
               bytes: pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) })
    }
}
