import CZlib
import Foundation
import Testing
@testable import Synapse

/// Sizes a file declares are checked against the bytes it really holds before anything is allocated from them:
/// crafted headers of a few bytes are refused at once instead of asking for gigabytes.
@Suite(.synapseRuntime) struct BoundedLoaderTests {
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        return be(UInt32(data.count)) + body + be(crc)
    }

    /// A valid PNG signature and IHDR declaring `width`×`height` 8-bit grey pixels, then a tiny IDAT and IEND.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        return signature + chunk("IHDR", be(width) + be(height) + [8, 0, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]) + chunk("IEND", [])
    }

    static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-\(UUID().uuidString)-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func aPNGDeclaringTenGigapixelsIsRefusedFromItsHeader() throws {
        let path = try Self.write(Self.pngHeader(width: 100_000, height: 100_000), "huge.png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try PNG.readGray(from: path)
        } throws: { error in
            guard case .tooLarge(_, 100_000, 100_000, _)? = error as? ImageError else { return false }
            return true
        }
        // Within the 64-megapixel limit but far more than 80-odd bytes can hold.
        let small = try Self.write(Self.pngHeader(width: 4000, height: 4000), "dense.png")
        defer { try? FileManager.default.removeItem(atPath: small) }
        #expect(throws: ImageError.self) { try PNG.readGray(from: small) }
    }

    @Test func aPGMDeclaringMorePixelsThanItsBytesIsRefused() throws {
        for header in ["P5 100000 100000 255\n", "P5 300 300 65535\n", "P2 50 50 255\n"] {
            let bytes = Array(header.utf8) + [UInt8](repeating: 7, count: 200)
            #expect("\(header.dropLast())") {
                try GrayImage(pgm: bytes, path: "crafted.pgm")
            } throws: { error in
                guard case .tooLarge? = error as? ImageError else { return false }
                return true
            }
        }
        // An honest small one still reads.
        let honest = Array("P5 2 2 255\n".utf8) + [0, 64, 128, 255]
        #expect(try GrayImage(pgm: honest, path: "ok.pgm").width == 2)
    }

    /// gzip of `bytes` through zlib (window bits 15 + 16 selects the gzip wrapper).
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        _ = deflateInit2_(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: bytes.count / 100 + 1024)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress; stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress; stream.avail_out = UInt32(out.count)
                _ = deflate(&stream, Z_FINISH)
            }
        }
        return Array(output.prefix(Int(stream.total_out)))
    }

    @Test func aSmallGzipThatInflatesPastItsIDXHeaderIsStoppedThere() throws {
        // The header says 10 labels; 16 MB of zeros follow (16 KB compressed).
        let bytes: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 10] + [UInt8](repeating: 0, count: 16 << 20)
        let path = try Self.write(Self.gzip(bytes), "labels.gz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: DatasetError.tooLarge(path: path, limit: 18)) { try IDXArray(contentsOfFile: path) }
        // A broken header is still named as such.
        let bad = try Self.write(Self.gzip([1, 2, 3, 4, 5]), "bad.gz")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(throws: DatasetError.self) { try IDXArray(contentsOfFile: bad) }
        // An honest file reads.
        let good = try Self.write(Self.gzip([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]), "good.gz")
        defer { try? FileManager.default.removeItem(atPath: good) }
        #expect(try IDXArray(contentsOfFile: good).dimensions == [3])
    }
}
