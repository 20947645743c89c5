/// A set of parameters that share one learning rate and one weight decay (PyTorch's `param_groups` entry).
///
/// ```swift
/// let optimizer = AdamW(groups: [
///     ParameterGroup(parameters: matrices, learningRate: 1e-3, weightDecay: 0.1),
///     ParameterGroup(parameters: biasesAndNorms, learningRate: 1e-3, weightDecay: 0),
/// ])
/// ```
public struct ParameterGroup {
    /// The tensors this group updates. Copies of a module's parameters: they share its storage, so the optimizer's
    /// in-place updates reach the module.
    public var parameters: [Tensor]
    /// The step size; schedules and the trainer change it between steps.
    public var learningRate: Float
    /// The L2 penalty (SGD, Adam, RMSProp: added to the gradient) or the decoupled decay (AdamW).
    public var weightDecay: Float

    public init(parameters: [Tensor], learningRate: Float, weightDecay: Float = 0) {
        precondition(learningRate >= 0, "ParameterGroup: negative learning rate \(learningRate)")
        precondition(weightDecay >= 0, "ParameterGroup: negative weight decay \(weightDecay)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}

/// A problem loading optimizer state from a checkpoint.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint lacks an entry the optimizer needs for this parameter.
    case missingKey(String)
    /// A state tensor has a different element count than the parameter it belongs to.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The checkpoint has state for more parameters than the optimizer holds.
    case unexpectedKey(String)

    public var description: String {
        switch self {
        case .missingKey(let key):
            return "optimizer state: missing key '\(key)' (was the checkpoint saved by the same optimizer type and configuration?)"
        case .shapeMismatch(let key, let expected, let found):
            return "optimizer state: '\(key)' has shape \(found), the parameter needs \(expected)"
        case .unexpectedKey(let key):
            return "optimizer state: unexpected key '\(key)' (the checkpoint has more parameters than this optimizer)"
        }
    }
}

/// The common part of the optimizers: parameter groups, per-parameter state, `zeroGrad()`, learning-rate access and
/// state export for checkpoints. Subclasses implement `step()` as one fused loop per parameter.
///
/// ```swift
/// let optimizer = SGD(parameters: model.parameters(), learningRate: 0.1, momentum: 0.9)
/// for (x, y) in batches {
///     optimizer.zeroGrad()
///     let loss = model(x).crossEntropy(targets: y)
///     loss.backward()
///     optimizer.step()
/// }
/// ```
open class Optimizer {
    /// The groups, each with its own learning rate and weight decay. State is kept by position, so parameters and
    /// groups may be appended between steps but not reordered or removed.
    public var parameterGroups: [ParameterGroup]

    /// State of one parameter: how many updates it has had and its running buffers (momentum, moments, …), zero at
    /// first. Buffers are tensors owned by the optimizer only, written in place through `withSharedMutableStorage`.
    public final class ParameterState {
        public internal(set) var step = 0
        public internal(set) var buffers: [Tensor]
        init(buffers: [Tensor]) { self.buffers = buffers }
    }

    /// State by position: `state[group][index]`, created on the parameter's first update (as PyTorch does).
    var state: [[ParameterState?]]
    /// The names of each parameter's buffers, in `ParameterState.buffers` order (PyTorch's state keys).
    let bufferNames: [String]

    /// `bufferNames` lists the per-parameter buffers the subclass keeps, e.g. `["exp_avg", "exp_avg_sq"]`.
    public init(groups: [ParameterGroup], bufferNames: [String]) {
        self.parameterGroups = groups
        self.bufferNames = bufferNames
        self.state = groups.map { [ParameterState?](repeating: nil, count: $0.parameters.count) }
    }

    /// Applies one update to every parameter that has a gradient. Parameters without one are skipped.
    open func step() {
        preconditionFailure("Optimizer.step: \(type(of: self)) must override step()")
    }

    /// The first group's learning rate; setting it sets every group's (use `parameterGroups` for one group).
    public var learningRate: Float {
        get { parameterGroups.first?.learningRate ?? 0 }
        set {
            precondition(newValue >= 0, "Optimizer.learningRate: negative learning rate \(newValue)")
            for g in parameterGroups.indices { parameterGroups[g].learningRate = newValue }
        }
    }

    /// Clears the gradient of every parameter (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for group in parameterGroups {
            for parameter in group.parameters { parameter.zeroGrad() }
        }
    }

