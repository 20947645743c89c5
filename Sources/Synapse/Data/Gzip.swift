import CZlib
import Foundation

/// Reads files that may be gzip- or zlib-compressed, inflating them through the system zlib.
///
/// Data that does not start with a gzip or zlib header is returned unchanged, so the same call reads
/// `train-images-idx3-ubyte.gz` and an already unpacked `train-images-idx3-ubyte`.
///
/// ```swift
/// let bytes = try Gzip.contentsOfFile(atPath: "datasets/mnist/train-labels-idx1-ubyte.gz")
/// let raw = try Gzip.inflate(compressedBytes)   // throws on corrupt input
/// ```
public enum Gzip {
    /// The bytes of the file at `path`, inflated when it is compressed; inflating stops with an error past
    /// `limit` bytes, so a small file cannot make us allocate gigabytes.
    public static func contentsOfFile(atPath path: String, limit: Int = Int.max) throws -> [UInt8] {
        let bytes = try readBytes(atPath: path)
        return isCompressed(bytes) ? try inflate(bytes, path: path, limit: limit) : bytes
    }


    /// The raw bytes of a file; throws `DatasetError.missingFile` / `.unreadable`.
    public static func readBytes(atPath path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError.missingFile(name: (path as NSString).lastPathComponent, searched: [path])
        }
        if isDirectory.boolValue { throw DatasetError.unreadable(path: path, reason: "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        return [UInt8](data)
    }

    /// True when `bytes` start with a gzip member header (1f 8b) or a valid zlib header (deflate, checksum ok).
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        if bytes[0] == 0x1f && bytes[1] == 0x8b { return true }
        // zlib: CM = 8 (deflate), CINFO <= 7, and the 16-bit header is a multiple of 31.
        return bytes[0] & 0x0f == 8 && bytes[0] >> 4 <= 7 && (Int(bytes[0]) << 8 | Int(bytes[1])) % 31 == 0
    }

    /// Inflates gzip (possibly several concatenated members) or zlib data.
    ///
    /// - Parameter path: names the source in errors; pass the file name when there is one.
    /// - Parameters:
    ///   - limit: at most this many bytes come out; more is an error (`DatasetError.tooLarge`), unless
    ///   - stopAtLimit: true returns the first `limit` bytes instead.
    public static func inflate(_ bytes: [UInt8], path: String = "<memory>", limit: Int = Int.max,
                               stopAtLimit: Bool = false) throws -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        // A single gzip member stores its uncompressed size (mod 2^32) in the last four bytes: a good first guess,
        // trusted only as far as deflate's ~1032:1 ceiling and the limit allow.
        var capacity = bytes.count * 4
        if bytes.count >= 18 && bytes[0] == 0x1f && bytes[1] == 0x8b {
            let n = bytes.count
            let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            capacity = max(min(isize, bytes.count * 1032), 64)
        }
        capacity = max(1, min(capacity, limit == Int.max ? capacity : limit + 1))
        var output = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { output.deallocate() }
        var produced = 0

        var stream = z_stream()
        // inflateInit2 is a macro Swift does not import; 15 + 32 = 32 KiB window with gzip/zlib auto-detection.
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw DatasetError.corruptCompressedData(path: path, reason: "inflateInit failed (\(status))") }
        defer { inflateEnd(&stream) }

        try bytes.withUnsafeBufferPointer { input in
            var consumed = 0
            while true {
                let inChunk = min(input.count - consumed, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                stream.avail_in = UInt32(inChunk)
                if produced > limit || (stopAtLimit && produced >= limit) {
                    if stopAtLimit { produced = limit; return }
                    throw DatasetError.tooLarge(path: path, limit: limit)
                }
                if produced == capacity {
                    let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                    bigger.update(from: output, count: produced)
                    output.deallocate()
                    output = bigger
                    capacity *= 2
                }
                let outChunk = min(capacity - produced, Int(UInt32.max))
                stream.next_out = output + produced
                stream.avail_out = UInt32(outChunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                consumed += inChunk - Int(stream.avail_in)
                produced += outChunk - Int(stream.avail_out)
                if produced > limit && !stopAtLimit { throw DatasetError.tooLarge(path: path, limit: limit) }
                if status == Z_STREAM_END {
                    // Concatenated gzip members (what `cat a.gz b.gz` makes) continue after a reset;
                    // trailing padding after the last member is ignored, as gunzip does.
                    if consumed + 1 < input.count && input[consumed] == 0x1f && input[consumed + 1] == 0x8b {
                        inflateReset(&stream)
                        continue
                    }
                    return
                }
                if status == Z_OK || (status == Z_BUF_ERROR && stream.avail_out == 0) { continue }
                if status == Z_BUF_ERROR {
                    throw DatasetError.corruptCompressedData(path: path, reason: "unexpected end of compressed data, the file is truncated")
                }
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DatasetError.corruptCompressedData(path: path, reason: message)
            }
        }
        return Array(UnsafeBufferPointer(start: output, count: produced))
    }
}
