import Foundation

/// Why a LoRA adapter cannot be read or does not fit a model; each names the file and what to do.
public struct LoRAAdapterError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
    public var description: String { "\(path): \(reason)" }
}

/// LoRA adapters on disk in Hugging Face PEFT's layout, so adapters move between Synapse and PEFT both ways: a
/// folder with
///
/// - `adapter_model.safetensors`: `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` ([r, in]) and
///   `….lora_B.weight` ([out, r]) for every adapted projection, Float32;
/// - `adapter_config.json`: `peft_type` "LORA", `r`, `lora_alpha`, `lora_dropout`, `target_modules`, …
///
/// which `PeftModel.from_pretrained(base, folder)` loads onto the Hugging Face model the GGUF file was made from.
///
/// GGUF files store the rows of q and k reordered for ggml's RoPE (llama.cpp's converter pairs element i of a head
/// with element i + D/2 by moving it next to it); B of a q or k adapter is converted between that order and
/// Hugging Face's on the way out and in. A and the other projections need nothing.
///
/// ```swift
/// try LoRAAdapterFile.save(lora, model: configuration, to: URL(fileURLWithPath: "runs/lora"))
/// let again = try LoRAAdapterFile.load(URL(fileURLWithPath: "runs/lora"), model: configuration)
/// ```
public enum LoRAAdapterFile {
    public static let weightsName = "adapter_model.safetensors"
    public static let configurationName = "adapter_config.json"
    static let keyPrefix = "base_model.model."
    /// Larger adapter files are refused before reading (a rank-64 adapter on every projection of an 8B model is ~700 MB).
    static let maximumBytes = 4 << 30

    /// Writes both files into `directory` (created if needed), each atomically. `baseModel` goes into the config's
    /// `base_model_name_or_path`.
    public static func save(_ lora: LlamaLoRA, model: LlamaConfiguration, to directory: URL, baseModel: String? = nil) throws {
        try AtomicFile.checkWritable(directory: directory)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in lora.stateDict() {
            tensors[keyPrefix + name] = toPEFT(tensor, name: name, model: model)
        }
        try SafeTensorsFile(floatTensors: tensors, metadata: ["format": "pt"])
            .write(to: directory.appendingPathComponent(weightsName))
        try AtomicFile.write(text: configurationJSON(lora.configuration, baseModel: baseModel),
                             to: directory.appendingPathComponent(configurationName))
    }

    /// The `adapter_config.json` text PEFT reads.
    static func configurationJSON(_ c: LoRAConfiguration, baseModel: String?) -> String {
        let targets = c.targets.sorted().map { "\"\($0.peftName)\"" }.joined(separator: ", ")
        let base = baseModel.map { JSONValue.escaped($0) } ?? "null"
        return """
        {
          "peft_type": "LORA",
          "task_type": "CAUSAL_LM",
          "base_model_name_or_path": \(base),
          "r": \(c.rank),
          "lora_alpha": \(formatNumber(c.alpha)),
          "lora_dropout": \(formatNumber(c.dropout)),
          "target_modules": [\(targets)],
          "bias": "none",
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": true,
          "use_rslora": false,
          "use_dora": false,
          "modules_to_save": null,
          "layers_to_transform": null,
          "rank_pattern": {},
          "alpha_pattern": {}
        }

        """
    }

    private static func formatNumber(_ x: Float) -> String {
        x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(x)
    }