    /// All parameters of all groups, in order.
    public var parameters: [Tensor] { parameterGroups.flatMap(\.parameters) }

    /// The state of parameter `index` of group `group`, created with zero buffers of the parameter's size on first use.
    /// Cheap after the first step: no allocation unless a parameter was added.
    @inline(__always)
    func parameterState(group: Int, index: Int, for parameter: Tensor) -> ParameterState {
        if group >= state.count {
            state.append(contentsOf: Array(repeating: [], count: group + 1 - state.count))
        }
        if index >= state[group].count {
            state[group].append(contentsOf: [ParameterState?](repeating: nil, count: index + 1 - state[group].count))
        }
        if let existing = state[group][index] {
            precondition(existing.buffers.allSatisfy { $0.count == parameter.count },
                         "\(type(of: self)).step: parameter \(index) of group \(group) changed size since the last step")
            return existing
        }
        let created = ParameterState(buffers: bufferNames.map { _ in Tensor.zeros(parameter.shape) })
        state[group][index] = created
        return created
    }

    // MARK: Checkpoints

    /// The optimizer's state as named tensors, keyed like PyTorch's `state_dict()["state"]` flattened:
    /// `state.<n>.step` and `state.<n>.<buffer>` where n counts parameters across groups, plus
    /// `param_groups.<g>.lr` and `param_groups.<g>.weight_decay`.
    public func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        var flat = 0
        for (g, group) in parameterGroups.enumerated() {
            result["param_groups.\(g).lr"] = Tensor(group.learningRate)
            result["param_groups.\(g).weight_decay"] = Tensor(group.weightDecay)
            for i in group.parameters.indices {
                defer { flat += 1 }
                guard g < state.count, i < state[g].count, let s = state[g][i] else { continue }
                result["state.\(flat).step"] = Tensor(Float(s.step))
                for (name, buffer) in zip(bufferNames, s.buffers) {
                    result["state.\(flat).\(name)"] = Tensor(shape: buffer.shape, scalars: buffer.scalars)
                }
            }
        }
        return result
    }

    /// Restores state saved by `stateDict()` from an optimizer of the same type and configuration over parameters of
    /// the same shapes. Parameters without saved state start fresh, as they would have in the saving run.
    public func load(stateDict: [String: Tensor]) throws {
        var restored = parameterGroups.map { [ParameterState?](repeating: nil, count: $0.parameters.count) }
        var learningRates = parameterGroups.map(\.learningRate)
        var weightDecays = parameterGroups.map(\.weightDecay)
        var used = Set<String>()
        var flat = 0
        for (g, group) in parameterGroups.enumerated() {
            for key in ["param_groups.\(g).lr", "param_groups.\(g).weight_decay"] {
                guard let value = stateDict[key] else { throw OptimizerStateError.missingKey(key) }
                guard value.count == 1 else { throw OptimizerStateError.shapeMismatch(key: key, expected: [], found: value.shape) }
                used.insert(key)
                if key.hasSuffix(".lr") { learningRates[g] = value.item } else { weightDecays[g] = value.item }
            }
            for (i, parameter) in group.parameters.enumerated() {
                defer { flat += 1 }
                let stepKey = "state.\(flat).step"
                guard let step = stateDict[stepKey] else { continue }
                used.insert(stepKey)
                var buffers: [Tensor] = []
                for name in bufferNames {
                    let key = "state.\(flat).\(name)"
                    guard let buffer = stateDict[key] else { throw OptimizerStateError.missingKey(key) }
                    guard buffer.shape == parameter.shape else {
                        throw OptimizerStateError.shapeMismatch(key: key, expected: parameter.shape, found: buffer.shape)
                    }
                    used.insert(key)
                    buffers.append(Tensor(shape: buffer.shape, scalars: buffer.scalars))
                }
                let s = ParameterState(buffers: buffers)
                s.step = Int(step.item)
                restored[g][i] = s
            }
        }
        if let extra = stateDict.keys.filter({ !used.contains($0) }).sorted().first {
            throw OptimizerStateError.unexpectedKey(extra)
        }
        state = restored
        for g in parameterGroups.indices {
            parameterGroups[g].learningRate = learningRates[g]
            parameterGroups[g].weightDecay = weightDecays[g]
        }
    }
}

