import Foundation

/// A safetensors file in memory: named tensors with their raw little-endian bytes, plus string metadata.
///
/// The format (used by Hugging Face, PyTorch, MLX) is an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {...}}`, then one
/// data buffer. Reading validates every claim of the header against the file before copying any data and reports
/// problems as `SafeTensorsError`; writing produces the same bytes as the Python `safetensors` package.
///
/// ```swift
/// var file = SafeTensorsFile(metadata: ["format": "pt"])
/// file.setTensor(weight, named: "fc.weight", dtype: .bf16)
/// file.tensors["fc.scale"] = .init(shape: [4], values: [Int8](repeating: 3, count: 4))
/// try file.write(to: URL(fileURLWithPath: "model.safetensors"))
///
/// let loaded = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "model.safetensors"))
/// let weight2 = try loaded.floatTensor("fc.weight")     // BF16 widened to Float
/// ```
public struct SafeTensorsFile: Sendable {
    /// One stored tensor: element type, shape and `shape.product × dtype.byteCount` little-endian bytes.
    ///
    /// ```swift
    /// let half = SafeTensorsFile.Entry(Tensor([1, 2, 3]), dtype: .f16)
    /// half.floatTensor().scalars            // [1, 2, 3]
    /// let codes = SafeTensorsFile.Entry(shape: [2], values: [Int8(-1), 7])
    /// ```
    public struct Entry: Equatable, Sendable {
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        public let bytes: [UInt8]

        /// Wraps raw little-endian `bytes`; their count must be exactly what `dtype` and `shape` need.
        public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
            let expected = Entry.byteCount(dtype: dtype, shape: shape)
            precondition(bytes.count == expected,
                         "SafeTensorsFile.Entry: \(dtype) \(shape) needs \(expected) bytes, got \(bytes.count)")
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Stores a `Float` tensor as `dtype` (`.f32`, `.f16`, `.bf16` or `.f64`), rounding to nearest even.
        public init(_ tensor: Tensor, dtype: SafeTensorsDType = .f32) {
            precondition(dtype.isFloatingPoint,
                         "SafeTensorsFile.Entry: cannot store a Float tensor as \(dtype); use Entry(shape:values:) for integer data")
            let count = tensor.count
            let bytes = [UInt8](unsafeUninitializedCapacity: count * dtype.byteCount) { buffer, initialized in
                tensor.withUnsafeBufferPointer { source in
                    guard let input = source.baseAddress, let output = buffer.baseAddress, count > 0 else { return }
                    let raw = UnsafeMutableRawPointer(output)
                    switch dtype {
                    case .f32:
                        raw.copyMemory(from: input, byteCount: count * 4)
                    case .f16:
                        for i in 0..<count { raw.storeBytes(of: HalfPrecision.float16Bits(from: input[i]), toByteOffset: 2 * i, as: UInt16.self) }
                    case .bf16:
                        for i in 0..<count { raw.storeBytes(of: HalfPrecision.bfloat16Bits(from: input[i]), toByteOffset: 2 * i, as: UInt16.self) }
                    case .f64:
                        for i in 0..<count { raw.storeBytes(of: Double(input[i]), toByteOffset: 8 * i, as: Double.self) }
                    case .i64, .i32, .i8, .u8:
                        preconditionFailure("unreachable: integer dtype \(dtype)")
                    }
                }
                initialized = count * dtype.byteCount
            }
            self.init(dtype: dtype, shape: tensor.shape, bytes: Entry.littleEndian(bytes, elementWidth: dtype.byteCount))
        }

        /// Stores `values` (row-major, `shape.product` of them) in their own dtype, e.g. `Int8` quantized weights.
        public init<Scalar: SafeTensorsScalar>(shape: [Int], values: [Scalar]) {
            let dtype = Scalar.safeTensorsDType
            let count = Entry.byteCount(dtype: dtype, shape: shape) / dtype.byteCount
            precondition(values.count == count, "SafeTensorsFile.Entry: shape \(shape) needs \(count) values, got \(values.count)")
            let bytes = values.withUnsafeBytes { [UInt8]($0) }
            self.init(dtype: dtype, shape: shape, bytes: Entry.littleEndian(bytes, elementWidth: dtype.byteCount))
        }

        /// The number of elements.
        public var count: Int { bytes.count / dtype.byteCount }

        /// The elements converted to `Float`: floating types exactly or rounded (F64), integers rounded to nearest.
        public func floatTensor() -> Tensor {
            var tensor = Tensor(uninitializedShape: shape)
            tensor.withUnsafeMutableBufferPointer { destination in
                guard let output = destination.baseAddress, count > 0 else { return }
                Entry.littleEndian(bytes, elementWidth: dtype.byteCount).withUnsafeBytes { raw in
                    Entry.convertToFloat(raw, dtype: dtype, count: count, into: output)
                }
            }
            return tensor
        }

        /// The elements as `Scalar`, or `nil` when the entry is stored in another dtype.
        public func values<Scalar: SafeTensorsScalar>(as type: Scalar.Type) -> [Scalar]? {
            guard dtype == Scalar.safeTensorsDType else { return nil }
            let native = Entry.littleEndian(bytes, elementWidth: dtype.byteCount)
            return [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
                native.withUnsafeBytes { raw in
                    if let base = raw.baseAddress, !raw.isEmpty { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: raw.count) }
                }
                initialized = count
            }
        }

