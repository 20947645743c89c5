import Foundation

/// The MNIST handwritten digits (or Fashion-MNIST, which uses the same files): 28×28 grey images and labels 0...9.
///
/// Images come as one `Tensor` of shape `[N, 784]` with pixels scaled to `[0, 1]` (white ink on black, as stored);
/// labels as `[Int]`. Files are looked up as `train-images-idx3-ubyte.gz` (or unpacked, or with a `.` before `idx`)
/// in the given directory.
///
/// ```swift
/// let mnist = try MNIST()                       // finds datasets/mnist from here or the package root
/// mnist.train.images.shape                      // [60000, 784]
/// mnist.test.labels[0]                          // 7
/// let fashion = try MNIST(variant: .fashion)    // /usr/share/datasets/fashion-mnist (Debian) or datasets/fashion-mnist
/// ```
public struct MNIST: Sendable {
    /// Which dataset of the MNIST family.
    public enum Variant: String, Sendable, CaseIterable {
        /// Handwritten digits by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0).
        case digits
        /// Zalando's Fashion-MNIST clothing images (MIT licence); same format, sizes and file names.
        case fashion

        /// A human-readable name for each of the 10 classes.
        public var classNames: [String] {
            switch self {
            case .digits: return (0...9).map(String.init)
            case .fashion: return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
            }
        }

        /// The folder name under `datasets/`.
        public var folderName: String { self == .digits ? "mnist" : "fashion-mnist" }

        /// Directories outside the project where a system package installs the files.
        var systemDirectories: [String] {
            self == .digits ? [] : ["/usr/share/datasets/fashion-mnist"]   // Debian: dataset-fashion-mnist
        }
    }

