/// An array stored in the IDX format that MNIST and Fashion-MNIST use.
///
/// The header is `00 00 <type> <rank>` followed by `rank` big-endian 32-bit extents, then the elements in
/// row-major order. Only unsigned bytes (type 0x08) are supported: that is what every MNIST-family file holds.
///
/// ```swift
/// let labels = try IDXArray(contentsOfFile: "datasets/mnist/train-labels-idx1-ubyte.gz")
/// labels.dimensions          // [60000]
/// labels.bytes[labels.dataOffset]   // the first label
/// ```
public struct IDXArray: Sendable {
    /// The extent of each dimension, outermost first.
    public let dimensions: [Int]
    /// The whole (decompressed) file; elements start at `dataOffset`.
    public let bytes: [UInt8]
    /// Where the elements start in `bytes`.
    public let dataOffset: Int
    /// The number of elements the header describes.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Reads and parses a file, inflating it first when it is gzip-compressed. The header is read first and the
    /// inflation stops at the size it implies, so a small `.gz` cannot inflate towards gigabytes.
    public init(contentsOfFile path: String) throws {
        let raw = try Gzip.readBytes(atPath: path)
        guard Gzip.isCompressed(raw) else {
            try self.init(bytes: raw, path: path)
            return
        }
        let head = try Gzip.inflate(raw, path: path, limit: 4 + 4 * 255, stopAtLimit: true)
        guard let implied = IDXArray.impliedByteCount(head) else {
            try self.init(bytes: head, path: path)        // a broken header: this throws the error that names it
            return
        }
        try self.init(bytes: Gzip.inflate(raw, path: path, limit: implied), path: path)
    }

    /// Header plus elements, as a valid header states them; nil when `head` does not start with one.
    static func impliedByteCount(_ head: [UInt8]) -> Int? {
        guard head.count >= 4, head[0] == 0, head[1] == 0, head[2] == 0x08, head[3] >= 1 else { return nil }
        let rank = Int(head[3]), headerSize = 4 + 4 * rank
        guard head.count >= headerSize else { return nil }
        var elements = 1
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            let extent = Int(head[o]) << 24 | Int(head[o + 1]) << 16 | Int(head[o + 2]) << 8 | Int(head[o + 3])
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= Int(Int32.max) * 64 else { return nil }
            elements = product
        }
        return headerSize + elements
    }

    /// Parses IDX bytes; `path` names the source in errors.
    public init(bytes: [UInt8], path: String) throws {
        guard bytes.count >= 4 else {
            throw DatasetError.truncated(path: path, expectedBytes: 4, actualBytes: bytes.count)
        }
        guard bytes[0] == 0, bytes[1] == 0, bytes[3] >= 1 else {
            throw DatasetError.badMagic(path: path, found: Array(bytes[0..<4]))
        }
        let type = bytes[2]
        let knownTypes: Set<UInt8> = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e]
        guard knownTypes.contains(type) else { throw DatasetError.badMagic(path: path, found: Array(bytes[0..<4])) }
        guard type == 0x08 else { throw DatasetError.unsupportedElementType(path: path, code: type) }

        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DatasetError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        var dimensions: [Int] = []
        var elements = 1
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            let extent = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dimensions.append(extent)
            // Extents are < 2^32 each; stop multiplying before an absurd header can overflow Int.
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= Int(Int32.max) * 64 else {
                throw DatasetError.wrongShape(path: path, expected: "a plausible IDX size", found: dimensions)
            }
            elements = product
        }
        let expected = headerSize + elements
        if bytes.count < expected {
            throw DatasetError.truncated(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        if bytes.count > expected {
            throw DatasetError.trailingBytes(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        self.dimensions = dimensions
        self.bytes = bytes
        self.dataOffset = headerSize
    }

    /// Read-only access to the elements (without the header).
    public func withUnsafeElements<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[dataOffset...]))
        }
    }

    /// Encodes unsigned bytes as an IDX file (header + elements), e.g. to write test fixtures.
    public static func encode(dimensions: [Int], elements: [UInt8]) -> [UInt8] {
        precondition(dimensions.reduce(1, *) == elements.count, "IDXArray.encode: dimensions \(dimensions) do not match \(elements.count) elements")
        precondition(dimensions.count <= 255, "IDXArray.encode: rank \(dimensions.count) exceeds 255")
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions {
            out += [UInt8(truncatingIfNeeded: d >> 24), UInt8(truncatingIfNeeded: d >> 16),
                    UInt8(truncatingIfNeeded: d >> 8), UInt8(truncatingIfNeeded: d)]
        }
        return out + elements
    }
}
