/// One vertex of the computation graph.
///
/// A leaf (a parameter, or any tensor whose `requiresGrad` was set) has no `backward` and keeps its accumulated
/// `grad`. An op result keeps the nodes of its inputs and a closure that maps the gradient of its output to the
/// gradients of its inputs — the local derivative of the op, written next to its forward rule in `Ops/`.
final class AutogradNode: @unchecked Sendable {
    /// The op that made this node ("matmul", "add", …); "leaf" for leaves. Used in error messages.
    let op: String
    /// Input nodes, aligned with the array `backward` returns; `nil` where that input needs no gradient.
    private(set) var inputs: [AutogradNode?]
    /// Maps ∂L/∂output to ∂L/∂input for each input (entries may be `nil` when that input needs no gradient).
    /// `backward()` drops it once it has run, and with it the tensors the op kept for it, as PyTorch frees saved
    /// tensors: a pass holds each activation only until its gradient is through.
    private(set) var backward: ((Tensor) -> [Tensor?])?
    let isLeaf: Bool
    /// Set when `backward` has run and been dropped.
    private(set) var released = false
    /// The shape of the tensor this node belongs to; gradients must match it.
    let shape: [Int]
    /// The accumulated gradient of a leaf; for interior nodes, the gradient in flight during one `backward()`.
    var grad: Tensor?

    init(leafWithShape shape: [Int]) {
        op = "leaf"
        inputs = []
        backward = nil
        isLeaf = true
        self.shape = shape
    }

    init(op: String, inputs: [AutogradNode?], shape: [Int], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.shape = shape
        self.backward = backward
        isLeaf = false
    }

    /// Hands out the backward closure once, then forgets it (and the tensors it captured).
    func takeBackward() -> ((Tensor) -> [Tensor?])? {
        defer { backward = nil; released = true }
        return backward
    }

    /// Releases a long chain of nodes iteratively: Swift would otherwise free each input from inside the previous
    /// node's deinit and overflow the stack on graphs tens of thousands of ops deep. (Ops capture detached tensors in
    /// their backward closures, so `inputs` is the only path from a node to the nodes below it.)
    deinit {
        guard !inputs.isEmpty else { return }
        var pending = inputs.compactMap { $0 }
        inputs = []
        while var next = pending.popLast() {
            if isKnownUniquelyReferenced(&next) {
                pending.append(contentsOf: next.inputs.compactMap { $0 })
                next.inputs = []
            }
        }
    }
}
