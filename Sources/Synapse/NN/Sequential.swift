/// Layers applied one after another, each to the previous one's output.
///
/// Children are named by position only ("0", "1", …), so the state dict of
/// `Sequential(Linear(4, 8), ReLU(), Linear(8, 3))` has exactly the keys of PyTorch's
/// `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))`: `0.weight`, `0.bias`, `2.weight`, `2.bias`.
///
/// ```swift
/// let model = Sequential(Linear(784, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 10))
/// let logits = model(images)            // [N, 784] → [N, 10]
/// model.parameterCount                  // 13_002
/// ```
open class Sequential: Module {
    /// The layers, in the order they are applied.
    public private(set) var layers: [Module]

    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Adds a layer at the end.
    public func append(_ layer: Module) { layers.append(layer) }

    /// The layer at `index`.
    public subscript(index: Int) -> Module { layers[index] }

    /// The number of layers.
    public var count: Int { layers.count }

    open override func members() -> ModuleMembers {
        let indexed = layers.enumerated().map { (name: String($0.offset), module: $0.element) }
        guard type(of: self) != Sequential.self else { return ModuleMembers(children: indexed) }
        // A subclass may add its own state; its layers still go by index only.
        var own = reflectedMembers()
        own.children.removeAll { $0.name.hasPrefix("layers.") }
        own.children = indexed + own.children
        return own
    }

    open override func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        for layer in layers { x = layer(x) }
        return x
    }
}
