import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct PNGTests {
    @Test func greyRoundTrip() throws {
        let dir = TemporaryDirectory()
        let bytes: [UInt8] = (0..<12).map { UInt8($0 * 20) }
        let path = dir.file("grey.png")
        try PNG.write(Bitmap(width: 4, height: 3, channels: 1, bytes: bytes), to: path)
        let image = try PNG.readGray(from: path)
        #expect(image.width == 4 && image.height == 3)
        #expect(image.bitmap().bytes == bytes)
    }

    @Test func colourIsReadAsGrey() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("rgb.png")
        // black, white, mid grey
        try PNG.write(Bitmap(width: 3, height: 1, channels: 3, bytes: [0, 0, 0, 255, 255, 255, 128, 128, 128]), to: path)
        let image = try GrayImage(contentsOfFile: path)
        #expect(image.pixels[0] == 0)
        #expect(image.pixels[1] == 1)
        #expect(abs(image.pixels[2] - 128 / 255) < 0.01)
    }

    @Test func transparentCanvasGetsAContrastingBackground() throws {
        let dir = TemporaryDirectory()
        // Dark ink on a transparent canvas: background becomes white.
        let dark = dir.file("dark.png")
        try PNG.write(Bitmap(width: 2, height: 1, channels: 4, bytes: [0, 0, 0, 255, 0, 0, 0, 0]), to: dark)
        #expect(try PNG.readGray(from: dark).pixels == [0, 1])
        // Light ink on a transparent canvas: background becomes black.
        let light = dir.file("light.png")
        try PNG.write(Bitmap(width: 2, height: 1, channels: 4, bytes: [255, 255, 255, 255, 255, 255, 255, 0]), to: light)
        #expect(try PNG.readGray(from: light).pixels == [1, 0])
    }

    @Test func writesAtomicallyAndReplaces() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("x.png")
        try PNG.write(Bitmap(width: 1, height: 1, channels: 1, bytes: [10]), to: path)
        try PNG.write(Bitmap(width: 2, height: 1, channels: 1, bytes: [20, 30]), to: path)
        #expect(try PNG.readGray(from: path).width == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.png"])
    }

    @Test func unwritableDirectoryIsAnError() {
        let error = #expect(throws: AtomicFile.WriteError.self) {
            try PNG.write(Bitmap(width: 1, height: 1, channels: 1, bytes: [0]), to: "/nonexistent-dir/x.png")
        }
        #expect(error?.description == "/nonexistent-dir/x.png: cannot write: directory /nonexistent-dir does not exist")
        #expect(throws: ImageError.zeroSize(path: "/tmp/empty.png")) {
            try PNG.write(Bitmap(width: 0, height: 3, channels: 1), to: "/tmp/empty.png")
        }
    }

    @Test func corruptPNGNamesTheFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("broken.png", bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
        #expect {
            try GrayImage(contentsOfFile: path)
        } throws: { error in
            guard case ImageError.unreadablePNG(let p, _) = error else { return false }
            return p == path && "\(error)".hasPrefix(path + ": not a readable PNG (")
        }
        #expect(throws: ImageError.missingFile(path: dir.file("none.png"))) { try GrayImage(contentsOfFile: dir.file("none.png")) }
    }
}
