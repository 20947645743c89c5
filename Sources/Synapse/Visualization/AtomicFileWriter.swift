import Foundation

/// Writes files so that readers see either the old file or the complete new one, never a partial write:
/// the content goes to a temporary file in the same directory, which is then renamed over the target.
enum AtomicFileWriter {
    /// A temporary path next to `path` (same directory, so `rename` stays on one file system).
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
    }

    /// Runs `produce` to write the temporary file, then renames it to `path`; removes the temporary file on failure.
    static func write(to path: String, produce: (String) throws -> Void) throws {
        let temporary = temporaryPath(for: path)
        do {
            try produce(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageError.cannotWrite(path: path, reason: reason)
        }
    }

    /// Writes UTF-8 text atomically.
    static func write(text: String, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
                throw ImageError.cannotWrite(path: path, reason: "cannot create a file in \((path as NSString).deletingLastPathComponent)")
            }
        }
    }
}
