import Foundation
import Testing
@testable import Synapse

/// Central difference (f(x+h) − f(x−h)) / 2h: error O(h²), tight enough to check every op at 1e-6.
private func numericDerivative(at x: Double, h: Double = 1e-5, _ f: (Double) -> Double) -> Double {
    (f(x + h) - f(x - h)) / (2 * h)
}

/// Checks ∂f/∂x from autograd against the finite difference for a one-input function.
private func checkUnary(_ name: String, at x: Double, _ f: (Value) -> Value,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let input = Value(x)
    let out = f(input)
    out.backward()
    let numeric = numericDerivative(at: x) { f(Value($0)).data }
    #expect(abs(input.grad - numeric) < 1e-6 * max(1, abs(numeric)), "\(name) at \(x): autograd \(input.grad), numeric \(numeric)",
            sourceLocation: sourceLocation)
}

/// Checks both partial derivatives of a two-input function.
private func checkBinary(_ name: String, at a: Double, _ b: Double, _ f: (Value, Value) -> Value,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    let x = Value(a), y = Value(b)
    f(x, y).backward()
    let da = numericDerivative(at: a) { f(Value($0), Value(b)).data }
    let db = numericDerivative(at: b) { f(Value(a), Value($0)).data }
    #expect(abs(x.grad - da) < 1e-6 * max(1, abs(da)), "\(name) ∂/∂a: autograd \(x.grad), numeric \(da)",
            sourceLocation: sourceLocation)
    #expect(abs(y.grad - db) < 1e-6 * max(1, abs(db)), "\(name) ∂/∂b: autograd \(y.grad), numeric \(db)",
            sourceLocation: sourceLocation)
}

@Suite("Scalar Value", .synapseRuntime)
struct ScalarValueTests {
    @Test func binaryOpsMatchFiniteDifferences() {
        checkBinary("+", at: 1.5, -2.25) { $0 + $1 }
        checkBinary("-", at: 1.5, -2.25) { $0 - $1 }
        checkBinary("*", at: 1.5, -2.25) { $0 * $1 }
        checkBinary("/", at: 1.5, -2.25) { $0 / $1 }
        // A composite that mixes them, so a wrong sign in one rule cannot hide behind symmetric inputs.
        checkBinary("mixed", at: 0.7, 3.1) { a, b in (a * b - a / b) * (a + 2) }
    }

    @Test func numbersOnEitherSide() {
        checkUnary("x + 3", at: 0.4) { $0 + 3 }
        checkUnary("3 + x", at: 0.4) { 3 + $0 }
        checkUnary("x - 3", at: 0.4) { $0 - 3 }
        checkUnary("3 - x", at: 0.4) { 3 - $0 }
        checkUnary("x * 3", at: 0.4) { $0 * 3 }
        checkUnary("3 * x", at: 0.4) { 3 * $0 }
        checkUnary("x / 3", at: 0.4) { $0 / 3 }
        checkUnary("3 / x", at: 0.4) { 3 / $0 }
        #expect((2 * Value(5) - 1).data == 9)
        #expect((1 / Value(4)).data == 0.25)
    }

    @Test func unaryOpsMatchFiniteDifferences() {
        for x in [-1.3, 0.2, 2.4] {
            checkUnary("neg", at: x) { -$0 }
            checkUnary("exp", at: x) { $0.exp() }
            checkUnary("tanh", at: x) { $0.tanh() }
            checkUnary("relu", at: x) { $0.relu() }
            checkUnary("sigmoid", at: x) { $0.sigmoid() }
            checkUnary("pow 3", at: x) { $0.pow(3) }
            checkUnary("pow 2", at: x) { $0.pow(2) }
        }
        for x in [0.3, 1.7, 12.0] {
            checkUnary("log", at: x) { $0.log() }
            checkUnary("pow 0.5", at: x) { $0.pow(0.5) }
            checkUnary("pow -1.5", at: x) { $0.pow(-1.5) }
        }
        // relu's gradient is exactly 0 on the flat side and 1 on the sloped side.
        let negative = Value(-2), positive = Value(2)
        negative.relu().backward()
        positive.relu().backward()
        #expect(negative.grad == 0 && positive.grad == 1)
    }

