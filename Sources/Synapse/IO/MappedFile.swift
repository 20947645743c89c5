#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file mapped read-only into memory: its bytes are paged in from disk when first touched and shared with the page
/// cache, so a 100 MB model costs no copy and only the resident pages it actually reads.
///
/// ```swift
/// let file = try MappedFile(path: "model.gguf")
/// file.bytes.count                       // the file's size
/// ```
public final class MappedFile: @unchecked Sendable {
    /// Why a file could not be mapped.
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public let path: String
    /// The mapped bytes (empty for an empty file). Valid while this object lives.
    public let bytes: UnsafeRawBufferPointer
    /// True when `bytes` is a private copy (`init(copying:name:)`) rather than a mapping.
    let isCopy: Bool

    /// Bytes held in memory under a name, for parsers that take a `MappedFile` (tests, data that is not a file).
    public init(copying data: [UInt8], name: String) {
        path = name
        isCopy = true
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { if let base = $0.baseAddress { buffer.baseAddress!.copyMemory(from: base, byteCount: data.count) } }
        bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: data.count)
    }

    public init(path: String) throws(Error) {
        self.path = path
        isCopy = false
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : errno == EACCES ? "permission denied" : String(cString: strerror(errno))
            throw Error(path: path, reason: reason)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Error(path: path, reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw Error(path: path, reason: (status.st_mode & S_IFMT) == S_IFDIR ? "is a directory, not a file" : "is not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else { bytes = UnsafeRawBufferPointer(start: nil, count: 0); return }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw Error(path: path, reason: "cannot map the file into memory: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isCopy { base.deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
