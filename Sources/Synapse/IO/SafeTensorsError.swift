/// Why a safetensors file could not be read, written or queried.
///
/// Every case names the file (or the in-memory source) and the part of it at fault; `description` is a one-line
/// reason suitable for a CLI error message.
///
/// ```swift
/// do { _ = try SafeTensorsFile(contentsOf: url) }
/// catch let error as SafeTensorsError { print(error) }   // "model.safetensors: tensor 'fc.weight' ..."
/// ```
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened, read or written.
    case io(file: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case truncatedFile(file: String, byteCount: Int)
    /// The header length is larger than the format allows or than the file.
    case invalidHeaderLength(file: String, headerLength: UInt64, limit: Int)
    /// The header is not a strict JSON object (bad UTF-8, syntax, duplicate keys, …); `offset` is within the header.
    case invalidJSON(file: String, reason: String, offset: Int)
    /// The JSON is well formed but not shaped like a safetensors header.
    case invalidHeader(file: String, reason: String)
    /// A tensor entry lacks a field, has an extra one, or a field has the wrong type.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// The tensor's dtype is not one Synapse handles (or not a safetensors dtype at all).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// The product of the dimensions times the element size overflows.
    case shapeOverflow(file: String, tensor: String, shape: [Int], dtype: SafeTensorsDType)
    /// `data_offsets` do not span exactly the bytes that the dtype and shape need.
    case sizeMismatch(file: String, tensor: String, offsets: [Int], dtype: SafeTensorsDType, shape: [Int], expectedByteCount: Int)
    /// `data_offsets` reach past the end of the data buffer.
    case offsetsOutOfBounds(file: String, tensor: String, offsets: [Int], bufferByteCount: Int)
    /// Two tensors share bytes.
    case overlappingTensors(file: String, first: String, second: String)
    /// Some bytes of the data buffer belong to no tensor (the format requires a gap-free buffer).
    case uncoveredBytes(file: String, range: Range<Int>)
    /// A `__metadata__` value is not a string.
    case invalidMetadata(file: String, key: String, reason: String)
    /// No tensor of that name (`floatTensor`, `values`).
    case tensorNotFound(file: String, tensor: String)
    /// The stored dtype is not the one the caller asked for (`values(_:as:)`).
    case dtypeMismatch(file: String, tensor: String, stored: SafeTensorsDType, requested: SafeTensorsDType)

    public var description: String {
        // Names come from untrusted headers: escape control characters so the message stays on one line.
        func name(_ text: String) -> String {
            let escaped = JSONValue.escaped(text).dropFirst().dropLast()
            return escaped.count > 200 ? escaped.prefix(200) + "…" : String(escaped)
        }
        switch self {
        case let .io(file, reason):
            return "\(file): \(reason)"
        case let .truncatedFile(file, byteCount):
            return "\(file): \(byteCount) bytes is too short for a safetensors file (at least 8 bytes of header length needed)"
        case let .invalidHeaderLength(file, headerLength, limit):
            return "\(file): header length \(headerLength) exceeds the limit of \(limit) bytes (file truncated or not safetensors?)"
        case let .invalidJSON(file, reason, offset):
            return "\(file): header is not valid JSON at byte \(offset) of the header: \(reason)"
        case let .invalidHeader(file, reason):
            return "\(file): invalid header: \(reason)"
        case let .invalidEntry(file, tensor, reason):
            return "\(file): tensor '\(name(tensor))': \(reason)"
        case let .unsupportedDType(file, tensor, dtype):
            let supported = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            let kind = SafeTensorsDType.formatNames.contains(dtype) ? "is not supported" : "is not a safetensors dtype"
            return "\(file): tensor '\(name(tensor))' has dtype \"\(name(dtype))\", which \(kind) (supported: \(supported))"
        case let .shapeOverflow(file, tensor, shape, dtype):
            return "\(file): tensor '\(name(tensor))' shape \(shape) of \(dtype) is too large to address"
        case let .sizeMismatch(file, tensor, offsets, dtype, shape, expected):
            return "\(file): tensor '\(name(tensor))' data_offsets \(offsets) do not match dtype \(dtype) and shape \(shape) (\(expected) bytes)"
        case let .offsetsOutOfBounds(file, tensor, offsets, bufferByteCount):
            return "\(file): tensor '\(name(tensor))' data_offsets \(offsets) reach past the end of the \(bufferByteCount)-byte data buffer"
        case let .overlappingTensors(file, first, second):
            return "\(file): tensors '\(name(first))' and '\(name(second))' overlap in the data buffer"
        case let .uncoveredBytes(file, range):
            return "\(file): data bytes \(range.lowerBound)..<\(range.upperBound) belong to no tensor (gaps and trailing bytes are not allowed)"
        case let .invalidMetadata(file, key, reason):
            return "\(file): __metadata__ entry '\(name(key))': \(reason)"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named '\(name(tensor))'"
        case let .dtypeMismatch(file, tensor, stored, requested):
            return "\(file): tensor '\(name(tensor))' is stored as \(stored), not \(requested)"
        }
    }
}
