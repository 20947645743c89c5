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

    /// Lets `produce` write a temporary file (by whatever means, e.g. a C library or a child process), then puts it
    /// at `url`:
    ///
    /// - a regular file, or nothing yet: the temporary is written next to it and renamed over it, atomically;
    /// - a symbolic link: the same for the file it points to (the link stays a link);
    /// - a character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe): the bytes are written into it, as a
    ///   shell's `>` would — never replaced by a regular file;
    /// - a directory, a block device or a socket: refused with a message, nothing touched.
    ///
    /// The temporary is removed if anything fails; temporaries a killed earlier run left next to `url` are removed too.
    public static func write(to url: URL, produce: (URL) throws -> Void) throws {
        let destination = try target(of: url.standardizedFileURL)
        switch try route(for: destination) {
        case .replace: try replace(destination, produce: produce)
        case .stream(let isFIFO): try stream(into: destination, isFIFO: isFIFO, produce: produce)
        }
    }

    /// How a write reaches `destination` (a path with its links resolved).
    private enum Route { case replace, stream(isFIFO: Bool) }

    /// A regular file or nothing yet is replaced, a character device or FIFO is written into; anything else is
    /// refused here, by `write` and by `checkWritable` alike.
    private static func route(for destination: URL) throws -> Route {
        var info = stat()
        guard stat(destination.path, &info) == 0 else { return .replace }
        let kind = info.st_mode & S_IFMT
        switch kind {
        case S_IFREG: return .replace
        case S_IFCHR, S_IFIFO: return .stream(isFIFO: kind == S_IFIFO)
        case S_IFDIR: throw WriteError(path: destination.path, reason: "it is a directory; give a file name inside it")
        default:
            let what = kind == S_IFBLK ? "a block device" : kind == S_IFSOCK ? "a socket" : "not a regular file"
            throw WriteError(path: destination.path, reason: "it is \(what); refusing to overwrite it")
        }
    }

    /// The directory a regular file's temporary goes in; it must exist.
    private static func existingDirectory(of destination: URL) throws -> URL {
        let directory = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WriteError(path: destination.path, reason: "directory \(directory.path) does not exist")
        }
        return directory
    }

    /// Creates `directory` if needed and proves a file can be created in it, before any long work starts (so a
    /// read-only or impossible `--out` fails at once, not after an hour of training).
    public static func checkWritable(directory: URL) throws {
        // Create the missing directories one by one, so a failure names the part of the path that is in the way.
        var missing: [URL] = [], existing = directory.standardizedFileURL
        var info = stat()
        while stat(existing.path, &info) != 0 && existing.path != "/" {
            missing.append(existing)
            existing = existing.deletingLastPathComponent()
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw WriteError(path: directory.path, reason: "\(existing.path) is not a directory")
        }
        for url in missing.reversed() where mkdir(url.path, 0o777) != 0 && errno != EEXIST {
            throw WriteError(path: directory.path, reason: "cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        let probe = directory.appendingPathComponent(".synapse-probe-\(getpid())-\(UUID().uuidString.prefix(8))")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw WriteError(path: directory.path, reason: "cannot create files in it: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(probe.path)
    }

    /// Checks, before any long work, that `write(to: url)` can succeed: the destination is of a kind it writes
    /// (a regular file, a link to one, a character device or a FIFO) and a regular file's directory takes new files.
    public static func checkWritable(file url: URL) throws {
        let destination = try target(of: url.standardizedFileURL)
        guard case .replace = try route(for: destination) else { return }
        try checkWritable(directory: existingDirectory(of: destination))
    }

    /// The path a write to `url` lands on: `url` itself, or the file its symbolic links lead to (which may not exist
    /// yet). A loop of links is refused.
    static func target(of url: URL) throws -> URL {
        var current = url
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current.path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current.path, &buffer, buffer.count - 1)
            guard length > 0 else { return current }
            let link = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? URL(fileURLWithPath: link)
                : current.deletingLastPathComponent().appendingPathComponent(link).standardizedFileURL
        }
        throw WriteError(path: url.path, reason: "too many levels of symbolic links")
    }

    /// The hidden temporary for `destination`: named after it and this process, so a later run can tell a stale one.
    static func temporaryName(for destination: URL) -> String {
        ".\(destination.lastPathComponent).synapse-\(getpid())-\(UUID().uuidString.prefix(8)).tmp"
    }

    /// Removes temporaries for `destination` left by processes that no longer run (killed mid-save).
    static func removeStaleTemporaries(for destination: URL) {
        let directory = destination.deletingLastPathComponent()
        let prefix = ".\(destination.lastPathComponent).synapse-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let rest = name.dropFirst(prefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    /// A regular file (or none yet): temporary next to it, then rename(2), which replaces it atomically.
    private static func replace(_ destination: URL, produce: (URL) throws -> Void) throws {
        let directory = try existingDirectory(of: destination)
        removeStaleTemporaries(for: destination)
        // A unique hidden name next to the destination keeps the rename on one file system (so it is atomic) and
        // lets concurrent writers of different files share a directory.
        let temporary = directory.appendingPathComponent(temporaryName(for: destination))
        do {
            try produce(temporary)
            guard rename(temporary.path, destination.path) == 0 else {
                let code = errno
                throw WriteError(path: destination.path, reason: String(cString: strerror(code)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw described(error, destination)
        }
    }

    /// A character device or FIFO: produce into a private temporary, then copy its bytes into the destination.
    /// A FIFO without a reader is refused rather than waited on.
    private static func stream(into destination: URL, isFIFO: Bool, produce: (URL) throws -> Void) throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent(temporaryName(for: destination))
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try produce(temporary)
        } catch {
            throw described(error, destination)
        }
        let output = open(destination.path, O_WRONLY | (isFIFO ? O_NONBLOCK : 0))
        guard output >= 0 else {
            let code = errno
            let reason = isFIFO && code == ENXIO ? "the named pipe has no reader; start the reader first"
                : String(cString: strerror(code))
            throw WriteError(path: destination.path, reason: reason)
        }
        defer { close(output) }
        if isFIFO { _ = fcntl(output, F_SETFL, fcntl(output, F_GETFL) & ~O_NONBLOCK) }
        guard let input = FileHandle(forReadingAtPath: temporary.path) else {
            throw WriteError(path: destination.path, reason: "cannot read back \(temporary.path)")
        }
        defer { try? input.close() }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try chunk.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Foundation.write(output, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw WriteError(path: destination.path, reason: String(cString: strerror(errno)))
                    }
                    offset += written
                }
            }
        }
    }

    /// The producer's own typed errors (e.g. ImageError) pass through; Foundation's get the destination named.
    private static func described(_ error: Error, _ destination: URL) -> Error {
        if error is WriteError || !(error is CocoaError) { return error }
        return WriteError(path: destination.path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
    }
}
