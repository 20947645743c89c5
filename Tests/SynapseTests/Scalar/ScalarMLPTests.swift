import Foundation
import Testing
@testable import Synapse

@Suite("Scalar MLP")
struct ScalarMLPTests {
    @Test func moonsTrainToNinetyFivePercent() {
        let moons = TwoMoons(count: 100, noise: 0.1, seed: 7)
        let model = ScalarMLP(inputCount: 2, layerSizes: [8, 8, 1], seed: 3)
        let clock = ContinuousClock()
        let start = clock.now
        let history = ScalarTraining.fit(model, points: moons.points, labels: moons.labels, steps: 60)
        print("moons:", clock.now - start, history.map { String(format: "%.3f/%.2f", $0.loss, $0.accuracy) })
        let final = ScalarTraining.accuracy(model, points: moons.points, labels: moons.labels)
        #expect(final >= 0.95)
    }
}
