import Foundation

/// A scalar that remembers how it was computed, so `backward()` can fill in ∂output/∂self for every value
/// that fed into it: the micrograd engine of the notes.
///
/// Each operation makes a new `Value` whose `children` are its inputs and whose backward rule — the op's local
/// derivative times the incoming gradient — sits right next to its forward rule below. Gradients are added with
/// `+=`, so a value used twice (`a + a`) receives both contributions; call `zeroGrad()` before a fresh pass.
///
/// ```swift
/// let a = Value(2, label: "a"), b = Value(-3, label: "b"), c = Value(10, label: "c")
/// let L = (a * b + c) * -2
/// L.backward()
/// print(L.data, a.grad, b.grad)   // -8.0 6.0 -4.0
/// ```
///
/// `Value` is a class on purpose: the graph is about identity (the same `a` feeding two ops is one node).
public final class Value {
    /// The number computed by the forward pass.
    public var data: Double
    /// ∂(the value `backward()` was called on)/∂self, accumulated over every path; 0 until `backward()` runs.
    public var grad: Double = 0
    /// A name shown in graphs (`"a"`, `"w1"`); empty when none was given.
    public var label: String
    /// The operation that produced this value (`"+"`, `"tanh"`, …); empty for leaves.
    public let op: String
    /// The inputs of `op`, in order. `var` only so that `deinit` can take them apart without recursion.
    public private(set) var children: [Value]
    /// Adds this node's contribution to its children's `grad`, given `out.grad`; `nil` for leaves.
    /// It captures the children `unowned`: the strong references live in `children` alone, which keeps `deinit` simple.
    private let backwardRule: ((_ out: Value) -> Void)?

    /// A leaf: an input or a parameter.
    public init(_ data: Double, label: String = "") {
        self.data = data
        self.label = label
        self.op = ""
        self.children = []
        self.backwardRule = nil
    }

    /// A node made by `op` from `children`; `backward` applies the chain rule for this one op. This is how to add
    /// an op of your own: capture the children `[unowned x]` like the ops below, so that `children` stays the only
    /// strong reference and deep graphs are still released without recursion.
    public init(_ data: Double, children: [Value], op: String, label: String = "",
                backward: @escaping (_ out: Value) -> Void) {
        self.data = data
        self.label = label
        self.op = op
        self.children = children
        self.backwardRule = backward
    }

