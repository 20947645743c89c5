import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct AtomicFileTests {
    private func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func writesAndReplacesWithoutLeftovers() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("out.bin")
        try AtomicFile.write([1, 2, 3], to: url)
        #expect([UInt8](try Data(contentsOf: url)) == [1, 2, 3])
        try AtomicFile.write(Data([9]), to: url)
        #expect([UInt8](try Data(contentsOf: url)) == [9])
        try AtomicFile.write([UInt8](), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
    }

    @Test func reportsAMissingDirectory() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("missing/out.bin")
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write([1], to: url) }
        do {
            try AtomicFile.write([1], to: url)
        } catch let error as AtomicFile.WriteError {
            #expect(error.description.contains("does not exist"))
            #expect(error.path.hasSuffix("missing/out.bin"))
        }
    }

    @Test func refusesToReplaceADirectory() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: target.appendingPathComponent("keep").path, contents: Data([1])))
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write([1], to: target) }
        // The failed write leaves no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["taken"])
    }

    /// The kind of file at `path` (S_IFREG, S_IFCHR, …), without following a final symbolic link.
    private func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func aSymbolicLinkStaysALinkAndItsTargetIsReplaced() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("real.txt"), link = directory.appendingPathComponent("link.txt")
        try AtomicFile.write(text: "old", to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.txt")
        try AtomicFile.write(text: "new", to: link)
        #expect(kind(link.path) == S_IFLNK)
        #expect(try String(contentsOf: target, encoding: .utf8) == "new")
        // A dangling link creates its target.
        let dangling = directory.appendingPathComponent("dangling.txt")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "created.txt")
        try AtomicFile.write(text: "made", to: dangling)
        #expect(try String(contentsOf: directory.appendingPathComponent("created.txt"), encoding: .utf8) == "made")
        #expect(kind(dangling.path) == S_IFLNK)
    }

    @Test func aCharacterDeviceIsWrittenIntoNotReplaced() throws {
        try #require(kind("/dev/null") == S_IFCHR)
        try AtomicFile.write(text: "discarded", to: URL(fileURLWithPath: "/dev/null"))
        #expect(kind("/dev/null") == S_IFCHR, "/dev/null must still be a character device")
        // The PNG writer (a C library writing a path) goes through the same route.
        try PNG.write(Bitmap(width: 2, height: 1, channels: 3, bytes: [0, 0, 0, 255, 255, 255]), to: "/dev/null")
        #expect(kind("/dev/null") == S_IFCHR)
    }

    @Test func aNamedPipeIsWrittenIntoOrRefusedWithoutAReader() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("pipe")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        #expect {
            try AtomicFile.write(text: "nobody listens", to: fifo)
        } throws: { ($0 as? AtomicFile.WriteError)?.reason.contains("no reader") == true }
        // With a reader the bytes arrive through the pipe, and the pipe stays a pipe.
        nonisolated(unsafe) var received = Data()
        let finished = DispatchSemaphore(value: 0)       // orders the reader's write before our read (TSan)
        let reader = Thread {
            if let handle = FileHandle(forReadingAtPath: fifo.path) { received = handle.readDataToEndOfFile() }
            finished.signal()
        }
        reader.start()
        var attempts = 0
        while true {
            do {
                try AtomicFile.write(text: "through the pipe", to: fifo)
                break
            } catch let error as AtomicFile.WriteError where error.reason.contains("no reader") && attempts < 200 {
                attempts += 1
                usleep(10_000)                          // the reader thread has not opened its end yet
            }
        }
        finished.wait()
        #expect(String(decoding: received, as: UTF8.self) == "through the pipe")
        #expect(kind(fifo.path) == S_IFIFO)
    }

    @Test func temporariesOfDeadProcessesAreRemoved() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        // PID 2^22 + 1 is above Linux's pid_max: no such process.
        let stale = directory.appendingPathComponent(".model.safetensors.synapse-4194305-deadbeef.tmp")
        let other = directory.appendingPathComponent(".other.synapse-4194305-deadbeef.tmp")
        try Data([1]).write(to: stale)
        try Data([1]).write(to: other)
        try AtomicFile.write([7], to: url)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: other.path), "only temporaries of this destination are ours to remove")
    }

    @Test func writabilityIsCheckedBeforeAnyWork() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plain.txt")
        try AtomicFile.write(text: "x", to: file)
        // A path through a regular file names the part in the way.
        #expect {
            try AtomicFile.checkWritable(directory: file.appendingPathComponent("runs/mnist"))
        } throws: { ($0 as? AtomicFile.WriteError)?.reason == "\(file.path) is not a directory" }
        // A nested directory that does not exist yet is created.
        let nested = directory.appendingPathComponent("a/b/c")
        try AtomicFile.checkWritable(directory: nested)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(try FileManager.default.contentsOfDirectory(atPath: nested.path).isEmpty, "the probe file is removed")
        // Files: a directory is refused, a device accepted, a missing parent named.
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.checkWritable(file: directory) }
        try AtomicFile.checkWritable(file: URL(fileURLWithPath: "/dev/null"))
        #expect(throws: AtomicFile.WriteError.self) {
            try AtomicFile.checkWritable(file: directory.appendingPathComponent("missing/out.svg"))
        }
    }
}
