import Foundation

/// A trained MNIST-style classifier on disk: a safetensors file whose metadata names the architecture and the
/// dataset, so `synapse eval` and `synapse predict` rebuild the model without being told what it is.
///
/// The tensors have PyTorch's `nn.Sequential` keys (`0.weight`, `0.bias`, …), so the same file loads into PyTorch.
///
/// ```swift
/// try ClassifierFile.save(model, architecture: .mlp, dataset: .digits, to: url)
/// let (model, info) = try ClassifierFile.load(from: url)
/// ```
public enum ClassifierFile {
    public static let architectureKey = "synapse.architecture"
    public static let datasetKey = "synapse.dataset"

    /// What a classifier file says about itself.
    public struct Info: Sendable {
        public var architecture: MNISTArchitecture
        public var dataset: MNIST.Variant
        public var metadata: [String: String]
        public var classNames: [String] { dataset.classNames }
    }

    /// Why a file is not a classifier Synapse can rebuild.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case missingMetadata(file: String, key: String)
        case unknownArchitecture(file: String, name: String)
        case unknownDataset(file: String, name: String)

        public var description: String {
            switch self {
            case let .missingMetadata(file, key):
                return "\(file): no '\(key)' in the metadata; it was not saved by `synapse train` (use Module.load(from:) with the right architecture)"
            case let .unknownArchitecture(file, name):
                return "\(file): unknown architecture '\(name)' (known: \(MNISTArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))"
            case let .unknownDataset(file, name):
                return "\(file): unknown dataset '\(name)' (known: \(MNIST.Variant.allCases.map(\.rawValue).joined(separator: ", ")))"
            }
        }
    }

    /// Writes the model's state dict with the architecture and dataset in the metadata (atomically).
    public static func save(_ model: Module, architecture: MNISTArchitecture, dataset: MNIST.Variant,
                            extraMetadata: [String: String] = [:], to url: URL) throws {
        try model.save(to: url, metadata: metadata(architecture: architecture, dataset: dataset, extra: extraMetadata))
    }

    /// Writes a quantized model (`PostTrainingQuantization`, `QATLinear.convert`) with the same metadata plus the
    /// quantization keys of `QuantizedModelFile` (atomically). `load(from:)` reads it back.
    public static func save(_ quantized: QuantizedModel, architecture: MNISTArchitecture, dataset: MNIST.Variant,
                            extraMetadata: [String: String] = [:], to url: URL) throws {
        try quantized.file(metadata: metadata(architecture: architecture, dataset: dataset, extra: extraMetadata)).write(to: url)
    }

    private static func metadata(architecture: MNISTArchitecture, dataset: MNIST.Variant,
                                 extra: [String: String]) -> [String: String] {
        var metadata = ModelFile.metadata(extra)
        metadata[architectureKey] = architecture.rawValue
        metadata[datasetKey] = dataset.rawValue
        return metadata
    }

    /// Reads the metadata only.
    public static func info(of file: SafeTensorsFile, name: String) throws -> Info {
        guard let architectureName = file.metadata[architectureKey] else {
            throw Error.missingMetadata(file: name, key: architectureKey)
        }
        guard let architecture = MNISTArchitecture(rawValue: architectureName) else {
            throw Error.unknownArchitecture(file: name, name: architectureName)
        }
        let datasetName = file.metadata[datasetKey] ?? MNIST.Variant.digits.rawValue
        guard let dataset = MNIST.Variant(rawValue: datasetName) else {
            throw Error.unknownDataset(file: name, name: datasetName)
        }
        return Info(architecture: architecture, dataset: dataset, metadata: file.metadata)
    }

    /// Rebuilds the model the file describes and loads its weights: Float32, FP16 or BF16 weights into the Float32
    /// architecture, int8 files (see `QuantizedModelFile`) into `QuantizedLinear` layers.
    public static func load(from url: URL) throws -> (model: Sequential, info: Info) {
        let file = try SafeTensorsFile(contentsOf: url)
        let info = try info(of: file, name: url.lastPathComponent)
        var rng = RandomGenerator(seed: 0)
        let model = info.architecture.makeModel(generator: &rng)
        if QuantizedModelFile.isInt8(file) {
            // int8 files (`synapse quantize`, `train --qat int8`) rebuild QuantizedLinear layers; FP16/BF16 files
            // load below like Float32 ones, widened exactly.
            return (try QuantizedModelFile.model(from: file, template: model), info)
        }
        try ModelFile.loadWeights(of: file, into: model, name: url.lastPathComponent)
        return (model, info)
    }
}
