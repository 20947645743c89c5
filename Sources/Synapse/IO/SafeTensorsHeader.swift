/// The validated layout of a safetensors file: where each tensor's bytes are in the data buffer.
///
/// Parsing checks everything the header claims against the buffer size before a single tensor byte is copied, so
/// tensor allocations never exceed the data the file really contains. The header itself is capped at 100 MB, and its
/// parsed JSON tree takes at most about a dozen bytes per header byte (an array of one-digit numbers is the worst case).
struct SafeTensorsLayout: Sendable {
    struct Item: Sendable {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        /// Byte range within the data buffer (after the header).
        var range: Range<Int>
    }

    /// Items in buffer order.
    var items: [Item]
    var metadata: [String: String]

    /// Largest header accepted, as in the Rust implementation: real headers are kilobytes.
    static let maximumHeaderLength = 100_000_000

    /// Reads the 8-byte little-endian header length and checks it against the limit and the file size.
    static func headerLength(prefix: UnsafeRawBufferPointer, fileByteCount: Int, file: String) throws(SafeTensorsError) -> Int {
        guard fileByteCount >= 8, prefix.count >= 8 else { throw .truncatedFile(file: file, byteCount: fileByteCount) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(prefix[i]) }
        let limit = min(maximumHeaderLength, fileByteCount - 8)
        guard length <= UInt64(limit) else { throw .invalidHeaderLength(file: file, headerLength: length, limit: limit) }
        return Int(length)
    }

    /// Parses and validates the JSON header against a data buffer of `bufferByteCount` bytes.
    static func parse(header: UnsafeBufferPointer<UInt8>, bufferByteCount: Int, file: String) throws(SafeTensorsError) -> SafeTensorsLayout {
        // Like the Rust reader, insist on '{' first so that a file cannot be several formats at once.
        guard header.first == UInt8(ascii: "{") else {
            throw .invalidHeader(file: file, reason: "the JSON header must start with '{'")
        }
        let root: JSONValue
        do {
            root = try StrictJSON.parse(header)
        } catch {
            throw .invalidJSON(file: file, reason: error.reason, offset: error.offset)
        }
        guard case let .object(members) = root else {
            throw .invalidHeader(file: file, reason: "the JSON header is \(root.kindName), expected an object")
        }

        var metadata: [String: String] = [:]
        var items: [Item] = []
        items.reserveCapacity(members.count)
        for (name, value) in members.members {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                items.append(try parseEntry(name: name, value: value, bufferByteCount: bufferByteCount, file: file))
            }
        }

        // Sort by position (ties by name, so that errors are deterministic) and require a gap-free buffer.
        items.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        var covered = 0
        var previousName: String?
        for item in items {
            if item.range.lowerBound < covered, let previousName {
                throw .overlappingTensors(file: file, first: previousName, second: item.name)
            }
            if item.range.lowerBound > covered {
                throw .uncoveredBytes(file: file, range: covered..<item.range.lowerBound)
            }
            if !item.range.isEmpty || previousName == nil {
                covered = item.range.upperBound
                previousName = item.name
            }
        }
        if covered != bufferByteCount {
            throw .uncoveredBytes(file: file, range: covered..<bufferByteCount)
        }
        return SafeTensorsLayout(items: items, metadata: metadata)
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws(SafeTensorsError) -> [String: String] {
        switch value {
        case .null:
            return [:]  // the Rust reader treats a null __metadata__ as absent
        case let .object(entries):
            var metadata: [String: String] = [:]
            for (key, entry) in entries.members {
                guard case let .string(text) = entry else {
                    throw .invalidMetadata(file: file, key: key, reason: "value is \(entry.kindName), expected a string")
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw .invalidHeader(file: file, reason: "__metadata__ is \(value.kindName), expected an object of strings")
        }
    }

    private static func parseEntry(name: String, value: JSONValue, bufferByteCount: Int, file: String) throws(SafeTensorsError) -> Item {
        guard case let .object(fields) = value else {
            throw .invalidEntry(file: file, tensor: name, reason: "entry is \(value.kindName), expected an object")
        }
        for key in fields.keys where !["dtype", "shape", "data_offsets"].contains(key) {
            throw .invalidEntry(file: file, tensor: name, reason: "unexpected field \(JSONValue.escaped(key))")
        }
        guard let dtypeValue = fields["dtype"] else { throw .invalidEntry(file: file, tensor: name, reason: "missing field \"dtype\"") }
        guard let shapeValue = fields["shape"] else { throw .invalidEntry(file: file, tensor: name, reason: "missing field \"shape\"") }
        guard let offsetsValue = fields["data_offsets"] else {
            throw .invalidEntry(file: file, tensor: name, reason: "missing field \"data_offsets\"")
        }

        guard case let .string(dtypeName) = dtypeValue else {
            throw .invalidEntry(file: file, tensor: name, reason: "dtype is \(dtypeValue.kindName), expected a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unsupportedDType(file: file, tensor: name, dtype: dtypeName)
        }
        let shape = try integers(shapeValue, field: "shape", tensor: name, file: file)
        let offsets = try integers(offsetsValue, field: "data_offsets", tensor: name, file: file)
        guard offsets.count == 2 else {
            throw .invalidEntry(file: file, tensor: name, reason: "data_offsets has \(offsets.count) elements, expected [begin, end]")
        }
        guard offsets[0] <= offsets[1] else {
            throw .invalidEntry(file: file, tensor: name, reason: "data_offsets \(offsets) end before they begin")
        }
        var byteCount = dtype.byteCount
        for dimension in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .shapeOverflow(file: file, tensor: name, shape: shape, dtype: dtype) }
            byteCount = product
        }
        guard offsets[1] - offsets[0] == byteCount else {
            throw .sizeMismatch(file: file, tensor: name, offsets: offsets, dtype: dtype, shape: shape, expectedByteCount: byteCount)
        }
        guard offsets[1] <= bufferByteCount else {
            throw .offsetsOutOfBounds(file: file, tensor: name, offsets: offsets, bufferByteCount: bufferByteCount)
        }
        return Item(name: name, dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
    }

    /// Reads an array of non-negative integers that fit in `Int` (JSON numbers without sign, fraction or exponent).
    private static func integers(_ value: JSONValue, field: String, tensor: String, file: String) throws(SafeTensorsError) -> [Int] {
        guard case let .array(elements) = value else {
            throw .invalidEntry(file: file, tensor: tensor, reason: "\(field) is \(value.kindName), expected an array of integers")
        }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard case let .number(text) = element else {
                throw .invalidEntry(file: file, tensor: tensor, reason: "\(field) contains \(element.kindName), expected non-negative integers")
            }
            guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let integer = Int(text) else {
                throw .invalidEntry(file: file, tensor: tensor,
                                    reason: "\(field) contains \(text.prefix(32)), expected a non-negative integer below 2^63")
            }
            result.append(integer)
        }
        return result
    }
}
