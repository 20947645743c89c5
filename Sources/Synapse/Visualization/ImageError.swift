/// A problem reading or writing an image file, in one line that names the file.
///
/// ```swift
/// do { let digit = try GrayImage(contentsOfFile: "seven.png") }
/// catch let error as ImageError { print(error) }   // "seven.png: not a readable PNG (...)"
/// ```
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    /// libpng could not decode the file; `message` is libpng's own explanation.
    case unreadablePNG(path: String, message: String)
    /// The PGM header is not `P2`/`P5 width height maxval`.
    case badPGMHeader(path: String, reason: String)
    /// Fewer pixels than the header promises, or a pixel value outside `0...maxval`.
    case badPGMData(path: String, reason: String)
    /// A zero width or height.
    case zeroSize(path: String)
    /// The file exists but cannot be read (permissions, a directory, an I/O error), or is larger than any image read.
    case unreadableFile(path: String, reason: String)
    /// The header declares more pixels than the limit, or than the file's bytes can hold.
    case tooLarge(path: String, width: Int, height: Int, reason: String)
    /// Neither PNG nor PGM.
    case unsupportedFormat(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path): return "\(path): image file not found"
        case let .unreadablePNG(path, message): return "\(path): not a readable PNG (\(message))"
        case let .badPGMHeader(path, reason): return "\(path): bad PGM header: \(reason)"
        case let .badPGMData(path, reason): return "\(path): bad PGM pixel data: \(reason)"
        case let .zeroSize(path): return "\(path): image has zero width or height"
        case let .unreadableFile(path, reason): return "\(path): cannot read the image: \(reason)"
        case let .tooLarge(path, width, height, reason): return "\(path): declares \(width)×\(height) pixels, \(reason)"
        case let .unsupportedFormat(path): return "\(path): unsupported image format; use PNG or PGM (P2/P5)"
        case let .cannotWrite(path, reason): return "\(path): cannot write image: \(reason)"
        }
    }
}
