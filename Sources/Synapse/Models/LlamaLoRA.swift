import Foundation

/// The seven projections of a Llama block that LoRA can adapt, with their names in GGUF files and in PEFT.
public enum LlamaProjection: String, CaseIterable, Sendable, Comparable {
    case query = "q", key = "k", value = "v", output = "o", gate, up, down

    /// PEFT's and Hugging Face's module name (`q_proj`, …, `down_proj`).
    public var peftName: String { "\(rawValue)_proj" }

    /// The module's path inside a Hugging Face Llama layer.
    public var peftPath: String {
        switch self {
        case .query, .key, .value, .output: "self_attn." + peftName
        case .gate, .up, .down: "mlp." + peftName
        }
    }

    /// The weight's name in a GGUF file, after `blk.N.`.
    public var ggufName: String {
        switch self {
        case .query: "attn_q"
        case .key: "attn_k"
        case .value: "attn_v"
        case .output: "attn_output"
        case .gate: "ffn_gate"
        case .up: "ffn_up"
        case .down: "ffn_down"
        }
    }

    /// [out, in] of this projection's weight.
    public func shape(in c: LlamaConfiguration) -> [Int] {
        switch self {
        case .query, .output: [c.embedding, c.embedding]
        case .key, .value: [c.keyValueWidth, c.embedding]
        case .gate, .up: [c.feedForward, c.embedding]
        case .down: [c.embedding, c.feedForward]
        }
    }

    /// Reads a list such as `q,v`, `q_proj,v_proj` or `all`.
    public static func parseList(_ text: String) -> Set<LlamaProjection>? {
        if text == "all" { return Set(allCases) }
        var result = Set<LlamaProjection>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let kind = allCases.first(where: { $0.rawValue == name || $0.peftName == name || $0.ggufName == name }) else {
                return nil
            }
            result.insert(kind)
        }
        return result.isEmpty ? nil : result
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a set of LoRA adapters for a Llama model is: rank, α, dropout and which projections of every layer.
public struct LoRAConfiguration: Equatable, Sendable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    public var targets: Set<LlamaProjection>

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: Set<LlamaProjection> = [.query, .value]) {
        (self.rank, self.alpha, self.dropout, self.targets) = (rank, alpha, dropout, targets)
    }

    /// α/r.
    public var scale: Float { alpha / Float(rank) }
}

/// The LoRA adapters of a Llama model: one `LoRAAdapter` for each chosen projection of every layer, named as PEFT
/// names them inside its `base_model.model` (`model.layers.3.self_attn.q_proj.lora_A.weight`), so `stateDict()` is
/// the content of PEFT's `adapter_model.safetensors` without its fixed prefix (`LoRAAdapterFile`).
///
/// Matrices follow the GGUF file's layout: GGUF stores q and k with the rows of each head reordered for ggml's RoPE,
/// so B of a q or k adapter has its rows in that order here; `LoRAAdapterFile` converts to and from PEFT's.
public final class LlamaLoRA: Module {
    public let configuration: LoRAConfiguration
    /// layers × projections.
    public let adapters: [[LlamaProjection: LoRAAdapter]]
    /// The same adapters in layer and projection order (what reflection sees; `members()` names them).
    private let ordered: [LoRAAdapter]

    /// Fresh adapters for a model of shape `model`, drawn from `generator` layer by layer in projection order.
    public init(_ configuration: LoRAConfiguration, model: LlamaConfiguration, generator: inout RandomGenerator) {
        precondition(configuration.rank > 0 && !configuration.targets.isEmpty,
                     "LlamaLoRA: rank \(configuration.rank) and targets \(configuration.targets) must not be empty")
        self.configuration = configuration
        var layers: [[LlamaProjection: LoRAAdapter]] = []
        for _ in 0..<model.layers {
            var layer: [LlamaProjection: LoRAAdapter] = [:]
            for kind in configuration.targets.sorted() {
                let shape = kind.shape(in: model)
                layer[kind] = LoRAAdapter(inputFeatures: shape[1], outputFeatures: shape[0], rank: configuration.rank,
                                          alpha: configuration.alpha, dropout: configuration.dropout, generator: &generator)
            }
            layers.append(layer)
        }
        adapters = layers
        ordered = Self.flatten(layers)
        super.init()
    }

    private static func flatten(_ layers: [[LlamaProjection: LoRAAdapter]]) -> [LoRAAdapter] {
        layers.flatMap { layer in layer.keys.sorted().map { layer[$0]! } }
    }

    /// Adapters read from a file.
    public init(_ configuration: LoRAConfiguration, adapters: [[LlamaProjection: LoRAAdapter]]) {
        (self.configuration, self.adapters, ordered) = (configuration, adapters, Self.flatten(adapters))
        super.init()
    }

    /// `model.layers.N.self_attn.q_proj`, …: the PEFT module path of layer `layer`'s projection `kind`.
    public static func modulePath(layer: Int, _ kind: LlamaProjection) -> String { "model.layers.\(layer).\(kind.peftPath)" }

    public override func members() -> ModuleMembers {
        var children: [(name: String, module: Module)] = []
        for (l, layer) in adapters.enumerated() {
            for kind in layer.keys.sorted() { children.append((Self.modulePath(layer: l, kind), layer[kind]!)) }
        }
        return ModuleMembers(children: children)
    }

    /// The adapter of layer `layer`'s projection `kind`, if it has one.
    public func adapter(layer: Int, _ kind: LlamaProjection) -> LoRAAdapter? {
        layer < adapters.count ? adapters[layer][kind] : nil
    }
}