    /// The training or the test half.
    public enum Split: String, Sendable {
        case train, test
        var imageStem: String { self == .train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte" }
        var labelStem: String { self == .train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte" }
    }

    /// One split: images and their labels.
    public struct Samples: Sendable {
        /// `[N, 784]`, row `i` is image `i` in row-major order, pixels in `[0, 1]`.
        public let images: Tensor
        /// The class of each image, `0...9`.
        public let labels: [Int]
        /// The number of samples.
        public var count: Int { labels.count }
        /// The labels as a `[N]` tensor of floats (for losses that take float targets).
        public var labelTensor: Tensor { Tensor(labels.map(Float.init)) }

        public init(images: Tensor, labels: [Int]) {
            precondition(images.rank == 2 && images.shape[0] == labels.count,
                         "MNIST.Samples: images \(images.shape) do not match \(labels.count) labels")
            self.images = images
            self.labels = labels
        }

        /// The first `n` samples (all when there are fewer): quick experiments on a slice of the data.
        public func prefix(_ n: Int) -> Samples { slice(0..<min(max(n, 0), count)) }

        /// The last `count` samples (at most a tenth of them) held out for validation, and the rest for training.
        public func holdingOut(_ count: Int) -> (train: Samples, validation: Samples) {
            let held = Swift.min(Swift.max(count, 0), self.count / 10)
            return (slice(0..<(self.count - held)), slice((self.count - held)..<self.count))
        }

        /// The samples in `range` (copied), e.g. to hold out a validation set:
        /// `let validation = train.slice(55000..<60000)`.
        public func slice(_ range: Range<Int>) -> Samples {
            precondition(range.lowerBound >= 0 && range.upperBound <= count,
                         "MNIST.Samples.slice: range \(range) outside 0..<\(count)")
            let width = images.shape[1]
            let scalars = images.withUnsafeBufferPointer {
                Array(UnsafeBufferPointer(rebasing: $0[(range.lowerBound * width)..<(range.upperBound * width)]))
            }
            return Samples(images: Tensor(shape: [range.count, width], scalars: scalars), labels: Array(labels[range]))
        }
    }

    public static let imageSide = 28
    public static let classCount = 10

    public let variant: Variant
    /// The directory the files were read from.
    public let directory: String
    public let train: Samples
    public let test: Samples

    /// Loads both splits from `directory`, or from the default location when it is `nil`.
    public init(directory: String? = nil, variant: Variant = .digits) throws {
        let directory = try directory ?? MNIST.defaultDirectory(variant: variant)
        self.variant = variant
        self.directory = directory
        self.train = try MNIST.load(.train, from: directory)
        self.test = try MNIST.load(.test, from: directory)
    }

    /// A dataset from samples already in memory (e.g. a subset of another one).
    public init(variant: Variant, directory: String, train: Samples, test: Samples) {
        self.variant = variant
        self.directory = directory
        self.train = train
        self.test = test
    }

    /// Loads one split from `directory`.
    public static func load(_ split: Split, from directory: String) throws -> Samples {
        let imagesPath = try locate(split.imageStem, in: directory)
        let labelsPath = try locate(split.labelStem, in: directory)
        let imageFile = try IDXArray(contentsOfFile: imagesPath)
        let labelFile = try IDXArray(contentsOfFile: labelsPath)

        guard imageFile.dimensions.count == 3, imageFile.dimensions[1] == imageSide, imageFile.dimensions[2] == imageSide else {
            throw DatasetError.wrongShape(path: imagesPath, expected: "images of \(imageSide)×\(imageSide) ([N, 28, 28])",
                                          found: imageFile.dimensions)
        }
        guard labelFile.dimensions.count == 1 else {
            throw DatasetError.wrongShape(path: labelsPath, expected: "a list of labels ([N])", found: labelFile.dimensions)
        }
        let n = imageFile.dimensions[0]
        guard labelFile.dimensions[0] == n else {
            throw DatasetError.countMismatch(imagesPath: imagesPath, images: n, labelsPath: labelsPath,
                                             labels: labelFile.dimensions[0])
        }

        var labels = [Int](repeating: 0, count: n)
        try labelFile.withUnsafeElements { source in
            try labels.withUnsafeMutableBufferPointer { target in
                for i in 0..<n {
                    let label = Int(source[i])
                    if label >= classCount {
                        throw DatasetError.labelOutOfRange(path: labelsPath, index: i, label: label, classes: classCount)
                    }
                    target[i] = label
                }
            }
        }

        let pixels = imageSide * imageSide
        var images = Tensor(uninitializedShape: [n, pixels])
        imageFile.withUnsafeElements { source in
            images.withUnsafeMutableBufferPointer { target in
                guard let s = source.baseAddress, let t = target.baseAddress else { return }
                let scale: Float = 1 / 255
                for i in 0..<(n * pixels) { t[i] = Float(s[i]) * scale }
            }
        }
        return Samples(images: images, labels: labels)
    }

    /// Candidate file names for a stem, in the order they are tried.
    static func candidateNames(_ stem: String) -> [String] {
        // "train-images.idx3-ubyte" is how several mirrors spell the unpacked files.
        let dotted = stem.replacingOccurrences(of: "-idx", with: ".idx")
        return [stem + ".gz", stem, dotted + ".gz", dotted]
    }

    static func locate(_ stem: String, in directory: String) throws -> String {
        let candidates = candidateNames(stem).map { (directory as NSString).appendingPathComponent($0) }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw DatasetError.missingFile(name: stem + ".gz", searched: candidates)
    }

    /// Every directory the default lookup tries, in order: `datasets/<folder>` under the current directory and its
    /// parents (so it works from the package root and from inside it), under the package this library was built from,
    /// then system locations (Fashion-MNIST from Debian's `dataset-fashion-mnist`).
    public static func defaultSearchDirectories(variant: Variant = .digits) -> [String] {
        var result: [String] = []
        let relative = "datasets/" + variant.folderName
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            result.append(directory.appendingPathComponent(relative).path)
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        // This file is Sources/Synapse/Data/MNIST.swift: four levels below the package root.
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        result.append(packageRoot.appendingPathComponent(relative).path)
        result += variant.systemDirectories
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }

    /// The first default directory that holds the training images; throws `missingFile` listing where it looked.
    public static func defaultDirectory(variant: Variant = .digits) throws -> String {
        let directories = defaultSearchDirectories(variant: variant)
        for directory in directories {
            if (try? locate(Split.train.imageStem, in: directory)) != nil { return directory }
        }
        throw DatasetError.missingFile(name: "\(variant.folderName)/\(Split.train.imageStem).gz", searched: directories)
    }
}