        static func byteCount(dtype: SafeTensorsDType, shape: [Int]) -> Int {
            var total = dtype.byteCount
            for dimension in shape {
                precondition(dimension >= 0, "SafeTensorsFile.Entry: negative dimension in shape \(shape)")
                let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
                precondition(!overflow, "SafeTensorsFile.Entry: shape \(shape) is too large")
                total = product
            }
            return total
        }

        /// Converts `count` native-endian elements of `dtype` in `raw` (any alignment) to floats.
        static func convertToFloat(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorsDType, count: Int, into output: UnsafeMutablePointer<Float>) {
            guard let input = raw.baseAddress else { return }
            switch dtype {
            case .f32:
                UnsafeMutableRawPointer(output).copyMemory(from: input, byteCount: count * 4)
            case .f16:
                for i in 0..<count { output[i] = HalfPrecision.float(fromFloat16Bits: input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .bf16:
                for i in 0..<count { output[i] = HalfPrecision.float(fromBFloat16Bits: input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            case .f64:
                for i in 0..<count { output[i] = Float(input.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            case .i64:
                for i in 0..<count { output[i] = Float(input.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            case .i32:
                for i in 0..<count { output[i] = Float(input.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
            case .i8:
                for i in 0..<count { output[i] = Float(input.load(fromByteOffset: i, as: Int8.self)) }
            case .u8:
                for i in 0..<count { output[i] = Float(input.load(fromByteOffset: i, as: UInt8.self)) }
            }
        }

        /// Converts between the file's little-endian layout and the host's: a no-op on little-endian machines.
        static func littleEndian(_ bytes: [UInt8], elementWidth: Int) -> [UInt8] {
            #if _endian(big)
            var swapped = bytes
            var start = 0
            while start < swapped.count {
                swapped[start..<start + elementWidth].reverse()
                start += elementWidth
            }
            return swapped
            #else
            return bytes
            #endif
        }
    }

    /// The tensors by name.
    public var tensors: [String: Entry]
    /// Free-form string annotations (the header's `__metadata__`), e.g. `["format": "pt"]`.
    public var metadata: [String: String]
    /// How errors refer to this file: its file name when read from disk.
    public var sourceName: String

    /// An empty file to fill and write.
    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:], sourceName: String = "safetensors") {
        self.tensors = tensors
        self.metadata = metadata
        self.sourceName = sourceName
    }

    /// A file holding `tensors` (e.g. a module's `stateDict()`), all stored as `dtype`.
    public init(floatTensors tensors: [String: Tensor], dtype: SafeTensorsDType = .f32, metadata: [String: String] = [:]) {
        self.init(tensors: tensors.mapValues { Entry($0, dtype: dtype) }, metadata: metadata)
    }

    /// Parses an in-memory safetensors file; `sourceName` names it in error messages.
    public init(bytes: [UInt8], sourceName: String = "safetensors data") throws {
        let headerLength = try bytes.withUnsafeBytes { raw in
            try SafeTensorsLayout.headerLength(prefix: raw, fileByteCount: raw.count, file: sourceName)
        }
        let layout = try bytes.withUnsafeBufferPointer { buffer in
            try SafeTensorsLayout.parse(header: UnsafeBufferPointer(rebasing: buffer[8..<8 + headerLength]),
                                        bufferByteCount: buffer.count - 8 - headerLength, file: sourceName)
        }
        let dataStart = 8 + headerLength
        var tensors: [String: Entry] = [:]
        tensors.reserveCapacity(layout.items.count)
        for item in layout.items {
            let range = (dataStart + item.range.lowerBound)..<(dataStart + item.range.upperBound)
            tensors[item.name] = Entry(dtype: item.dtype, shape: item.shape, bytes: Array(bytes[range]))
        }
        self.init(tensors: tensors, metadata: layout.metadata, sourceName: sourceName)
    }

    /// Reads and validates a safetensors file.
    public init(contentsOf url: URL) throws {
        let name = url.lastPathComponent
        let reader = try FileReader(url: url, name: name)
        defer { reader.close() }
        let fileByteCount = try reader.size()
        let prefix = try reader.read(count: min(8, fileByteCount))
        let headerLength = try prefix.withUnsafeBytes { raw in
            try SafeTensorsLayout.headerLength(prefix: raw, fileByteCount: fileByteCount, file: name)
        }
        let header = try reader.read(count: headerLength)
        let layout = try header.withUnsafeBufferPointer { buffer in
            try SafeTensorsLayout.parse(header: buffer, bufferByteCount: fileByteCount - 8 - headerLength, file: name)
        }
        // The layout is sorted and gap-free, so the tensors can be read one after the other.
        var tensors: [String: Entry] = [:]
        tensors.reserveCapacity(layout.items.count)
        for item in layout.items {
            tensors[item.name] = Entry(dtype: item.dtype, shape: item.shape, bytes: try reader.read(count: item.range.count))
        }
        self.init(tensors: tensors, metadata: layout.metadata, sourceName: name)
    }

    // MARK: Queries

    /// The tensor names in sorted order.
    public var names: [String] { tensors.keys.sorted() }

    /// The named tensor converted to `Float` (see `Entry.floatTensor()`).
    public func floatTensor(_ name: String) throws -> Tensor {
        guard let entry = tensors[name] else { throw SafeTensorsError.tensorNotFound(file: sourceName, tensor: name) }
        return entry.floatTensor()
    }

    /// Every tensor converted to `Float`, by name (for `load(stateDict:)`).
    public func floatTensors() -> [String: Tensor] {
        tensors.mapValues { $0.floatTensor() }
    }

    /// The named tensor's elements, which must be stored as `Scalar`'s dtype (e.g. `Int8` for I8 data).
    public func values<Scalar: SafeTensorsScalar>(_ name: String, as type: Scalar.Type) throws -> [Scalar] {
        guard let entry = tensors[name] else { throw SafeTensorsError.tensorNotFound(file: sourceName, tensor: name) }
        guard let values = entry.values(as: type) else {
            throw SafeTensorsError.dtypeMismatch(file: sourceName, tensor: name, stored: entry.dtype, requested: Scalar.safeTensorsDType)
        }
        return values
    }

    /// Adds or replaces a tensor, stored as `dtype` (`.f32`, `.f16`, `.bf16` or `.f64`).
    public mutating func setTensor(_ tensor: Tensor, named name: String, dtype: SafeTensorsDType = .f32) {
        tensors[name] = Entry(tensor, dtype: dtype)
    }

    // MARK: Writing

    /// The file's bytes, laid out like the Python writer: widest dtypes first then by name, header padded with
    /// spaces to a multiple of 8 bytes so that every tensor starts aligned to its element size.
    public func serialized() -> [UInt8] {
        precondition(tensors["__metadata__"] == nil, "SafeTensorsFile.serialized: '__metadata__' is reserved and cannot name a tensor")
        let order = tensors.sorted { left, right in
            left.value.dtype.writerRank != right.value.dtype.writerRank
                ? left.value.dtype.writerRank > right.value.dtype.writerRank
                : left.key < right.key
        }
        var header = "{"
        var separator = ""
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { JSONValue.escaped($0.key) + ":" + JSONValue.escaped($0.value) }
            header += "\"__metadata__\":{" + pairs.joined(separator: ",") + "}"
            separator = ","
        }
        var offset = 0
        for (name, entry) in order {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            header += separator + JSONValue.escaped(name) + ":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}"
            separator = ","
            offset += entry.bytes.count
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))

        var result: [UInt8] = []
        result.reserveCapacity(8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count)
        for _ in 0..<8 {
            result.append(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        result.append(contentsOf: headerBytes)
        for (_, entry) in order { result.append(contentsOf: entry.bytes) }
        return result
    }

    /// Writes the file atomically (temporary file in the same directory, then rename).
    public func write(to url: URL) throws {
        do {
            try AtomicFile.write(serialized(), to: url)
        } catch let error as AtomicFile.WriteError {
            throw SafeTensorsError.io(file: url.lastPathComponent, reason: error.reason)
        }
    }
}

/// Element types that `SafeTensorsFile.Entry(shape:values:)` and `values(_:as:)` store and return directly.
///
/// ```swift
/// let codes: [Int8] = try file.values("fc.weight.q", as: Int8.self)
/// ```
public protocol SafeTensorsScalar: Sendable {
    static var safeTensorsDType: SafeTensorsDType { get }
}

extension Float: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f32 } }
extension Double: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f64 } }
extension Int64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i64 } }
extension Int32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i32 } }
extension Int8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i8 } }
extension UInt8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u8 } }