    /// Releasing a 100,000-deep chain would otherwise recurse once per node and overflow the stack: Swift frees
    /// a class's stored references inside its deinit. Instead, detach the children of every node about to die
    /// and release them from a loop.
    deinit {
        guard !children.isEmpty else { return }
        var pending = children
        children = []
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.children)
                node.children = []
            }
        }
    }

    // MARK: Operations: forward rule, then local derivative × out.grad.

    public static func + (a: Value, b: Value) -> Value {
        Value(a.data + b.data, children: [a, b], op: "+") { [unowned a, unowned b] out in
            a.grad += out.grad                      // ∂(a+b)/∂a = 1
            b.grad += out.grad                      // ∂(a+b)/∂b = 1
        }
    }

    public static func - (a: Value, b: Value) -> Value {
        Value(a.data - b.data, children: [a, b], op: "-") { [unowned a, unowned b] out in
            a.grad += out.grad                      // ∂(a−b)/∂a = 1
            b.grad -= out.grad                      // ∂(a−b)/∂b = −1
        }
    }

    public static func * (a: Value, b: Value) -> Value {
        Value(a.data * b.data, children: [a, b], op: "*") { [unowned a, unowned b] out in
            a.grad += b.data * out.grad             // ∂(ab)/∂a = b
            b.grad += a.data * out.grad             // ∂(ab)/∂b = a
        }
    }

    public static func / (a: Value, b: Value) -> Value {
        Value(a.data / b.data, children: [a, b], op: "/") { [unowned a, unowned b] out in
            a.grad += out.grad / b.data                         // ∂(a/b)/∂a = 1/b
            b.grad -= a.data / (b.data * b.data) * out.grad     // ∂(a/b)/∂b = −a/b²
        }
    }

    public static prefix func - (a: Value) -> Value {
        Value(-a.data, children: [a], op: "neg") { [unowned a] out in
            a.grad -= out.grad                      // ∂(−a)/∂a = −1
        }
    }

    /// `self` raised to a constant power (the exponent is a number, not a `Value`, as in the notes).
    public func pow(_ exponent: Double) -> Value {
        Value(Foundation.pow(data, exponent), children: [self], op: "^\(Value.format(exponent))") { [unowned self] out in
            self.grad += exponent * Foundation.pow(self.data, exponent - 1) * out.grad   // n·xⁿ⁻¹
        }
    }

    public func exp() -> Value {
        let e = Foundation.exp(data)
        return Value(e, children: [self], op: "exp") { [unowned self] out in
            self.grad += e * out.grad               // (eˣ)' = eˣ
        }
    }

    /// Natural logarithm; its derivative 1/x is infinite at 0, like the math.
    public func log() -> Value {
        Value(Foundation.log(data), children: [self], op: "log") { [unowned self] out in
            self.grad += out.grad / self.data       // (ln x)' = 1/x
        }
    }

    public func tanh() -> Value {
        let t = Foundation.tanh(data)
        return Value(t, children: [self], op: "tanh") { [unowned self] out in
            self.grad += (1 - t * t) * out.grad     // tanh' = 1 − tanh²
        }
    }

    public func relu() -> Value {
        Value(max(data, 0), children: [self], op: "relu") { [unowned self] out in
            self.grad += (self.data > 0 ? 1 : 0) * out.grad   // 1 where x > 0, else 0 (0 at the kink)
        }
    }

    public func sigmoid() -> Value {
        let s = 1 / (1 + Foundation.exp(-data))
        return Value(s, children: [self], op: "sigmoid") { [unowned self] out in
            self.grad += s * (1 - s) * out.grad     // σ' = σ(1 − σ)
        }
    }

    // MARK: Plain numbers on either side become constant leaves, as in micrograd.

    public static func + (a: Value, b: Double) -> Value { a + Value(b) }
    public static func + (a: Double, b: Value) -> Value { Value(a) + b }
    public static func - (a: Value, b: Double) -> Value { a - Value(b) }
    public static func - (a: Double, b: Value) -> Value { Value(a) - b }
    public static func * (a: Value, b: Double) -> Value { a * Value(b) }
    public static func * (a: Double, b: Value) -> Value { Value(a) * b }
    public static func / (a: Value, b: Double) -> Value { a / Value(b) }
    public static func / (a: Double, b: Value) -> Value { Value(a) / b }

    // MARK: Backpropagation

    /// Every value this one depends on (itself included), each before any value computed from it.
    ///
    /// Iterative depth-first search with an explicit stack, so graphs hundreds of thousands of nodes deep work.
    public func topologicalOrder() -> [Value] {
        var order: [Value] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        // Each frame is a node and the index of the next child to visit; a node is emitted after all its children.
        var stack: [(node: Value, nextChild: Int)] = [(self, 0)]
        while let top = stack.last {
            let (node, next) = top
            if next < node.children.count {
                stack[stack.count - 1].nextChild += 1
                let child = node.children[next]
                if visited.insert(ObjectIdentifier(child)).inserted { stack.append((child, 0)) }
            } else {
                stack.removeLast()
                order.append(node)
            }
        }
        return order
    }

    /// Fills `grad` of every value in the graph with ∂self/∂value: seeds `self.grad = 1`, then applies each op's
    /// backward rule from the output towards the leaves. Gradients accumulate across calls (like PyTorch and
    /// micrograd); call `zeroGrad()` first to start over.
    public func backward() {
        let order = topologicalOrder()
        grad = 1
        for node in order.reversed() { node.backwardRule?(node) }
    }

    /// Sets `grad` to 0 on this value and everything it depends on.
    public func zeroGrad() {
        for node in topologicalOrder() { node.grad = 0 }
    }

    /// Numbers in op names and graphs: integers without ".0", others with up to 4 decimals.
    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return String(format: "%.4f", x)
    }
}

extension Value: CustomStringConvertible {
    public var description: String {
        "Value(\(label.isEmpty ? "" : label + ", ")data: \(data), grad: \(grad))"
    }
}