/// Raw pointers to a parameter and its gradient for one fused update loop.
public struct UpdateBuffers {
    /// The parameter's elements, shared with the module that owns it: write the update here.
    public let parameter: UnsafeMutablePointer<Float>
    public let gradient: UnsafePointer<Float>
    public let count: Int
}

extension Optimizer {
    /// Calls `update` for every parameter with a gradient: its pointers, its state (`step` already counts this
    /// update) and its group. The built-in optimizers run their fused loop in the body; a custom one can too:
    ///
    /// ```swift
    /// final class SignSGD: Optimizer {     // p ← p − η·sign(g)
    ///     init(parameters: [Tensor], learningRate: Float) {
    ///         super.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate)], bufferNames: [])
    ///     }
    ///     override func step() {
    ///         forEachParameterWithGradient { b, _, group in
    ///             for i in 0..<b.count {
    ///                 b.parameter[i] -= group.learningRate * (b.gradient[i] > 0 ? 1 : (b.gradient[i] < 0 ? -1 : 0))
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// The updates run one after the other; the built-in optimizers use
    /// `forEachParameterWithGradientConcurrently`, which spreads parameters over the cores.
    @inline(__always)
    public func forEachParameterWithGradient(_ update: (UpdateBuffers, ParameterState, ParameterGroup) -> Void) {
        for item in pendingUpdates() { item.run(update) }
    }

    /// `forEachParameterWithGradient`, with different parameters updated on different cores at the same time
    /// (`Parallel.forEachItem`): a model of many small tensors otherwise ran its whole step on one core. `update` must
    /// only touch the parameter, gradient and state it is given.
    public func forEachParameterWithGradientConcurrently(
        _ update: (UpdateBuffers, ParameterState, ParameterGroup) -> Void) {
        let items = pendingUpdates()
        // A tensor listed twice (in two groups) must not be updated from two threads at once.
        guard Set(items.map(\.parameter.storageIdentifier)).count == items.count else {
            for item in items { item.run(update) }
            return
        }
        Parallel.forEachItem(sizes: items.map(\.parameter.count)) { items[$0].run(update) }
    }

    /// Every parameter with a gradient, in group order, with its state created if needed and this step counted.
    /// Runs serially, so the updates afterwards only read the states and touch their own buffers.
    func pendingUpdates() -> [PendingUpdate] {
        var items: [PendingUpdate] = []
        for g in parameterGroups.indices {
            let group = parameterGroups[g]
            for (i, parameter) in group.parameters.enumerated() {
                guard let gradient = parameter.grad else { continue }
                precondition(gradient.count == parameter.count,
                             "\(type(of: self)).step: gradient of shape \(gradient.shape) for parameter of shape \(parameter.shape)")
                let state = parameterState(group: g, index: i, for: parameter)
                state.step += 1
                items.append(PendingUpdate(parameter: parameter, gradient: gradient, state: state, group: group))
            }
        }
        return items
    }
}

/// One parameter's share of an optimizer step.
struct PendingUpdate {
    let parameter: Tensor
    let gradient: Tensor
    let state: Optimizer.ParameterState
    let group: ParameterGroup

    func run(_ update: (UpdateBuffers, Optimizer.ParameterState, ParameterGroup) -> Void) {
        gradient.withUnsafeBufferPointer { grad in
            parameter.withSharedMutableStorage { param in
                guard let p = param.baseAddress, let g = grad.baseAddress else { return }
                update(UpdateBuffers(parameter: p, gradient: g, count: param.count), state, group)
            }
        }
    }
}

extension Tensor {
    /// The base address of this tensor's storage for an optimizer's in-place update of its own state buffer.
    /// Only for tensors the optimizer owns (never handed out without a copy).
    @inline(__always)
    var optimizerStatePointer: UnsafeMutablePointer<Float> { storage.pointer }
}
