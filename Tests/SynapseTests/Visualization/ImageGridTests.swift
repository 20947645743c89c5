import Foundation
import Testing
@testable import Synapse

/// When SYNAPSE_VISUAL_OUTPUT names a directory, visual tests also leave their pictures there for a person to look at.
func keepForInspection(_ write: (String) throws -> Void, name: String) rethrows {
    guard let directory = ProcessInfo.processInfo.environment["SYNAPSE_VISUAL_OUTPUT"] else { return }
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try write((directory as NSString).appendingPathComponent(name))
}

@Suite(.synapseRuntime) struct ImageGridTests {
    @Test func layoutPaddingAndScale() {
        let tiles = (0..<5).map { GrayImage(width: 2, height: 3, fill: Float($0)) }
        let grid = ImageGrid(normalization: .shared, columns: 3, scale: 2, padding: 1, paddingColor: (1, 2, 3))
        let bitmap = grid.render(tiles)
        // 3 columns of 4-pixel-wide cells, 2 rows of 6-pixel-high cells, 1 pixel around and between.
        #expect(bitmap.width == 1 + 3 * (4 + 1) && bitmap.height == 1 + 2 * (6 + 1))
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(bitmap.bytes[(3 * (y * bitmap.width + x))..<(3 * (y * bitmap.width + x) + 3)]) }
        #expect(pixel(0, 0) == [1, 2, 3])
        #expect(pixel(1, 1) == [0, 0, 0])            // tile 0 is the minimum
        #expect(pixel(4, 6) == [0, 0, 0])            // its last scaled pixel
        #expect(pixel(5, 1) == [1, 2, 3])            // padding between columns
        #expect(pixel(6, 8) == [255, 255, 255] && pixel(9, 13) == [255, 255, 255])   // tile 4 (row 1, column 1): the maximum
        #expect(pixel(15, 8) == [1, 2, 3])           // the unused sixth cell stays padding
    }

    @Test func perImageNormalisationStretchesEachTile() {
        let a = GrayImage(width: 2, height: 1, pixels: [0.1, 0.2])
        let b = GrayImage(width: 2, height: 1, pixels: [5, 7])
        let bitmap = ImageGrid(padding: 0).render([a, b])
        #expect(bitmap.bytes == [0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255])
    }

    @Test func divergingMapsZeroToWhiteAndSignsToColours() {
        let tile = GrayImage(width: 3, height: 1, pixels: [-2, 0, 1])
        let bitmap = ImageGrid(colormap: .diverging, padding: 0).render([tile])
        #expect(Array(bitmap.bytes[0..<3]) == [33, 102, 172])       // -max|v|: full blue
        #expect(Array(bitmap.bytes[3..<6]) == [247, 247, 247])      // zero: white
        let red = Array(bitmap.bytes[6..<9])
        #expect(red[0] > red[2] && red[0] > 200)                    // +1 of ±2: half-way to red
    }

    @Test func tilesFromAWeightTensor() {
        let weights = Tensor(shape: [4, 1, 3, 3], scalars: (0..<36).map(Float.init))
        let tiles = ImageGrid.tiles(from: weights, width: 3, height: 3)
        #expect(tiles.count == 4)
        #expect(tiles[1].pixels == (9..<18).map(Float.init))
    }

    @Test func mnistSamplesAndSignedWeightsAsPictures() throws {
        let test = try MNIST.load(.test, from: packageRoot + "/datasets/mnist")
        let digits = ImageGrid.tiles(from: test.prefix(32).images, width: 28, height: 28)
        let dir = TemporaryDirectory()
        try ImageGrid(columns: 8, scale: 2).write(digits, to: dir.file("digits.png"))
        let back = try GrayImage(contentsOfFile: dir.file("digits.png"))
        #expect(back.width == 1 + 8 * 57 && back.height == 1 + 4 * 57)

        // Stand-in for trained first-layer weights: smooth signed patterns.
        let filters = (0..<16).map { k in
            GrayImage(width: 28, height: 28, pixels: (0..<784).map { i in
                let x = Float(i % 28) / 28, y = Float(i / 28) / 28
                return sin(Float(k + 1) * x * 3.1) * cos(Float(k % 5 + 1) * y * 2.3) - 0.2 * Float(k % 3)
            })
        }
        try keepForInspection({ try ImageGrid(columns: 8, scale: 3).write(digits, to: $0) }, name: "grid-digits.png")
        try keepForInspection({ try ImageGrid(colormap: .diverging, columns: 8, scale: 4).write(filters, to: $0) },
                              name: "grid-weights.png")
        let small = (0..<32).map { k in GrayImage(width: 3, height: 3, pixels: (0..<9).map { Float(($0 * (k + 3)) % 7) - 3 }) }
        try keepForInspection({ try ImageGrid(colormap: .diverging, columns: 8, scale: 12, padding: 2).write(small, to: $0) },
                              name: "grid-conv3x3.png")
    }
}
