import Foundation
import Testing
@testable import Synapse

@Suite("Scalar examples and derivative lesson", .synapseRuntime)
struct ScalarExamplesTests {
    /// The notes' neuron: output 0.7071, grads x1 −1.5, w1 1.0, x2 0.5, w2 0.0 — with tanh as one op and
    /// spelled out through exp.
    @Test(arguments: [false, true])
    func neuronNumbers(tanhAsExp: Bool) {
        let neuron = ScalarExamples.neuron(tanhAsExp: tanhAsExp)
        neuron.output.backward()
        #expect(abs(neuron.output.data - 0.5.squareRoot()) < 1e-12)
        #expect(abs(neuron.x1.grad - -1.5) < 1e-12)
        #expect(abs(neuron.w1.grad - 1.0) < 1e-12)
        #expect(abs(neuron.x2.grad - 0.5) < 1e-12)
        #expect(neuron.w2.grad == 0)
        #expect(abs(neuron.b.grad - 0.5) < 1e-12)
        #expect(abs(neuron.n.grad - 0.5) < 1e-12)
    }

    @Test func lossExampleMatchesTheLecture() {
        let example = DerivativeLesson.lossExample()
        #expect(example.output == -8)
        let expected: [String: Double] = ["a": 6, "b": -4, "c": -2, "e": -2, "d": -2, "f": 4, "L": 1]
        #expect(Set(example.rows.map(\.name)) == Set(expected.keys))
        for row in example.rows {
            #expect(row.autograd == expected[row.name], "∂L/∂\(row.name)")
            #expect(abs(row.finiteDifference - expected[row.name]!) < 1e-5, "finite difference for \(row.name)")
        }
    }

    @Test func chainRuleAndPolynomialExamplesAgree() {
        let chain = DerivativeLesson.chainRuleExample()
        let grads = Dictionary(uniqueKeysWithValues: chain.rows.map { ($0.name, $0.autograd) })
        #expect(abs(grads["x1"]! - -1.5) < 1e-12 && abs(grads["w1"]! - 1) < 1e-12 && abs(grads["n"]! - 0.5) < 1e-12)
        for row in chain.rows { #expect(abs(row.finiteDifference - row.autograd) < 1e-4, "\(row.name)") }

        let poly = DerivativeLesson.polynomialExample()
        #expect(poly.output == 20)
        #expect(poly.rows.first { $0.name == "x" }?.autograd == 14)
    }

    /// A large h makes the forward difference visibly wrong for a curved function — the lesson's point that
    /// the estimate approaches the derivative as h shrinks.
    @Test func finiteDifferenceErrorShrinksWithH() {
        let coarse = DerivativeLesson.polynomialExample(h: 0.1).rows.first { $0.name == "x" }!
        let fine = DerivativeLesson.polynomialExample(h: 1e-6).rows.first { $0.name == "x" }!
        // f(x+h) − f(x) over h = 6x − 4 + 3h exactly for this quadratic.
        #expect(abs(coarse.finiteDifference - 14.3) < 1e-9)
        #expect(abs(fine.finiteDifference - 14) < 1e-5)
    }
}
