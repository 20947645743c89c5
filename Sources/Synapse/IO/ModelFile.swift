/// What Synapse's model files share (`ClassifierFile`, `AutoencoderFile`, `LanguageModelFile`, `PolicyFile`): a
/// safetensors file with PyTorch-style keys, the metadata keys every one carries, and a strict load whose errors
/// name the file.
public enum ModelFile {
    /// `extra` plus "format": "pt" (what `safetensors.torch` writes) and the Synapse version that wrote the file.
    static func metadata(_ extra: [String: String]) -> [String: String] {
        var metadata = extra
        metadata["format"] = "pt"
        metadata["synapse.version"] = Synapse.version
        return metadata
    }

    /// Loads every tensor of `file` into `model` (no key missing, none left over, every shape equal), names `name`
    /// in any error, and switches the model to evaluation mode. A tensor holding NaN or infinity is refused first:
    /// such a model would answer NaN to everything.
    static func loadWeights(of file: SafeTensorsFile, into model: Module, name: String) throws {
        let tensors = file.floatTensors()
        try requireFinite(tensors, file: name)
        do {
            try model.load(stateDict: tensors, strict: true)
        } catch var error {
            error.file = name
            throw error
        }
        model.eval()
    }

    /// Throws for the first tensor (in name order) holding NaN or infinity, with how many such values it has.
    public static func requireFinite(_ tensors: [String: Tensor], file name: String) throws(Error) {
        for key in tensors.keys.sorted() {
            let bad = tensors[key]!.withUnsafeBufferPointer { values in values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
            if bad > 0 { throw Error.nonFiniteWeights(file: name, tensor: key, count: bad) }
        }
    }

    /// The same for every floating-point tensor of a file (integer tensors, such as int8 codes, are always finite).
    static func requireFinite(_ file: SafeTensorsFile, name: String) throws(Error) {
        let floating = file.tensors.filter { $0.value.dtype.isFloatingPoint }.mapValues { $0.floatTensor() }
        try requireFinite(floating, file: name)
    }

    /// Why a model file's weights cannot be used.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case nonFiniteWeights(file: String, tensor: String, count: Int)

        public var description: String {
            switch self {
            case let .nonFiniteWeights(file, tensor, count):
                return "\(file): tensor '\(tensor)' holds \(count) NaN or infinite value\(count == 1 ? "" : "s"); the model diverged when it was trained or the file is damaged"
            }
        }
    }
}
