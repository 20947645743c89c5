/// A GGUF file, the format llama.cpp and the local-LLM world ship models in: typed metadata (architecture, sizes,
/// tokenizer, chat template) and named tensors in ggml's block formats, memory-mapped rather than read.
///
/// Layout (little-endian): `"GGUF"`, version (2 or 3), tensor count and metadata count (u64); the metadata as
/// key/type/value triples; one info per tensor (name, dimensions in ggml order — the row length first —, type,
/// offset); padding to `general.alignment` (default 32); the tensor data, each tensor at an aligned offset.
///
/// Every count, length and offset is checked against the file's real size before anything is allocated from it,
/// so a hostile or truncated file yields a `GGUFError`, never a crash or a huge allocation.
///
/// ```swift
/// let gguf = try GGUFFile(path: "models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// gguf.metadata["llama.block_count"]?.int           // 30
/// let info = gguf.tensor(named: "blk.0.attn_q.weight")!
/// info.type, info.dimensions                        // .q4_1, [576, 576]
/// let raw = gguf.data(of: info)                     // the tensor's bytes inside the mapping
/// ```
public struct GGUFFile: @unchecked Sendable {
    /// One tensor's description; its bytes are `data(of:)`.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        /// ggml order: `dimensions[0]` is the length of a row (the innermost, contiguous axis).
        public let dimensions: [Int]
        public let type: GGMLType
        /// From the start of the data section.
        public let offset: Int
        public let byteCount: Int

