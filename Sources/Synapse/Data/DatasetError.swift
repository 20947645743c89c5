/// A problem with a data file on disk: what went wrong, in one line that names the file.
///
/// ```swift
/// do {
///     let mnist = try MNIST(directory: "datasets/mnist")
/// } catch let error as DatasetError {
///     print(error)   // e.g. "datasets/mnist/train-labels-idx1-ubyte.gz: truncated: header says 60000 items ..."
/// }
/// ```
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// No file was found; `searched` lists every path that was tried.
    case missingFile(name: String, searched: [String])
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// gzip/zlib data that zlib could not inflate.
    case corruptCompressedData(path: String, reason: String)
    /// Inflating would produce more bytes than the file's header (or the caller) allows.
    case tooLarge(path: String, limit: Int)
    /// The IDX magic number is not `00 00 type rank`.
    case badMagic(path: String, found: [UInt8])
    /// An IDX element type other than unsigned bytes.
    case unsupportedElementType(path: String, code: UInt8)
    /// Fewer bytes than the header promises.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// More bytes than the header promises.
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file has the wrong number of dimensions or the wrong extents (e.g. images that are not 28×28).
    case wrongShape(path: String, expected: String, found: [Int])
    /// Images and labels disagree on the number of samples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label outside the allowed classes.
    case labelOutOfRange(path: String, index: Int, label: Int, classes: Int)

    public var description: String {
        switch self {
        case let .missingFile(name, searched):
            return "\(name): file not found (looked for \(searched.joined(separator: ", "))); download it or pass the directory that holds it"
        case let .unreadable(path, reason):
            return "\(path): cannot read file: \(reason)"
        case let .tooLarge(path, limit):
            return "\(path): inflates to more than the \(limit) bytes its header implies; the file is damaged or not what it claims"
        case let .corruptCompressedData(path, reason):
            return "\(path): corrupt compressed data (\(reason)); re-download the file"
        case let .badMagic(path, found):
            let hex = found.map { String($0, radix: 16).leftPadded(toWidth: 2) }.joined(separator: " ")
            return "\(path): wrong magic number [\(hex)], expected an IDX file starting 00 00 <type> <rank>"
        case let .unsupportedElementType(path, code):
            return "\(path): unsupported IDX element type 0x\(String(code, radix: 16).leftPadded(toWidth: 2)); only unsigned bytes (0x08) are supported"
        case let .truncated(path, expected, actual):
            return "\(path): truncated: header promises \(expected) bytes, file has \(actual); re-download the file"
        case let .trailingBytes(path, expected, actual):
            return "\(path): \(actual - expected) unexpected bytes after the \(expected) bytes the header describes"
        case let .wrongShape(path, expected, found):
            return "\(path): expected \(expected), found dimensions \(found)"
        case let .countMismatch(imagesPath, images, labelsPath, labels):
            return "\(labelsPath): \(labels) labels but \(imagesPath) has \(images) images"
        case let .labelOutOfRange(path, index, label, classes):
            return "\(path): label \(label) at item \(index) is outside 0...\(classes - 1)"
        }
    }
}

extension String {
    func leftPadded(toWidth width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
