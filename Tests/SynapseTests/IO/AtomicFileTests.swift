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
}