        public var elementCount: Int { dimensions.reduce(1, *) }
        /// The row-major shape as PyTorch would print it (outermost first): a [out, in] matrix for a Linear weight.
        public var shape: [Int] { dimensions.reversed() }
    }

    public let path: String
    public let version: UInt32
    /// Metadata keys in file order.
    public let keys: [String]
    public let metadata: [String: GGUFValue]
    /// Where each key/value pair lies in the file (key, type and value), so a writer can copy it byte for byte.
    let metadataRanges: [String: Range<Int>]
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int
    let file: MappedFile

    /// How deep arrays of arrays may nest (real files use one level).
    public static let maximumNestingDepth = 8
    /// ggml's `GGML_MAX_DIMS`.
    public static let maximumDimensions = 4

    public init(path: String) throws(GGUFError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .io(file: path, reason: error.reason) }
        try self.init(file: file)
    }

    init(file: MappedFile) throws(GGUFError) {
        self.file = file
        path = file.path
        var reader = GGUFReader(bytes: file.bytes, file: file.path)
        let magic = try reader.read(UInt32.self, "the magic number")
        guard magic == 0x4655_4747 else { throw .notGGUF(file: path) }   // "GGUF" read as a little-endian u32
        version = try reader.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(file: path, version: version) }
        let tensorCount = try reader.count("the tensor count", minimumBytesEach: 4 + 8 + 4 + 4 + 8)
        let keyCount = try reader.count("the metadata count", minimumBytesEach: 8 + 4 + 1)
        (keys, metadata, metadataRanges) = try Self.readMetadata(&reader, count: keyCount, file: path)
        let (name, alignment) = (file.path, try Self.alignment(in: metadata, file: file.path))
        self.alignment = alignment
        let headers = try Self.readTensorHeaders(&reader, count: tensorCount, fileBytes: file.bytes.count, file: name)
        dataOffset = (reader.position + alignment - 1) / alignment * alignment
        let dataBytes = file.bytes.count - min(dataOffset, file.bytes.count)
        var tensors: [TensorInfo] = []
        for header in headers {
            tensors.append(try Self.checkedTensor(header, alignment: alignment, dataBytes: dataBytes, file: name))
        }
        self.tensors = tensors
    }

    private typealias TensorHeader = (name: String, dimensions: [Int], type: GGMLType, offset: Int)

    /// The key/value pairs in file order; a key may appear once.
    private static func readMetadata(_ reader: inout GGUFReader, count: Int, file path: String) throws(GGUFError)
        -> (keys: [String], metadata: [String: GGUFValue], ranges: [String: Range<Int>]) {
        var keys: [String] = [], metadata: [String: GGUFValue] = [:], ranges: [String: Range<Int>] = [:]
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let start = reader.position
            let key = try reader.string("a metadata key")
            let type = try reader.read(UInt32.self, "the type of '\(key)'")
            let value = try reader.value(type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .invalid(file: path, reason: "metadata key '\(key)' appears twice") }
            keys.append(key)
            ranges[key] = start..<reader.position
        }
        return (keys, metadata, ranges)
    }

    /// `general.alignment`: a power of two up to 1 MiB, 32 when absent.
    private static func alignment(in metadata: [String: GGUFValue], file path: String) throws(GGUFError) -> Int {
        guard let value = metadata["general.alignment"] else { return 32 }
        guard let a = value.int, a > 0, a <= 1 << 20, a & (a - 1) == 0 else {
            throw .badMetadata(file: path, key: "general.alignment", reason: "must be a power of two, got \(value)")
        }
        return a
    }

    /// Name, dimensions, type and offset of each tensor, checked one field at a time as they are read.
    private static func readTensorHeaders(_ reader: inout GGUFReader, count: Int, fileBytes: Int,
                                          file path: String) throws(GGUFError) -> [TensorHeader] {
        var headers: [TensorHeader] = []
        headers.reserveCapacity(count)
        var names = Set<String>()
        for _ in 0..<count {
            let name = try reader.string("a tensor name")
            guard names.insert(name).inserted else { throw .invalid(file: path, reason: "tensor '\(name)' appears twice") }
            let rank = try reader.read(UInt32.self, "the rank of '\(name)'")
            guard rank >= 1 && rank <= UInt32(Self.maximumDimensions) else {
                throw .invalidTensor(file: path, tensor: name, reason: "has \(rank) dimensions (1 to \(Self.maximumDimensions) allowed)")
            }
            var dimensions: [Int] = []
            for _ in 0..<rank {
                let d = try reader.read(UInt64.self, "a dimension of '\(name)'")
                guard d >= 1 && d <= UInt64(Int32.max) else {
                    throw .invalidTensor(file: path, tensor: name, reason: "has a dimension of \(d)")
                }
                dimensions.append(Int(d))
            }
            let rawType = try reader.read(UInt32.self, "the type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(file: path, tensor: name, type: rawType) }
            let offset = try reader.read(UInt64.self, "the offset of '\(name)'")
            guard offset <= UInt64(fileBytes) else {
                throw .invalidTensor(file: path, tensor: name, reason: "starts at \(offset), past the end of the \(fileBytes)-byte file; is it truncated?")
            }
            headers.append((name, dimensions, type, Int(offset)))
        }
        return headers
    }

    /// The tensor's byte count, once its rows split into whole blocks, its size cannot overflow, its offset is aligned
    /// and its bytes lie inside the data section.
    private static func checkedTensor(_ info: TensorHeader, alignment: Int, dataBytes: Int,
                                      file path: String) throws(GGUFError) -> TensorInfo {
        guard info.dimensions[0] % info.type.blockSize == 0 else {
            throw .invalidTensor(file: path, tensor: info.name,
                                 reason: "rows of \(info.dimensions[0]) values do not split into \(info.type) blocks of \(info.type.blockSize)")
        }
        // Each dimension is below 2^31 and there are at most 4, so the product is checked step by step.
        var elements = 1
        for d in info.dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 48 else { throw .invalidTensor(file: path, tensor: info.name, reason: "has too many elements \(info.dimensions)") }
            elements = product
        }
        let byteCount = elements / info.type.blockSize * info.type.blockByteCount
        guard info.offset % alignment == 0 else {
            throw .invalidTensor(file: path, tensor: info.name, reason: "offset \(info.offset) is not a multiple of the alignment \(alignment)")
        }
        guard info.offset <= dataBytes, byteCount <= dataBytes - info.offset else {
            throw .truncated(file: path, reading: "the data of tensor '\(info.name)' (\(byteCount) bytes at \(info.offset) of a \(dataBytes)-byte data section)")
        }
        return TensorInfo(name: info.name, dimensions: info.dimensions, type: info.type, offset: info.offset, byteCount: byteCount)
    }

    public func tensor(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// The tensor a model cannot do without: `GGUFError.missingTensor` when the file lacks it.
    public func requiredTensor(named name: String) throws(GGUFError) -> TensorInfo {
        guard let info = tensor(named: name) else { throw .missingTensor(file: path, tensor: name) }
        return info
    }

    /// The tensor's bytes inside the mapping (valid while this file value or a copy of it lives).
    public func data(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[(dataOffset + tensor.offset)..<(dataOffset + tensor.offset + tensor.byteCount)])
    }

    /// The file's size in bytes.
    public var byteCount: Int { file.bytes.count }

    // MARK: Typed metadata access

    /// The metadata value at `key` as a non-negative integer, or a `GGUFError` naming the key.
    public func integer(_ key: String, in range: ClosedRange<Int> = 0...Int.max) throws(GGUFError) -> Int {
        guard let value = metadata[key] else { throw .missingMetadata(file: path, key: key) }
        guard let int = value.int, range.contains(int) else {
            throw .badMetadata(file: path, key: key, reason: "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return int
    }

    public func float(_ key: String) throws(GGUFError) -> Float {
        guard let value = metadata[key] else { throw .missingMetadata(file: path, key: key) }
        guard let x = value.double, x.isFinite else { throw .badMetadata(file: path, key: key, reason: "expected a finite number, got \(value)") }
        return Float(x)
    }

    public func string(_ key: String) throws(GGUFError) -> String {
        guard let value = metadata[key] else { throw .missingMetadata(file: path, key: key) }
        guard case .string(let s) = value else { throw .badMetadata(file: path, key: key, reason: "expected a string, got \(value)") }
        return s
    }

    public func strings(_ key: String) throws(GGUFError) -> [String] {
        guard let value = metadata[key] else { throw .missingMetadata(file: path, key: key) }
        guard case .array(let items) = value else { throw .badMetadata(file: path, key: key, reason: "expected an array of strings") }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { throw .badMetadata(file: path, key: key, reason: "expected an array of strings, found \(item)") }
            result.append(s)
        }
        return result
    }
}

