import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct GzipTests {
    let text = Array("hello hello hello synapse\n".utf8)
    // gzip.compress(text, mtime=0) and zlib.compress(text) from Python.
    let gzipped: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 200, 64, 34, 139, 43, 243, 18, 11,
                            138, 83, 185, 0, 35, 206, 72, 61, 26, 0, 0, 0]
    let zlibbed: [UInt8] = [120, 156, 203, 72, 205, 201, 201, 87, 200, 64, 34, 139, 43, 243, 18, 11, 138, 83, 185, 0,
                            133, 0, 9, 170]

    @Test func inflatesGzipAndZlib() throws {
        #expect(Gzip.isCompressed(gzipped))
        #expect(Gzip.isCompressed(zlibbed))
        #expect(try Gzip.inflate(gzipped) == text)
        #expect(try Gzip.inflate(zlibbed) == text)
    }

    @Test func inflatesConcatenatedMembers() throws {
        #expect(try Gzip.inflate(gzipped + gzipped) == text + text)
    }

    @Test func passesUncompressedFilesThrough() throws {
        let dir = TemporaryDirectory()
        let plain = dir.write("plain.txt", bytes: text)
        let packed = dir.write("packed.gz", bytes: gzipped)
        #expect(!Gzip.isCompressed(text))
        #expect(try Gzip.contentsOfFile(atPath: plain) == text)
        #expect(try Gzip.contentsOfFile(atPath: packed) == text)
    }

    @Test func truncatedGzipIsAnError() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("cut.gz", bytes: Array(gzipped.prefix(15)))
        #expect {
            try Gzip.contentsOfFile(atPath: path)
        } throws: { error in
            guard case DatasetError.corruptCompressedData(let p, _) = error else { return false }
            return p == path && "\(error)".contains("cut.gz")
        }
    }

    @Test func corruptGzipIsAnError() throws {
        var bad = gzipped
        bad[12] ^= 0xff
        bad[13] ^= 0x5a
        #expect(throws: DatasetError.self) { try Gzip.inflate(bad, path: "bad.gz") }
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: DatasetError.missingFile(name: "nope.gz", searched: ["/nonexistent/nope.gz"])) {
            try Gzip.contentsOfFile(atPath: "/nonexistent/nope.gz")
        }
    }
}

@Suite(.synapseRuntime) struct IDXTests {
    @Test func parsesHeaderAndElements() throws {
        let bytes = IDXArray.encode(dimensions: [2, 3], elements: [1, 2, 3, 4, 5, 6])
        #expect(Array(bytes.prefix(4)) == [0, 0, 8, 2])
        let idx = try IDXArray(bytes: bytes, path: "x")
        #expect(idx.dimensions == [2, 3])
        #expect(idx.withUnsafeElements { Array($0) } == [1, 2, 3, 4, 5, 6])
    }

    @Test func largeExtentsAreBigEndian() throws {
        let idx = try IDXArray(bytes: IDXArray.encode(dimensions: [300, 1], elements: [UInt8](repeating: 7, count: 300)), path: "x")
        #expect(idx.dimensions == [300, 1])
    }

    @Test func rejectsBadMagic() {
        #expect(throws: DatasetError.badMagic(path: "f", found: [0x50, 0x4b, 3, 4])) {
            try IDXArray(bytes: [0x50, 0x4b, 3, 4, 0, 0, 0, 0], path: "f")
        }
        let error = DatasetError.badMagic(path: "f", found: [0x50, 0x4b, 3, 4])
        #expect(error.description == "f: wrong magic number [50 4b 03 04], expected an IDX file starting 00 00 <type> <rank>")
    }

    @Test func rejectsNonByteTypes() {
        // 0x0d = 32-bit float
        var bytes: [UInt8] = [0, 0, 0x0d, 1, 0, 0, 0, 1]
        bytes += [0, 0, 0, 0]
        #expect(throws: DatasetError.unsupportedElementType(path: "f", code: 0x0d)) { try IDXArray(bytes: bytes, path: "f") }
        #expect("\(DatasetError.unsupportedElementType(path: "f", code: 0x0d))".contains("0x0d"))
    }

    @Test func rejectsTruncatedAndTrailingData() {
        let full = IDXArray.encode(dimensions: [4], elements: [1, 2, 3, 4])
        #expect(throws: DatasetError.truncated(path: "f", expectedBytes: 12, actualBytes: 11)) {
            try IDXArray(bytes: Array(full.dropLast()), path: "f")
        }
        #expect(throws: DatasetError.truncated(path: "f", expectedBytes: 8, actualBytes: 6)) {
            try IDXArray(bytes: Array(full.prefix(6)), path: "f")
        }
        #expect(throws: DatasetError.trailingBytes(path: "f", expectedBytes: 12, actualBytes: 13)) {
            try IDXArray(bytes: full + [0], path: "f")
        }
    }
}
