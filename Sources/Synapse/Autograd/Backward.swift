/// Reverse-mode differentiation: the chain rule applied in reverse topological order.
extension Tensor {
    /// Whether gradients flow to this tensor. Setting it on a tensor makes it a leaf that accumulates `grad`.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil { node = AutogradNode(leafWithShape: shape) }
            } else {
                node = nil
            }
        }
    }

    /// A copy that requires grad (a fresh leaf): `let w = Tensor.randn([3, 3]).requiringGrad()`.
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        var copy = self
        copy.node = flag ? AutogradNode(leafWithShape: shape) : nil
        return copy
    }

    /// Whether this tensor is a leaf of the graph (it was not produced by a recorded op).
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The name of the op that produced this tensor, or "leaf".
    public var gradientOp: String? { node?.op }

    /// The gradient accumulated by `backward()` (leaves only), `nil` before the first backward.
    public var grad: Tensor? {
        get { node?.grad }
        nonmutating set {
            precondition(node != nil || newValue == nil, "grad: tensor of shape \(shape) does not require grad")
            if let newValue {
                precondition(newValue.shape == shape, "grad: gradient of shape \(newValue.shape) for tensor of shape \(shape)")
            }
            node?.grad = newValue
        }
    }

    /// Clears the accumulated gradient (`zero_grad(set_to_none=True)`).
    public func zeroGrad() { node?.grad = nil }

    /// The same values, cut from the graph: no gradient flows through the result.
    public func detached() -> Tensor {
        var copy = self
        copy.node = nil
        return copy
    }

    /// Back-propagates from this tensor: `gradient` is ∂L/∂self (defaults to 1 for a one-element tensor).
    ///
    /// The walk is iterative (no recursion limit on deep graphs). Each node receives the sum of the gradients of all
    /// its uses (a tensor used twice gets both contributions); leaves add the result into `grad`.
    public func backward(_ gradient: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: tensor of shape \(shape) does not require grad (set requiresGrad on an input)")
        }
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape,
                         "backward: gradient of shape \(gradient.shape) for a tensor of shape \(shape)")
            seed = gradient.detached()
        } else {
            precondition(count == 1, "backward: tensor of shape \(shape) is not a scalar; pass the upstream gradient")
            seed = Tensor.ones(shape)
        }
        let sink = LeafGradientHook.sink
        // Someone waiting for leaves to finish (distributed training starts reducing a bucket of gradients as soon
        // as all of them are complete): count each leaf's uses, and tell when the last one has been processed.
        // Not while a sink collects shards' partial sums: those are complete only after every shard has run.
        let observer = sink == nil ? LeafGradientHook.completion : nil
        noGrad {
            root.accumulate(seed, sink: sink)
            let order = Self.topologicalOrder(from: root)
            var uses: [ObjectIdentifier: Int] = [:]
            if observer != nil {
                for node in order where !node.isLeaf {
                    for case let input? in node.inputs where input.isLeaf { uses[ObjectIdentifier(input), default: 0] += 1 }
                }
            }
            for node in order.reversed() {
                defer {
                    if let observer, !node.isLeaf {
                        for case let input? in node.inputs where input.isLeaf {
                            let id = ObjectIdentifier(input)
                            uses[id]! -= 1
                            if uses[id] == 0 { observer.gradientIsComplete(input) }
                        }
                    }
                }
                guard !node.isLeaf, let outputGrad = node.grad else { continue }
                precondition(!node.released, "backward: the graph through \(node.op) was already used by an earlier backward(); "
                             + "build the forward pass again (PyTorch would ask for retain_graph)")
                guard let backward = node.takeBackward() else { continue }
                node.grad = nil  // interior gradients are not kept, as in PyTorch
                for (input, inputGrad) in zip(node.inputs, backward(outputGrad)) {
                    guard let input, let inputGrad else { continue }
                    precondition(inputGrad.shape == input.shape,
                                 "backward of \(node.op): gradient shape \(inputGrad.shape) for input of shape \(input.shape)")
                    input.accumulate(inputGrad, sink: sink)
                }
            }
        }
    }

    /// Post-order of the graph below `root` (inputs before the nodes that use them), without recursion.
    static func topologicalOrder(from root: AutogradNode) -> [AutogradNode] {
        var order: [AutogradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(node: AutogradNode, expanded: Bool)] = [(root, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded {
                order.append(node)
                continue
            }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for case let input? in node.inputs where !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    /// Attaches the graph record of an op to its freshly computed `result`.
    ///
    /// `backward` maps ∂L/∂result to ∂L/∂input for each of `inputs` (same order); it is called only when at least one
    /// input requires grad, and may return `nil` for inputs that do not.
    static func record(_ result: Tensor, op: String, inputs: [Tensor],
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
        var output = result
        output.node = AutogradNode(op: op, inputs: inputs.map(\.node), shape: result.shape, backward: backward)
        return output
    }
}

extension AutogradNode {
    /// Adds a gradient contribution: a leaf's goes to the installed sink if there is one, everything else into `grad`.
    fileprivate func accumulate(_ gradient: Tensor, sink: (any LeafGradientSink)?) {
        if isLeaf, let sink {
            sink.add(gradient, to: self)
        } else if grad == nil {
            grad = gradient
        } else {
            // Into the existing sum where it is this node's alone (a tensor used several times, the residual stream):
            // no new buffer per contribution. A sum shared with another tensor (a backward that returned the same
            // gradient for two inputs, a leaf's grad the caller holds) is copied first, as any mutation would be.
            grad!.withUnsafeMutableBufferPointer { sum in
                gradient.withUnsafeBufferPointer { g in
                    Kernels.add(sum.baseAddress!, g.baseAddress!, sum.baseAddress!, sum.count)
                }
            }
        }
    }
}

/// Somewhere other than `grad` for the gradients of leaves: data-parallel training installs one table per shard
/// (`LeafGradients` in Training/DataParallel.swift), so shards that share parameters never write the same leaf.
protocol LeafGradientSink: AnyObject, Sendable {
    func add(_ gradient: Tensor, to leaf: AutogradNode)
}

/// Told, during `backward()`, when a leaf's gradient has received its last contribution of the pass.
protocol LeafGradientCompletion: AnyObject, Sendable {
    func gradientIsComplete(_ leaf: AutogradNode)
}

/// The sink of the current task's backward passes; nil (the default) sends gradients to the leaves. `completion`,
/// when set, hears of each leaf as its gradient completes (only when there is no sink).
enum LeafGradientHook {
    @TaskLocal static var sink: (any LeafGradientSink)?
    @TaskLocal static var completion: (any LeafGradientCompletion)?
}
