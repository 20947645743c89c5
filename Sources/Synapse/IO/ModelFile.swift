/// What Synapse's model files share (`ClassifierFile`, `AutoencoderFile`, `LanguageModelFile`, `PolicyFile`): a
/// safetensors file with PyTorch-style keys, the metadata keys every one carries, and a strict load whose errors
/// name the file.
enum ModelFile {
    /// `extra` plus "format": "pt" (what `safetensors.torch` writes) and the Synapse version that wrote the file.
    static func metadata(_ extra: [String: String]) -> [String: String] {
        var metadata = extra
        metadata["format"] = "pt"
        metadata["synapse.version"] = Synapse.version
        return metadata
    }

    /// Loads every tensor of `file` into `model` (no key missing, none left over, every shape equal), names `name`
    /// in any error, and switches the model to evaluation mode.
    static func loadWeights(of file: SafeTensorsFile, into model: Module, name: String) throws {
        do {
            try model.load(stateDict: file.floatTensors(), strict: true)
        } catch var error {
            error.file = name
            throw error
        }
        model.eval()
    }
}