    /// Reads a PEFT adapter (its folder, or its `adapter_model.safetensors` with the config beside it) and checks it
    /// against a model of shape `model`: every key, shape, rank and value, before anything is built.
    public static func load(_ url: URL, model: LlamaConfiguration) throws(LoRAAdapterError) -> LlamaLoRA {
        let (weightsURL, configURL) = locate(url)
        var configuration = try readConfiguration(configURL)
        let size = (try? FileManager.default.attributesOfItem(atPath: weightsURL.path)[.size] as? Int) ?? nil
        guard let size else {
            throw LoRAAdapterError(path: weightsURL.path, reason: "cannot be read; a PEFT adapter folder holds \(weightsName) and \(configurationName)")
        }
        guard size <= maximumBytes else {
            throw LoRAAdapterError(path: weightsURL.path, reason: "is \(size) bytes, more than the \(maximumBytes >> 30) GiB an adapter may take")
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: weightsURL) } catch {
            throw LoRAAdapterError(path: weightsURL.path, reason: "not a readable safetensors file: \(error)")
        }
        let (adapters, targets) = try adapters(in: file, configuration: configuration, model: model, path: weightsURL.path)
        configuration.targets = targets
        return LlamaLoRA(configuration, adapters: adapters)
    }

    private static func locate(_ url: URL) -> (weights: URL, config: URL) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (url.appendingPathComponent(weightsName), url.appendingPathComponent(configurationName))
        }
        return (url, url.deletingLastPathComponent().appendingPathComponent(configurationName))
    }

    /// r, α, dropout and the targets from `adapter_config.json`; variants Synapse does not compute are refused.
    static func readConfiguration(_ url: URL) throws(LoRAAdapterError) -> LoRAConfiguration {
        let fail = { (reason: String) in LoRAAdapterError(path: url.path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw fail("cannot be read; a PEFT adapter folder holds \(weightsName) and \(configurationName)")
        }
        guard data.count <= 1 << 20 else { throw fail("is \(data.count) bytes; an adapter configuration is a few hundred") }
        let value: JSONValue
        do { value = try StrictJSON.parse(Array(data)) } catch { throw fail("not valid JSON: \(error.reason) at byte \(error.offset)") }
        guard case .object(let object) = value else { throw fail("holds \(value.kindName), not a JSON object") }
        func number(_ key: String, required: Bool = true) throws(LoRAAdapterError) -> Double? {
            guard let member = object[key], member != .null else {
                if required { throw fail("has no \"\(key)\"") }
                return nil
            }
            guard case .number(let text) = member, let x = Double(text), x.isFinite else { throw fail("\"\(key)\" is not a number") }
            return x
        }
        if let type = object["peft_type"], type != .string("LORA") { throw fail("is not a LoRA adapter (peft_type \(type))") }
        for flag in ["use_dora", "use_rslora", "fan_in_fan_out"] where object[flag] == .bool(true) {
            throw fail("uses \(flag), which Synapse does not compute; train the adapter without it")
        }
        for pattern in ["rank_pattern", "alpha_pattern"] {
            if case .object(let o)? = object[pattern], o.count > 0 { throw fail("gives per-module ranks or alphas (\(pattern)), which Synapse does not support") }
        }
        if let bias = object["bias"], bias != .string("none"), bias != .null { throw fail("trains biases (bias \(bias)); only bias \"none\" is supported") }
        let rank = try number("r")!, alpha = try number("lora_alpha")!
        guard rank >= 1, rank <= 4096, rank == rank.rounded() else { throw fail("r \(rank) is not a whole number in 1...4096") }
        guard alpha.magnitude <= 1e6 else { throw fail("lora_alpha \(alpha) is out of range") }
        let dropout = try number("lora_dropout", required: false) ?? 0
        guard (0..<1).contains(dropout) else { throw fail("lora_dropout \(dropout) is not in [0, 1)") }
        return LoRAConfiguration(rank: Int(rank), alpha: Float(alpha), dropout: Float(dropout), targets: [])
    }

    /// The adapters the file holds, every key and shape checked against `model` and the configuration's rank.
    private static func adapters(in file: SafeTensorsFile, configuration: LoRAConfiguration, model: LlamaConfiguration,
                                 path: String) throws(LoRAAdapterError) -> ([[LlamaProjection: LoRAAdapter]], Set<LlamaProjection>) {
        let fail = { (reason: String) in LoRAAdapterError(path: path, reason: reason) }
        var pairs: [String: (a: Tensor?, b: Tensor?)] = [:]
        for name in file.names {
            guard name.hasPrefix(keyPrefix + "model.layers."), name.hasSuffix(".lora_A.weight") || name.hasSuffix(".lora_B.weight") else {
                throw fail("holds \"\(name)\", which is not a LoRA weight of a Llama layer")
            }
            let module = String(name.dropFirst(keyPrefix.count).dropLast(".lora_A.weight".count))
            let tensor = file.tensors[name]!.floatTensor()
            guard tensor.scalars.allSatisfy(\.isFinite) else { throw fail("\"\(name)\" holds NaN or infinite values") }
            if name.hasSuffix(".lora_A.weight") { pairs[module, default: (nil, nil)].a = tensor } else { pairs[module, default: (nil, nil)].b = tensor }
        }
        guard !pairs.isEmpty else { throw fail("holds no LoRA weights") }
        var layers = [[LlamaProjection: LoRAAdapter]](repeating: [:], count: model.layers)
        var targets = Set<LlamaProjection>()
        // In name order, so that the first problem reported is the same on every run (a Dictionary's order is not).
        for (module, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            guard let (layer, kind) = parseModule(module), layer < model.layers else {
                throw fail("\"\(module)\" is not a projection of a layer of this \(model.layers)-layer model")
            }
            guard let a = pair.a, let b = pair.b else {
                let (present, missing) = pair.a == nil ? ("B", "A") : ("A", "B")
                throw fail("\"\(module)\" has lora_\(present) but no lora_\(missing)")
            }
            let shape = kind.shape(in: model), r = configuration.rank
            guard a.shape == [r, shape[1]], b.shape == [shape[0], r] else {
                throw fail("\"\(module)\" has A \(a.shape) and B \(b.shape); this model with r \(r) needs [\(r), \(shape[1])] and [\(shape[0]), \(r)]")
            }
            layers[layer][kind] = LoRAAdapter(a: a, b: fromPEFT(b, kind: kind, model: model), alpha: configuration.alpha)
            targets.insert(kind)
        }
        return (layers, targets)
    }

    /// (layer, projection) of `model.layers.N.self_attn.q_proj`.
    private static func parseModule(_ module: String) -> (Int, LlamaProjection)? {
        let parts = module.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]), layer >= 0,
              let kind = LlamaProjection.allCases.first(where: { $0.peftPath == "\(parts[3]).\(parts[4])" }) else { return nil }
        return (layer, kind)
    }

    /// Our state-dict tensor (GGUF row order) in PEFT's layout.
    private static func toPEFT(_ tensor: Tensor, name: String, model: LlamaConfiguration) -> Tensor {
        guard name.hasSuffix(".lora_B.weight") else { return tensor }
        if name.contains(".self_attn.q_proj.") || name.contains(".self_attn.k_proj.") {
            return reorderRows(tensor, headDim: model.headDim, toGGUF: false)
        }
        return tensor
    }

    private static func fromPEFT(_ b: Tensor, kind: LlamaProjection, model: LlamaConfiguration) -> Tensor {
        kind == .query || kind == .key ? reorderRows(b, headDim: model.headDim, toGGUF: true) : b
    }

    /// Within each head of `headDim` rows, Hugging Face's row j·D/2 + i (half j, pair i) is GGUF's row 2i + j.
    static func reorderRows(_ matrix: Tensor, headDim d: Int, toGGUF: Bool) -> Tensor {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        precondition(rows % d == 0 && d % 2 == 0, "LoRAAdapterFile.reorderRows: \(rows) rows are not heads of \(d)")
        let out = Tensor(uninitializedShape: matrix.shape)
        for r in 0..<rows {
            let (head, within) = (r / d, r % d)
            let gguf = head * d + 2 * (within % (d / 2)) + within / (d / 2)     // r read as a Hugging Face row
            let (from, to) = toGGUF ? (r, gguf) : (gguf, r)
            (out.storage.pointer + to * columns).update(from: matrix.storage.pointer + from * columns, count: columns)
        }
        return out
    }
}