/// One metadata value: the thirteen GGUF value types, arrays possibly nested.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Integer types (and nothing else) as `Int`, when they fit.
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Any number as `Double`.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var typeName: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .uint16: "u16"
        case .int16: "i16"
        case .uint32: "u32"
        case .int32: "i32"
        case .uint64: "u64"
        case .int64: "i64"
        case .float32: "f32"
        case .float64: "f64"
        case .bool: "bool"
        case .string: "str"
        case .array(let items): "arr[\(items.first?.typeName ?? "?"),\(items.count)]"
        }
    }

    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): s.debugDescription
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// Like `description`, with arrays longer than `limit` cut to their first items and long strings shortened.
    public func abbreviated(limit: Int = 8, stringLimit: Int = 120) -> String {
        switch self {
        case .string(let s) where s.count > stringLimit:
            return String(s.prefix(stringLimit)).debugDescription + "… (\(s.count) characters)"
        case .array(let items) where items.count > limit:
            return "[" + items.prefix(limit).map { $0.abbreviated(limit: limit, stringLimit: 40) }.joined(separator: ", ")
                + ", … (\(items.count) items)]"
        case .array(let items):
            return "[" + items.map { $0.abbreviated(limit: limit, stringLimit: 40) }.joined(separator: ", ") + "]"
        default:
            return description
        }
    }
}

