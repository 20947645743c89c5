/// The base class of every layer and model: it finds its parameters, buffers and sub-modules by itself.
///
/// Like PyTorch's `nn.Module`, a module is a reference type that owns its state. Stored properties are discovered
/// with `Mirror`, so a custom model needs no registration code:
/// - a stored `Tensor` that `requiresGrad` is a **parameter**; a stored `Tensor` without grad is a **buffer**
///   (saved in `stateDict()` but not trained, e.g. BatchNorm's running mean);
/// - a stored `Module` is a **child** named by its property label; a stored `[Module]` (or array of a subclass) gives
///   children `label.0`, `label.1`, …; a `[Tensor]` gives tensors `label.0`, …; optionals are unwrapped.
///
/// Names are dotted as in PyTorch (`encoder.fc1.weight`, `layers.0.bias`), and they are the checkpoint keys: name the
/// properties as PyTorch does (`weight`, `bias`), and map Swift spellings with `stateKeyOverrides`.
///
/// ```swift
/// final class MLP: Module {
///     let fc1 = Linear(784, 128)
///     let fc2 = Linear(128, 10)
///     override func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
/// }
/// let model = MLP()
/// model.namedParameters().map(\.name)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
/// model.parameterCount                  // 101_770
/// ```
///
/// Do not store a reference to a parent or to the module itself: discovery walks stored properties and would loop.
open class Module {
    /// Whether the module is in training mode (dropout active, batch statistics in BatchNorm). Set with
    /// `train()` / `eval()`, which apply to the whole tree.
    public private(set) var isTraining = true

    public init() {}

    /// The forward pass for modules that map one tensor to one tensor (every layer here, and `Sequential`).
    ///
    /// Subclasses override it; modules with other inputs add their own `callAsFunction` overloads instead.
    open func callAsFunction(_ input: Tensor) -> Tensor {
        preconditionFailure("\(type(of: self)): callAsFunction(_: Tensor) is not implemented by this module")
    }

    /// Maps Swift property labels to state-dict keys where they differ, e.g. `["runningMean": "running_mean"]`.
    open class var stateKeyOverrides: [String: String] { [:] }

    /// Keys of this module's own buffers that PyTorch stores as integers (`num_batches_tracked`): `save(to:)` writes
    /// them as I64 so the file matches PyTorch's dtypes.
    open class var integerStateKeys: Set<String> { [] }

    // MARK: Discovery

    /// The tensors stored directly in this module and its direct children, in declaration order.
    ///
    /// The default reflects over the stored properties (`reflectedMembers()`). Built-in layers override it with the
    /// same answer written out, because reflection costs microseconds per module and `parameters()` and
    /// `zeroGrad()` run every training step; custom modules normally leave it alone.
    open func members() -> ModuleMembers { reflectedMembers() }

    /// The members found by `Mirror`: superclass fields first, `stateKeyOverrides` applied, optionals unwrapped.
    public func reflectedMembers() -> ModuleMembers {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        // Module's own stored properties (the training flag) are not state.
        while let current = mirror, current.subjectType != Module.self {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        let overrides = type(of: self).stateKeyOverrides
        var found = ModuleMembers()
        for current in mirrors.reversed() {
            for case let (label?, rawValue) in current.children {
                var value = rawValue
                if let optional = value as? AnyOptional {
                    guard let wrapped = optional.wrappedAny else { continue }
                    value = wrapped
                }
                let name = overrides[label] ?? label
                if let tensor = value as? Tensor {
                    found.tensors.append((name, tensor))
                } else if let module = value as? Module {
                    found.children.append((name, module))
                } else if let modules = value as? [Module] {
                    for (index, module) in modules.enumerated() { found.children.append(("\(name).\(index)", module)) }
                } else if let list = value as? [Tensor] {
                    for (index, tensor) in list.enumerated() { found.tensors.append(("\(name).\(index)", tensor)) }
                }
            }
        }
        return found
    }

    /// The direct sub-modules with their names ("fc1", "layers.0"; "0", "1", … in a `Sequential`).
    public func namedChildren() -> [(name: String, module: Module)] { members().children }

    /// The direct sub-modules.
    public var children: [Module] { namedChildren().map(\.module) }

    /// This module (named "") and every descendant, depth first, with dotted names.
    public func namedModules() -> [(name: String, module: Module)] {
        var result: [(name: String, module: Module)] = [("", self)]
        for (name, child) in namedChildren() {
            result += child.namedModules().map { (Self.join(name, $0.name), $0.module) }
        }
        return result
    }

    /// Every tensor of the tree (parameters and buffers, duplicates included), in PyTorch's `state_dict` order:
    /// a module's own tensors first, then each child's.
    private func namedTensors() -> [(name: String, tensor: Tensor)] {
        let own = members()
        var result = own.tensors
        for (name, child) in own.children {
            result += child.namedTensors().map { (Self.join(name, $0.name), $0.tensor) }
        }
        return result
    }

    private static func join(_ prefix: String, _ name: String) -> String {
        name.isEmpty ? prefix : prefix + "." + name
    }

    /// Trainable tensors with their dotted names; a parameter shared by two layers (weight tying) appears once.
    public func namedParameters() -> [(name: String, parameter: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        return namedTensors()
            .filter { $0.tensor.requiresGrad && seen.insert($0.tensor.storageIdentifier).inserted }
            .map { ($0.name, $0.tensor) }
    }

    /// Trainable tensors (what an optimizer updates), in `namedParameters()` order.
    public func parameters() -> [Tensor] {
        // The same walk as namedParameters() without building the dotted names: it runs every training step.
        var result: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        func collect(_ module: Module) {
            let own = module.members()
            for (_, tensor) in own.tensors where tensor.requiresGrad && seen.insert(tensor.storageIdentifier).inserted {
                result.append(tensor)
            }
            for (_, child) in own.children { collect(child) }
        }
        collect(self)
        return result
    }

    /// Non-trainable state with dotted names (running statistics and the like).
    public func namedBuffers() -> [(name: String, buffer: Tensor)] {
        namedTensors().filter { !$0.tensor.requiresGrad }.map { ($0.name, $0.tensor) }
    }

    /// Non-trainable state.
    public func buffers() -> [Tensor] { namedBuffers().map(\.buffer) }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    // MARK: Modes and gradients

    /// Switches the whole tree to training mode (or to evaluation mode with `false`).
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for (_, module) in namedModules() { module.isTraining = mode }
        return self
    }

    /// Switches the whole tree to evaluation mode: dropout off, BatchNorm uses its running statistics.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for parameter in parameters() { parameter.zeroGrad() }
    }