    @Test func reusedNodeAccumulatesBothContributions() {
        let a = Value(3, label: "a")
        let b = a + a
        b.backward()
        #expect(a.grad == 2)   // would be 1 if the second contribution overwrote the first

        // A diamond: a feeds d and e, both feed f. ∂f/∂a = b + 1 through the two paths.
        let x = Value(-2), y = Value(3)
        let d = x * y, e = x + y
        let f = d * e
        f.backward()
        // f = (xy)(x+y) => ∂f/∂x = y(x+y) + xy = 3·1 + (−6) = −3, ∂f/∂y = x(x+y) + xy = −2 − 6 = −8
        #expect(x.grad == -3 && y.grad == -8)
    }

    @Test func gradientsAccumulateAcrossCallsUntilZeroed() {
        let a = Value(2)
        let out = a * a
        out.backward()
        #expect(a.grad == 4)
        out.backward()
        #expect(a.grad == 8)   // accumulation, as in PyTorch
        out.zeroGrad()
        #expect(a.grad == 0 && out.grad == 0)
        out.backward()
        #expect(a.grad == 4)
    }

    @Test func topologicalOrderPutsInputsFirst() {
        let a = Value(1), b = Value(2)
        let c = a * b
        let d = c + a
        let order = d.topologicalOrder()
        #expect(order.count == 4)
        #expect(order.last === d)
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        #expect(position[ObjectIdentifier(a)]! < position[ObjectIdentifier(c)]!)
        #expect(position[ObjectIdentifier(b)]! < position[ObjectIdentifier(c)]!)
        #expect(position[ObjectIdentifier(c)]! < position[ObjectIdentifier(d)]!)
    }

    /// out = x·1.0001·1.0001·… 5,000 times: a recursive topological sort would need 5,000 stack frames.
    @Test func fiveThousandDeepChain() {
        let x = Value(1, label: "x")
        var out = x
        for _ in 0..<5_000 { out = out * 1.0001 }
        out.backward()
        let expected = Foundation.pow(1.0001, 5_000.0)
        #expect(abs(out.data - expected) < 1e-9 * expected)
        #expect(abs(x.grad - expected) < 1e-9 * expected)
    }

    /// Deep enough to overflow the 8 MB main-thread stack (and the smaller ones of test threads) both in a
    /// recursive backward pass and in Swift's default, recursive release of the chain.
    @Test func hundredThousandDeepChainBackwardAndRelease() {
        let x = Value(0.5)
        do {
            var out = x
            for _ in 0..<100_000 { out = (out + 1e-6).tanh() }
            out.backward()
            #expect(x.grad > 0 && x.grad < 1)
            out.zeroGrad()
            #expect(x.grad == 0)
        }   // the chain is released here; the test passing means deinit did not recurse 200,000 frames deep
        #expect(x.data == 0.5)
    }

    @Test func releasingAChainKeepsSharedNodesAlive() {
        let shared = Value(2, label: "shared")
        weak var weakMiddle: Value?
        var kept: Value?
        do {
            let middle = shared * 3
            weakMiddle = middle
            kept = middle + 1          // holds middle
            var chain = middle
            for _ in 0..<1_000 { chain = chain + shared }
            #expect(chain.data == 6 + 2_000)
        }
        // The iterative deinit must only take apart nodes nobody else holds.
        #expect(weakMiddle != nil)
        #expect(kept!.children[0] === weakMiddle)
        #expect(kept!.data == 7)
        kept!.backward()
        #expect(shared.grad == 3)
        kept = nil
        #expect(weakMiddle == nil)
    }
}