/// Why a GGUF file could not be read or used; one line naming the file and the fault.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(file: String, reason: String)
    case notGGUF(file: String)
    case unsupportedVersion(file: String, version: UInt32)
    case truncated(file: String, reading: String)
    case invalid(file: String, reason: String)
    case unknownValueType(file: String, key: String, type: UInt32)
    case unknownTensorType(file: String, tensor: String, type: UInt32)
    case invalidTensor(file: String, tensor: String, reason: String)
    case missingMetadata(file: String, key: String)
    case badMetadata(file: String, key: String, reason: String)
    case missingTensor(file: String, tensor: String)
    case unsupportedBlockType(file: String, tensor: String, type: GGMLType)
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    case unsupportedArchitecture(file: String, architecture: String)

    public var description: String {
        switch self {
        case .io(let file, let reason): "\(file): \(reason)"
        case .notGGUF(let file): "\(file): not a GGUF file (it does not start with \"GGUF\")"
        case .unsupportedVersion(let file, let v): "\(file): GGUF version \(v) is not supported (versions 2 and 3 are)"
        case .truncated(let file, let what): "\(file): the file ends before \(what); is it truncated?"
        case .invalid(let file, let reason): "\(file): \(reason)"
        case .unknownValueType(let file, let key, let type): "\(file): metadata '\(key)' has unknown value type \(type)"
        case .unknownTensorType(let file, let tensor, let type): "\(file): tensor '\(tensor)' has unknown ggml type \(type)"
        case .invalidTensor(let file, let tensor, let reason): "\(file): tensor '\(tensor)' \(reason)"
        case .missingMetadata(let file, let key): "\(file): metadata '\(key)' is missing"
        case .badMetadata(let file, let key, let reason): "\(file): metadata '\(key)': \(reason)"
        case .missingTensor(let file, let tensor): "\(file): tensor '\(tensor)' is missing"
        case .unsupportedBlockType(let file, let tensor, let type):
            "\(file): tensor '\(tensor)' is \(type), which Synapse cannot read yet (supported: \(GGMLType.readable.map(\.description).joined(separator: ", ")))"
        case .wrongShape(let file, let tensor, let expected, let found):
            "\(file): tensor '\(tensor)' has dimensions \(found), the metadata implies \(expected)"
        case .unsupportedArchitecture(let file, let arch): "\(file): architecture '\(arch)' is not supported (only 'llama' is)"
        }
    }
}

/// A bounds-checked little-endian cursor over the mapped header.
struct GGUFReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0

    init(bytes: UnsafeRawBufferPointer, file: String) { (self.bytes, self.file) = (bytes, file) }

    var remaining: Int { bytes.count - position }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(file: file, reading: what()) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += size
        return value
    }

    /// A u64 count, refused when `count × minimumBytesEach` could not fit in the rest of the file.
    mutating func count(_ what: @autoclosure () -> String, minimumBytesEach: Int) throws(GGUFError) -> Int {
        let raw = try read(UInt64.self, what())
        guard raw <= UInt64(remaining / max(minimumBytesEach, 1)) else {
            throw .invalid(file: file, reason: "\(what()) \(raw) cannot fit in the \(bytes.count)-byte file")
        }
        return Int(raw)
    }

    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try read(UInt64.self, "the length of \(what())")
        guard length <= UInt64(remaining) else { throw .truncated(file: file, reading: "\(what()) (\(length) bytes)") }
        let n = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
        position += n
        // GGUF strings are UTF-8; invalid sequences become U+FFFD rather than failing the whole file.
        return String(decoding: slice, as: UTF8.self)
    }

    mutating func value(type: UInt32, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self, "the value of '\(key)'"))
        case 1: return .int8(try read(Int8.self, "the value of '\(key)'"))
        case 2: return .uint16(try read(UInt16.self, "the value of '\(key)'"))
        case 3: return .int16(try read(Int16.self, "the value of '\(key)'"))
        case 4: return .uint32(try read(UInt32.self, "the value of '\(key)'"))
        case 5: return .int32(try read(Int32.self, "the value of '\(key)'"))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self, "the value of '\(key)'")))
        case 7:
            let b = try read(UInt8.self, "the value of '\(key)'")
            guard b <= 1 else { throw .badMetadata(file: file, key: key, reason: "a bool must be 0 or 1, got \(b)") }
            return .bool(b == 1)
        case 8: return .string(try string("the value of '\(key)'"))
        case 9:
            guard depth < GGUFFile.maximumNestingDepth else {
                throw .badMetadata(file: file, key: key, reason: "arrays nested deeper than \(GGUFFile.maximumNestingDepth)")
            }
            let elementType = try read(UInt32.self, "the element type of '\(key)'")
            let minimum: Int
            switch elementType {
            case 0, 1, 7: minimum = 1
            case 2, 3: minimum = 2
            case 4, 5, 6: minimum = 4
            case 8, 10, 11, 12: minimum = 8
            case 9: minimum = 12
            default: throw .unknownValueType(file: file, key: key, type: elementType)
            }
            let n = try count("the length of '\(key)'", minimumBytesEach: minimum)
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try read(UInt64.self, "the value of '\(key)'"))
        case 11: return .int64(try read(Int64.self, "the value of '\(key)'"))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self, "the value of '\(key)'")))
        default: throw .unknownValueType(file: file, key: key, type: type)
        }
    }
}
