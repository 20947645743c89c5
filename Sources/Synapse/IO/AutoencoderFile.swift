import Foundation

/// A trained autoencoder on disk: a safetensors file whose metadata gives the layer widths, the noise level it was
/// trained with, and the out-of-distribution threshold taken from its reconstruction errors on the training set.
///
/// ```swift
/// try AutoencoderFile.save(model, dataset: .digits, threshold: 0.021, to: url)
/// let (model, info) = try AutoencoderFile.load(from: url)
/// info.threshold            // a reconstruction error above it looks out of distribution
/// ```
public enum AutoencoderFile {
    public static let architectureName = "autoencoder"
    public static let sizesKey = "synapse.autoencoder.sizes"
    public static let kindKey = "synapse.autoencoder.kind"
    public static let noiseKey = "synapse.autoencoder.noise"
    public static let thresholdKey = "synapse.autoencoder.threshold"
    public static let thresholdQuantileKey = "synapse.autoencoder.threshold_quantile"

    /// What an autoencoder file says about itself.
    public struct Info: Sendable {
        public var kind: Autoencoder.Kind
        public var sizes: [Int]
        public var noise: Float
        public var dataset: MNIST.Variant
        /// The reconstruction error (per-pixel MSE) above which an input is flagged; `nil` if the file has none.
        public var threshold: Float?
        public var metadata: [String: String]
    }

    /// Why a file is not an autoencoder Synapse can rebuild.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case notAnAutoencoder(file: String, architecture: String?)
        case badMetadata(file: String, key: String, value: String)

        public var description: String {
            switch self {
            case let .notAnAutoencoder(file, architecture):
                return "\(file): not an autoencoder (architecture '\(architecture ?? "none")'); train one with `synapse train autoencoder`"
            case let .badMetadata(file, key, value):
                return "\(file): metadata '\(key)' has an unusable value '\(value)'"
            }
        }
    }

    /// Writes the model with its widths, noise level, dataset and threshold in the metadata (atomically).
    public static func save(_ model: Autoencoder, dataset: MNIST.Variant, threshold: Float?,
                            extraMetadata: [String: String] = [:], to url: URL) throws {
        var metadata = ModelFile.metadata(extraMetadata)
        metadata[ClassifierFile.architectureKey] = architectureName
        metadata[ClassifierFile.datasetKey] = dataset.rawValue
        metadata[kindKey] = model.kind.rawValue
        metadata[sizesKey] = model.sizes.map(String.init).joined(separator: ",")
        metadata[noiseKey] = String(model.noiseLevel)
        if let threshold { metadata[thresholdKey] = String(threshold) }
        try model.save(to: url, metadata: metadata)
    }

    /// Reads the metadata only.
    public static func info(of file: SafeTensorsFile, name: String) throws -> Info {
        let metadata = file.metadata
        guard metadata[ClassifierFile.architectureKey] == architectureName else {
            throw Error.notAnAutoencoder(file: name, architecture: metadata[ClassifierFile.architectureKey])
        }
        let kindText = metadata[kindKey] ?? Autoencoder.Kind.dense.rawValue
        guard let kind = Autoencoder.Kind(rawValue: kindText) else {
            throw Error.badMetadata(file: name, key: kindKey, value: kindText)
        }
        let sizesText = metadata[sizesKey] ?? ""
        let sizes = sizesText.split(separator: ",").compactMap { Int($0) }
        guard sizes.count >= 2, sizes.count == sizesText.split(separator: ",").count, sizes.allSatisfy({ $0 > 0 }) else {
            throw Error.badMetadata(file: name, key: sizesKey, value: sizesText)
        }
        let noiseText = metadata[noiseKey] ?? "0"
        guard let noise = Float(noiseText), noise >= 0, noise.isFinite else {
            throw Error.badMetadata(file: name, key: noiseKey, value: noiseText)
        }
        var threshold: Float?
        if let text = metadata[thresholdKey] {
            guard let value = Float(text), value.isFinite, value >= 0 else {
                throw Error.badMetadata(file: name, key: thresholdKey, value: text)
            }
            threshold = value
        }
        let datasetName = metadata[ClassifierFile.datasetKey] ?? MNIST.Variant.digits.rawValue
        guard let dataset = MNIST.Variant(rawValue: datasetName) else {
            throw ClassifierFile.Error.unknownDataset(file: name, name: datasetName)
        }
        return Info(kind: kind, sizes: sizes, noise: noise, dataset: dataset, threshold: threshold, metadata: metadata)
    }

    /// Rebuilds the autoencoder the file describes and loads its weights (in evaluation mode).
    public static func load(from url: URL) throws -> (model: Autoencoder, info: Info) {
        let file = try SafeTensorsFile(contentsOf: url)
        let info = try info(of: file, name: url.lastPathComponent)
        // The widths in the metadata against the weights stored, before the model is allocated from them: a dense
        // autoencoder holds every s_i × s_(i+1) weight twice (encoder and decoder).
        if info.kind == .dense {
            let stored = file.tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
            var implied = 0
            for (a, b) in zip(info.sizes, info.sizes.dropFirst()) {
                let (product, overflow) = a.multipliedReportingOverflow(by: b)
                if overflow || product > stored { implied = Int.max; break }
                implied += 2 * product                         // each term ≤ 2·stored: no overflow
            }
            guard implied <= stored else {
                throw Error.badMetadata(file: url.lastPathComponent, key: sizesKey,
                                        value: info.sizes.map(String.init).joined(separator: ",") + " (more weights than the file's \(stored) values)")
            }
        }
        var rng = RandomGenerator(seed: 0)
        let model = info.kind == .convolutional
            ? Autoencoder(convolutionalWithNoise: info.noise, generator: &rng)
            : Autoencoder(sizes: info.sizes, noise: info.noise, generator: &rng)
        try ModelFile.loadWeights(of: file, into: model, name: url.lastPathComponent)
        return (model, info)
    }
}
