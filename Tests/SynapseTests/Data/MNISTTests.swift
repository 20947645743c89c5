import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct MNISTTests {
    /// Writes a small valid split (`n` images whose pixel (0,0) is `i`, labels `i % 10`) into `dir`.
    func writeSplit(_ dir: TemporaryDirectory, prefix: String, count n: Int, side: Int = 28,
                    labels: [UInt8]? = nil, labelCount: Int? = nil) {
        var pixels = [UInt8](repeating: 0, count: n * side * side)
        for i in 0..<n { pixels[i * side * side] = UInt8(i); pixels[i * side * side + 1] = 255 }
        dir.write("\(prefix)-images-idx3-ubyte", bytes: IDXArray.encode(dimensions: [n, side, side], elements: pixels))
        let labelBytes = labels ?? (0..<(labelCount ?? n)).map { UInt8($0 % 10) }
        dir.write("\(prefix)-labels-idx1-ubyte", bytes: IDXArray.encode(dimensions: [labelBytes.count], elements: labelBytes))
    }

    @Test func loadsUncompressedFilesAndScalesPixels() throws {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 12)
        writeSplit(dir, prefix: "t10k", count: 3)
        let mnist = try MNIST(directory: dir.path)
        #expect(mnist.train.images.shape == [12, 784])
        #expect(mnist.test.count == 3)
        #expect(mnist.train.labels == (0..<12).map { $0 % 10 })
        #expect(abs(mnist.train.images[5, 0] - Float(5) / 255) < 1e-7)
        #expect(mnist.train.images[5, 1] == 1)
        #expect(mnist.train.labelTensor.shape == [12])
        #expect(mnist.train.prefix(4).images.shape == [4, 784])
        #expect(mnist.train.prefix(4).labels == [0, 1, 2, 3])
        let held = mnist.train.slice(10..<12)
        #expect(held.labels == [0, 1] && held.images.shape == [2, 784])
        #expect(abs(held.images[1, 0] - Float(11) / 255) < 1e-7)
    }

    @Test func acceptsDottedFileNames() throws {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "t10k", count: 2)
        try FileManager.default.moveItem(atPath: dir.file("t10k-images-idx3-ubyte"), toPath: dir.file("t10k-images.idx3-ubyte"))
        #expect(try MNIST.load(.test, from: dir.path).count == 2)
    }

    @Test func missingFileSaysWhereItLooked() {
        let dir = TemporaryDirectory()
        #expect {
            try MNIST.load(.train, from: dir.path)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("train-images-idx3-ubyte.gz: file not found")
                && text.contains(dir.file("train-images-idx3-ubyte.gz")) && text.contains(dir.file("train-images-idx3-ubyte"))
        }
    }

    @Test func wrongMagicNamesTheFile() {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 2)
        let path = dir.write("train-labels-idx1-ubyte", bytes: [0x1f, 0x00, 8, 1, 0, 0, 0, 2, 0, 1])
        #expect(throws: DatasetError.badMagic(path: path, found: [0x1f, 0, 8, 1])) { try MNIST.load(.train, from: dir.path) }
    }

    @Test func truncatedImagesNameTheFile() {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 2)
        let full = IDXArray.encode(dimensions: [2, 28, 28], elements: [UInt8](repeating: 0, count: 2 * 784))
        let path = dir.write("train-images-idx3-ubyte", bytes: Array(full.prefix(1000)))
        #expect(throws: DatasetError.truncated(path: path, expectedBytes: full.count, actualBytes: 1000)) {
            try MNIST.load(.train, from: dir.path)
        }
    }

    @Test func labelCountMustMatchImageCount() {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 4, labelCount: 5)
        #expect {
            try MNIST.load(.train, from: dir.path)
        } throws: { error in
            guard case DatasetError.countMismatch(_, 4, let labelsPath, 5) = error else { return false }
            return labelsPath == dir.file("train-labels-idx1-ubyte")
                && "\(error)".contains("5 labels but") && "\(error)".contains("has 4 images")
        }
    }

    @Test func imagesMustBe28By28() {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 2, side: 27)
        #expect(throws: DatasetError.wrongShape(path: dir.file("train-images-idx3-ubyte"),
                                                 expected: "images of 28×28 ([N, 28, 28])", found: [2, 27, 27])) {
            try MNIST.load(.train, from: dir.path)
        }
    }

    @Test func labelsMustBeDigits() {
        let dir = TemporaryDirectory()
        writeSplit(dir, prefix: "train", count: 3, labels: [1, 12, 3])
        #expect(throws: DatasetError.labelOutOfRange(path: dir.file("train-labels-idx1-ubyte"), index: 1, label: 12, classes: 10)) {
            try MNIST.load(.train, from: dir.path)
        }
        #expect("\(DatasetError.labelOutOfRange(path: "l", index: 1, label: 12, classes: 10))" == "l: label 12 at item 1 is outside 0...9")
    }

    @Test func defaultDirectoryFindsTheProjectCopy() throws {
        let directory = try MNIST.defaultDirectory()
        #expect(directory.hasSuffix("datasets/mnist"))
        #expect(MNIST.defaultSearchDirectories(variant: .fashion).contains("/usr/share/datasets/fashion-mnist"))
    }

    @Test func loadsTheRealMNIST() throws {
        let start = Date()
        let mnist = try MNIST(directory: packageRoot + "/datasets/mnist")
        let seconds = Date().timeIntervalSince(start)
        #expect(mnist.train.images.shape == [60000, 784])
        #expect(mnist.test.images.shape == [10000, 784])
        var counts = [Int](repeating: 0, count: 10)
        for label in mnist.train.labels { counts[label] += 1 }
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(mnist.test.labels.prefix(3) == [7, 2, 1])
        let (low, high) = mnist.train.images.withUnsafeBufferPointer { ($0.min()!, $0.max()!) }
        #expect(low == 0 && high == 1)
        print("MNIST train+test load: \(String(format: "%.3f", seconds)) s (debug build)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")))
    func loadsFashionMNISTWhenInstalled() throws {
        let fashion = try MNIST(variant: .fashion)
        #expect(fashion.train.count == 60000 && fashion.test.count == 10000)
        var counts = [Int](repeating: 0, count: 10)
        for label in fashion.train.labels { counts[label] += 1 }
        #expect(counts == [Int](repeating: 6000, count: 10))
        #expect(MNIST.Variant.fashion.classNames[9] == "Ankle boot")
        try keepForInspection({
            try ImageGrid(columns: 10, scale: 2).write(ImageGrid.tiles(from: fashion.test.prefix(30).images, width: 28, height: 28), to: $0)
        }, name: "grid-fashion.png")
    }
}
