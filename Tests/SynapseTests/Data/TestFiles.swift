import Foundation

/// A fresh temporary directory for one test, removed when the value is deinitialised.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "synapse-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let target = file(name)
        precondition(FileManager.default.createFile(atPath: target, contents: Data(bytes)), "cannot write \(target)")
        return target
    }

    @discardableResult
    func write(_ name: String, text: String) -> String { write(name, bytes: Array(text.utf8)) }
}

/// The package root, found from this file's location (Tests/SynapseTests/Data/TestFiles.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
