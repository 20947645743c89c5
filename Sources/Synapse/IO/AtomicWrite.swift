import Foundation

/// Writes files atomically: the bytes go to a temporary file in the destination's directory, which is then renamed
/// over the destination. Readers see either the old file or the complete new one, never a half-written file, even if
/// the process dies mid-write (checkpoints, safetensors, PNGs).
///
/// ```swift
/// try AtomicFile.write(bytes, to: URL(fileURLWithPath: "runs/model.safetensors"))
/// ```
public enum AtomicFile {
    /// Why an atomic write failed; names the destination and what to check.
    public struct WriteError: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): cannot write: \(reason)" }
    }

    /// Replaces the file at `url` with `bytes`, creating it if needed. The parent directory must exist.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try bytes.withUnsafeBytes { try write(contentsOf: $0, to: url) }
    }

    /// Replaces the file at `url` with `data`, creating it if needed. The parent directory must exist.
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write(contentsOf: $0, to: url) }
    }

    /// Replaces the file at `url` with the given bytes.
    public static func write(contentsOf bytes: UnsafeRawBufferPointer, to url: URL) throws {
        try write(to: url) { temporary in
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw WriteError(path: url.path, reason: "cannot create a temporary file in \(temporary.deletingLastPathComponent().path) (permissions?)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            if let base = bytes.baseAddress, bytes.count > 0 {
                // Data only reads these bytes; wrapping them avoids copying a large file's contents.
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                                                  deallocator: .none))
            }
            try handle.synchronize()
        }
    }

    /// Replaces the file at `url` with UTF-8 text.
    public static func write(text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Lets `produce` write a temporary file next to `url` (by whatever means, e.g. a C library), then renames it
    /// over `url`. The temporary file is removed if anything fails.
    public static func write(to url: URL, produce: (URL) throws -> Void) throws {
        let destination = url.standardizedFileURL
        let directory = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WriteError(path: destination.path, reason: "directory \(directory.path) does not exist")
        }
        // A unique hidden name next to the destination keeps the rename on one file system (so it is atomic) and
        // lets concurrent writers of different files share a directory.
        let temporary = directory.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try produce(temporary)
            // rename(2) replaces an existing destination atomically on POSIX systems.
            guard rename(temporary.path, destination.path) == 0 else {
                let code = errno
                throw WriteError(path: destination.path, reason: String(cString: strerror(code)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            // The producer's own typed errors (e.g. ImageError) pass through; Foundation's get the destination named.
            if error is WriteError || !(error is CocoaError) { throw error }
            throw WriteError(path: destination.path, reason: error.localizedDescription)
        }
    }
}
