import Foundation

/// Saving and loading a module's state dict as a safetensors file, key for key compatible with PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)` and `model.load_state_dict(load_file(path))`.
extension Module {
    /// Writes `stateDict()` to `url` as safetensors, atomically (a temporary file, then a rename).
    ///
    /// Values are stored as F32, except the integer buffers PyTorch keeps as int64 (`num_batches_tracked`), which
    /// are stored as I64 so the file has exactly the keys, shapes and dtypes of the PyTorch model's.
    ///
    /// ```swift
    /// try model.save(to: URL(fileURLWithPath: "mlp.safetensors"))
    /// let copy = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    /// try copy.load(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func save(to url: URL, metadata: [String: String] = ["format": "pt"]) throws {
        var integerKeys = Set<String>()
        for (prefix, module) in namedModules() {
            for key in type(of: module).integerStateKeys { integerKeys.insert(prefix.isEmpty ? key : prefix + "." + key) }
        }
        var file = SafeTensorsFile(metadata: metadata)
        for (key, tensor) in orderedStateDict() {
            if integerKeys.contains(key) {
                file.tensors[key] = .init(shape: tensor.shape, values: tensor.scalars.map { Int64($0.rounded()) })
            } else {
                file.setTensor(tensor, named: key)
            }
        }
        try file.write(to: url)
    }

    /// Reads a safetensors file and copies its tensors into this module's parameters and buffers, in place.
    ///
    /// Any stored dtype is converted to Float (PyTorch's F32/F16/BF16 weights and I64 counters alike). Throws
    /// `SafeTensorsError` when the file cannot be read, and `StateDictError` (naming the file and every missing,
    /// unexpected or mis-shaped key) when it does not fit the module; nothing is changed in either case.
    public func load(from url: URL, strict: Bool = true) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        do {
            try load(stateDict: file.floatTensors(), strict: strict)
        } catch var error {
            error.file = url.lastPathComponent
            throw error
        }
    }
}