    // MARK: State dict

    /// Parameters and buffers by checkpoint key, in the order PyTorch's `state_dict()` lists them.
    public func orderedStateDict() -> [(key: String, tensor: Tensor)] {
        namedTensors().map { ($0.name, $0.tensor) }
    }

    /// Parameters and buffers by checkpoint key (`"0.weight"`, `"bn.running_mean"`, …). The tensors share storage with
    /// the module: detach or copy them if the module will keep training.
    public func stateDict() -> [String: Tensor] {
        Dictionary(orderedStateDict().map { ($0.key, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// Copies the values of `stateDict` into this module's parameters and buffers, in place.
    ///
    /// Nothing is written unless every check passes. With `strict` (the default) the keys must match exactly;
    /// without it, missing and unexpected keys are ignored. Shapes must always match.
    ///
    /// ```swift
    /// let trained = teacher.stateDict()
    /// try student.load(stateDict: trained)        // same architecture: copies every tensor
    /// ```
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws(StateDictError) {
        let own = orderedStateDict()
        let ownKeys = Set(own.map(\.key))
        var error = StateDictError()
        for (key, tensor) in own {
            guard let value = stateDict[key] else {
                error.missingKeys.append(key)
                continue
            }
            if value.shape != tensor.shape {
                error.shapeMismatches.append(.init(key: key, expected: tensor.shape, found: value.shape))
            }
        }
        error.unexpectedKeys = stateDict.keys.filter { !ownKeys.contains($0) }.sorted()
        if !error.shapeMismatches.isEmpty || (strict && !(error.missingKeys.isEmpty && error.unexpectedKeys.isEmpty)) {
            throw error
        }
        for (key, tensor) in own {
            guard let value = stateDict[key] else { continue }
            value.withUnsafeBufferPointer { source in
                tensor.withSharedMutableStorage { destination in
                    if source.count > 0 { destination.baseAddress!.update(from: source.baseAddress!, count: source.count) }
                }
            }
        }
    }
}

/// Why `load(stateDict:strict:)` refused a checkpoint: every missing, unexpected and mis-shaped key, by name.
public struct StateDictError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A key present in both, with different shapes.
    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        /// The shape of the module's tensor.
        public var expected: [Int]
        /// The shape in the checkpoint.
        public var found: [Int]
    }

    /// Keys the module has but the checkpoint lacks.
    public var missingKeys: [String] = []
    /// Keys in the checkpoint that the module does not have.
    public var unexpectedKeys: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    /// The checkpoint file, when the state dict came from one (`load(from:)`).
    public var file: String?

    public var description: String {
        var parts: [String] = []
        if !missingKeys.isEmpty { parts.append("missing keys: \(missingKeys.joined(separator: ", "))") }
        if !unexpectedKeys.isEmpty { parts.append("unexpected keys: \(unexpectedKeys.joined(separator: ", "))") }
        for m in shapeMismatches {
            parts.append("shape mismatch for \(m.key): checkpoint has \(m.found), the model expects \(m.expected)")
        }
        return (file.map { "\($0): " } ?? "load(stateDict:): ") + parts.joined(separator: "; ") +
            " (check that the checkpoint was saved from the same architecture)"
    }
}

/// What a module holds directly: its own tensors (parameters and buffers) and its direct sub-modules, with the names
/// they have in the state dict.
///
/// ```swift
/// override func members() -> ModuleMembers {
///     ModuleMembers(tensors: [("weight", weight)], children: [("norm", norm)])
/// }
/// ```
public struct ModuleMembers {
    public var tensors: [(name: String, tensor: Tensor)]
    public var children: [(name: String, module: Module)]

    public init(tensors: [(name: String, tensor: Tensor)] = [], children: [(name: String, module: Module)] = []) {
        self.tensors = tensors
        self.children = children
    }

    /// `weight`, then `bias` when there is one: the list of most layers, under PyTorch's names.
    public static func weightAndBias(_ weight: Tensor, _ bias: Tensor?) -> ModuleMembers {
        ModuleMembers(tensors: bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)])
    }
}

/// Lets reflection look inside an `Optional` stored in `Any` without a second `Mirror`.
private protocol AnyOptional {
    var wrappedAny: Any? { get }
}

extension Optional: AnyOptional {
    var wrappedAny: Any? {
        guard case .some(let wrapped) = self else { return nil }
        if let inner = wrapped as? AnyOptional { return inner.wrappedAny }
        return wrapped
    }
}
