import Foundation

/// Writes GGUF files as llama.cpp reads them: version 3, little-endian, the metadata, one info per tensor (name,
/// dimensions in ggml order, type, offset), then the tensors' bytes, each at a multiple of the alignment (32, or
/// `general.alignment` when the metadata sets it). The file is written atomically, streaming the tensors.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.copyMetadata(from: base)                       // every key of another file, byte for byte
/// writer.addTensor("blk.0.attn_q.weight", dimensions: [576, 576], type: .q4_1, bytes: blocks)
/// try writer.write(to: URL(fileURLWithPath: "merged.gguf"))
/// ```
public struct GGUFWriter {
    /// Serialised key/value pairs in order.
    private var entries: [(key: String, bytes: [UInt8])] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, bytes: UnsafeRawBufferPointer, owner: AnyObject?)] = []
    private var alignment = 32

    public init() {}

    /// Every key/value pair of `file` (but `except`), copied byte for byte — array element types included.
    public mutating func copyMetadata(from file: GGUFFile, except: Set<String> = []) {
        for key in file.keys where !except.contains(key) {
            let range = file.metadataRanges[key]!
            setRaw(key, Array(UnsafeRawBufferPointer(rebasing: file.file.bytes[range])))
        }
        alignment = file.alignment
    }

    /// Sets `key` (replacing an earlier value, in place). An empty array is written as an array of u8.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        var bytes: [UInt8] = []
        Self.append(string: key, to: &bytes)
        Self.append(UInt32(Self.typeCode(value)), to: &bytes)
        Self.append(value: value, to: &bytes)
        setRaw(key, bytes)
        if key == "general.alignment", let a = value.int, a > 0, a & (a - 1) == 0 { alignment = a }
    }

    private mutating func setRaw(_ key: String, _ bytes: [UInt8]) {
        if let i = entries.firstIndex(where: { $0.key == key }) { entries[i].bytes = bytes } else { entries.append((key, bytes)) }
    }

    /// Adds a tensor whose bytes (already in `type`'s layout) stay where they are until `write`; `owner` keeps them
    /// alive (a mapped file, an array's storage).
    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, bytes: UnsafeRawBufferPointer, owner: AnyObject?) {
        let elements = dimensions.reduce(1, *)
        precondition(!dimensions.isEmpty && dimensions[0] % type.blockSize == 0
                     && bytes.count == elements / type.blockSize * type.blockByteCount,
                     "GGUFWriter.addTensor: \(bytes.count) bytes do not hold a \(type) tensor of \(dimensions)")
        tensors.append((name, dimensions, type, bytes, owner))
    }

    /// Adds a tensor from bytes in memory.
    public mutating func addTensor(_ name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
        let storage = OwnedBytes(count: bytes.count)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { storage.pointer.copyMemory(from: base, byteCount: bytes.count) } }
        addTensor(name, dimensions: dimensions, type: type, bytes: UnsafeRawBufferPointer(start: storage.pointer, count: bytes.count),
                  owner: storage)
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        var header: [UInt8] = Array("GGUF".utf8)
        Self.append(UInt32(3), to: &header)
        Self.append(UInt64(tensors.count), to: &header)
        Self.append(UInt64(entries.count), to: &header)
        for entry in entries { header += entry.bytes }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offset = (offset + alignment - 1) / alignment * alignment
            offsets.append(offset)
            Self.append(string: t.name, to: &header)
            Self.append(UInt32(t.dimensions.count), to: &header)
            for d in t.dimensions { Self.append(UInt64(d), to: &header) }
            Self.append(t.type.rawValue, to: &header)
            Self.append(UInt64(offset), to: &header)
            offset += t.bytes.count
        }
        header += [UInt8](repeating: 0, count: (alignment - header.count % alignment) % alignment)
        try AtomicFile.write(to: url) { temporary in
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw AtomicFile.WriteError(path: url.path, reason: "cannot create a temporary file in \(temporary.deletingLastPathComponent().path)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(header))
            var written = 0
            for (t, start) in zip(tensors, offsets) {
                if start > written { try handle.write(contentsOf: Data(count: start - written)) }
                if let base = t.bytes.baseAddress, t.bytes.count > 0 {
                    try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: t.bytes.count, deallocator: .none))
                }
                written = start + t.bytes.count
            }
            try handle.synchronize()
        }
    }

    // MARK: Encoding

    static func typeCode(_ value: GGUFValue) -> Int {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func append(string: String, to bytes: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count), to: &bytes)
        bytes += utf8
    }

    static func append(value: GGUFValue, to bytes: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &bytes)
        case .int8(let v): append(v, to: &bytes)
        case .uint16(let v): append(v, to: &bytes)
        case .int16(let v): append(v, to: &bytes)
        case .uint32(let v): append(v, to: &bytes)
        case .int32(let v): append(v, to: &bytes)
        case .uint64(let v): append(v, to: &bytes)
        case .int64(let v): append(v, to: &bytes)
        case .float32(let v): append(v.bitPattern, to: &bytes)
        case .float64(let v): append(v.bitPattern, to: &bytes)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &bytes)
        case .string(let s): append(string: s, to: &bytes)
        case .array(let items):
            append(UInt32(items.first.map(typeCode) ?? 0), to: &bytes)
            append(UInt64(items.count), to: &bytes)
            for item in items { append(value: item, to: &bytes) }
        }
    }
}
