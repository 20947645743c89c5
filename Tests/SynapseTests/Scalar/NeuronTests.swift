import Foundation
import Testing
@testable import Synapse

@Suite("Scalar MLP", .synapseRuntime)
struct ScalarMLPTests {
    /// The bar: ≥ 95% on two moons with plain gradient descent, and the loss really falls.
    @Test func moonsTrainToNinetyFivePercent() {
        let moons = TwoMoons(count: 100, noise: 0.1, seed: 7)
        let model = ScalarMLP(inputCount: 2, layerSizes: [8, 8, 1], seed: 8)
        let history = ScalarTraining.fit(model, points: moons.points, labels: moons.labels, steps: 60)
        #expect(history.count == 60)
        let first = history.prefix(5).map(\.loss).reduce(0, +) / 5
        let last = history.suffix(5).map(\.loss).reduce(0, +) / 5
        #expect(last < 0.5 * first, "loss went from \(first) to \(last)")
        let accuracy = ScalarTraining.accuracy(model, points: moons.points, labels: moons.labels)
        #expect(accuracy >= 0.95)
    }

    @Test func twoMoonsIsSeededBalancedAndNotLinearlyTrivial() {
        let a = TwoMoons(count: 101, noise: 0.1, seed: 3), b = TwoMoons(count: 101, noise: 0.1, seed: 3)
        let c = TwoMoons(count: 101, noise: 0.1, seed: 4)
        #expect(a.points == b.points && a.labels == b.labels)
        #expect(a.points != c.points)
        #expect(a.labels.filter { $0 == -1 }.count == 51 && a.labels.filter { $0 == 1 }.count == 50)
        // Without noise the points lie exactly on the two arcs.
        let clean = TwoMoons(count: 10, noise: 0, seed: 1)
        for (p, label) in zip(clean.points, clean.labels) {
            let center = label < 0 ? (0.0, 0.0) : (1.0, 0.5)
            let radius = ((p[0] - center.0) * (p[0] - center.0) + (p[1] - center.1) * (p[1] - center.1)).squareRoot()
            #expect(abs(radius - 1) < 1e-12)
        }
    }

    @Test func mlpFromGivenWeightsComputesTheFormula() {
        // 2 inputs -> 2 tanh hidden -> 1 linear output, weights in [out][in] layout.
        let w1: [[Double]] = [[0.5, -1.0], [2.0, 0.25]], b1 = [0.1, -0.2]
        let w2: [[Double]] = [[1.5, -0.5]], b2 = [0.3]
        let model = ScalarMLP(weights: [w1, w2], biases: [b1, b2], hiddenActivation: .tanh)
        let x = [0.7, -1.2]
        let h = (0..<2).map { j in Foundation.tanh(w1[j][0] * x[0] + w1[j][1] * x[1] + b1[j]) }
        let expected = w2[0][0] * h[0] + w2[0][1] * h[1] + b2[0]
        let out = model(x)
        #expect(out.count == 1)
        #expect(abs(out[0].data - expected) < 1e-12)
        #expect(model.parameters.count == 2 * 3 + 1 * 3)

        // ∂out/∂w2[0][0] = h0 and ∂out/∂b2 = 1: the output layer is linear.
        out[0].backward()
        #expect(abs(model.layers[1].neurons[0].weights[0].grad - h[0]) < 1e-12)
        #expect(model.layers[1].neurons[0].bias.grad == 1)
    }

    @Test func seededInitIsReproducible() {
        let a = ScalarMLP(inputCount: 3, layerSizes: [4, 2], seed: 11).parameters.map(\.data)
        let b = ScalarMLP(inputCount: 3, layerSizes: [4, 2], seed: 11).parameters.map(\.data)
        let c = ScalarMLP(inputCount: 3, layerSizes: [4, 2], seed: 12).parameters.map(\.data)
        #expect(a == b && a != c)
        #expect(a.count == 4 * 4 + 2 * 5)
        #expect(a.allSatisfy { $0 >= -1 && $0 < 1 })
    }
}
