import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct PGMTests {
    @Test func readsTextPGMWithComments() throws {
        let dir = TemporaryDirectory()
        let path = dir.write("a.pgm", text: "P2\n# made by hand\n3 2 # width height\n4\n0 1 2\n3 4 # end of row\n0\n")
        let image = try GrayImage(contentsOfFile: path)
        #expect(image.width == 3 && image.height == 2)
        #expect(image.pixels == [0, 0.25, 0.5, 0.75, 1, 0])
    }

    @Test func readsBinaryPGM8And16Bit() throws {
        let dir = TemporaryDirectory()
        let eight = dir.write("b.pgm", bytes: Array("P5 2 2 255\n".utf8) + [0, 51, 204, 255])
        #expect(try GrayImage(contentsOfFile: eight).pixels == [0, 0.2, 0.8, 1])
        let sixteen = dir.write("c.pgm", bytes: Array("P5\n#c\n2 1\n1000\n".utf8) + [0x01, 0xf4, 0x03, 0xe8])
        #expect(try GrayImage(contentsOfFile: sixteen).pixels == [0.5, 1])
    }

    @Test func rejectsBadHeaders() {
        let dir = TemporaryDirectory()
        let noHeight = dir.write("h.pgm", text: "P2 3 x 255\n")
        #expect(throws: ImageError.badPGMHeader(path: noHeight, reason: "expected the height, found 'x'")) {
            try GrayImage(contentsOfFile: noHeight)
        }
        let zero = dir.write("z.pgm", text: "P2 0 3 255\n")
        #expect(throws: ImageError.zeroSize(path: zero)) { try GrayImage(contentsOfFile: zero) }
        let maxval = dir.write("m.pgm", text: "P2 1 1 70000 1\n")
        #expect(throws: ImageError.badPGMHeader(path: maxval, reason: "maximum value 70000 is outside 1...65535")) {
            try GrayImage(contentsOfFile: maxval)
        }
        let colour = dir.write("c.ppm", text: "P6 1 1 255\n")
        #expect(throws: ImageError.self) { try GrayImage(contentsOfFile: colour) }
        let text = dir.write("t.txt", text: "hello")
        #expect(throws: ImageError.unsupportedFormat(path: text)) { try GrayImage(contentsOfFile: text) }
    }

    @Test func rejectsShortOrOutOfRangeData() {
        let dir = TemporaryDirectory()
        let short = dir.write("s.pgm", bytes: Array("P5 2 2 255\n".utf8) + [1, 2, 3])
        #expect(throws: ImageError.badPGMData(path: short, reason: "4 pixels need 4 bytes, found 3")) { try GrayImage(contentsOfFile: short) }
        let fewer = dir.write("f.pgm", text: "P2 2 2 9\n1 2 3\n")
        #expect(throws: ImageError.badPGMData(path: fewer, reason: "only 3 of 4 pixel values")) { try GrayImage(contentsOfFile: fewer) }
        let above = dir.write("a.pgm", text: "P2 1 1 9\n12\n")
        #expect(throws: ImageError.badPGMData(path: above, reason: "pixel 0 is 12, above the maximum 9")) { try GrayImage(contentsOfFile: above) }
    }
}

@Suite(.synapseRuntime) struct ImagePreparationTests {
    @Test func areaAveragingDownscale() {
        let image = GrayImage(width: 4, height: 2, pixels: [0, 1, 1, 1,
                                                            1, 0, 0, 0])
        let half = image.resized(width: 2, height: 1)
        #expect(half.pixels == [0.5, 0.5])
        let thirds = GrayImage(width: 3, height: 1, pixels: [0, 3, 6]).resized(width: 2, height: 1)
        // [0, 1.5) covers 0 and half of 3; [1.5, 3) covers the other half of 3 and 6.
        #expect(abs(thirds.pixels[0] - 1) < 1e-6 && abs(thirds.pixels[1] - 5) < 1e-6)
    }

    @Test func resizeKeepsConstantImagesAndUpscales() {
        let flat = GrayImage(width: 37, height: 13, fill: 0.3).resized(width: 28, height: 28)
        #expect(flat.pixels.allSatisfy { abs($0 - 0.3) < 1e-5 })
        let up = GrayImage(width: 2, height: 1, pixels: [0, 1]).resized(width: 4, height: 2)
        #expect(up.pixels == [0, 0, 1, 1, 0, 0, 1, 1])
    }

    @Test func blackOnWhiteDrawingBecomesCentredWhiteOnBlack() {
        // A thick dark bar in the top-left corner of a large white canvas.
        var drawing = GrayImage(width: 120, height: 90, fill: 1)
        for y in 10..<70 { for x in 5..<25 { drawing[x, y] = 0 } }
        let digit = drawing.preparedLikeMNIST()
        #expect(digit.width == 28 && digit.height == 28)
        #expect(digit.mean < 0.5)
        var minX = 28, maxX = 0, minY = 28, maxY = 0, mass: Float = 0, cx: Float = 0, cy: Float = 0
        for y in 0..<28 { for x in 0..<28 where digit[x, y] > 0.5 {
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            mass += digit[x, y]; cx += digit[x, y] * (Float(x) + 0.5); cy += digit[x, y] * (Float(y) + 0.5)
        } }
        #expect(maxY - minY + 1 == 20)          // the long side fits the 20-pixel box
        #expect(abs(cx / mass - 14.5) <= 0.5 && abs(cy / mass - 14.5) <= 0.5)
    }

    @Test func blankDrawingGivesBlankInput() {
        #expect(GrayImage(width: 50, height: 50, fill: 1).preparedLikeMNIST().pixels.allSatisfy { $0 == 0 })
    }

    @Test func enlargedInvertedMNISTDigitComesBackClose() throws {
        let test = try MNIST.load(.test, from: packageRoot + "/datasets/mnist")
        let original = GrayImage(test.images.withUnsafeBufferPointer { Tensor(Array($0[0..<784])) }, width: 28, height: 28)
        // What a user might draw: the same digit, 4× larger, black on white.
        let drawing = original.resized(width: 112, height: 112).inverted()
        let prepared = drawing.preparedLikeMNIST()
        var dot: Float = 0, a2: Float = 0, b2: Float = 0
        for i in 0..<784 { dot += original.pixels[i] * prepared.pixels[i]; a2 += original.pixels[i] * original.pixels[i]; b2 += prepared.pixels[i] * prepared.pixels[i] }
        #expect(dot / (a2.squareRoot() * b2.squareRoot()) > 0.85)
        let dir = TemporaryDirectory()
        try prepared.writePNG(to: dir.file("p.png"))
        #expect(try GrayImage(contentsOfFile: dir.file("p.png")).width == 28)
    }
}