/// Sequential reads from a file descriptor, with errors named after the file.
private final class FileReader {
    let handle: FileHandle
    let name: String

    init(url: URL, name: String) throws(SafeTensorsError) {
        self.name = name
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw .io(file: name, reason: "cannot open \(url.path) for reading (missing file or permissions?)")
        }
    }

    func size() throws(SafeTensorsError) -> Int {
        do {
            let end = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            guard end <= UInt64(Int.max) else { throw SafeTensorsError.io(file: name, reason: "file too large") }
            return Int(end)
        } catch let error as SafeTensorsError {
            throw error
        } catch {
            throw .io(file: name, reason: "cannot determine the file size (is it a regular file?)")
        }
    }

    /// Reads exactly `count` bytes straight into a new array.
    func read(count: Int) throws(SafeTensorsError) -> [UInt8] {
        let descriptor = handle.fileDescriptor
        var failure: SafeTensorsError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let result = Foundation.read(descriptor, buffer.baseAddress! + done, count - done)
                if result > 0 {
                    done += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    failure = .io(file: name, reason: result == 0
                        ? "file ended early (was it modified while being read?)"
                        : "read failed: \(String(cString: strerror(errno)))")
                    break
                }
            }
            initialized = done
        }
        if let failure { throw failure }
        return bytes
    }

    func close() { try? handle.close() }
}
