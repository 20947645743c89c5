import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct LinearRegressionTests {
    /// y = 2x₁ − 3x₂ + 0.5x₃ + 4 + noise, features roughly unit-scaled.
    static func dataset(m: Int = 200, noise: Float = 0.1, seed: UInt64 = 7) -> (x: Tensor, y: Tensor) {
        var rng = RandomGenerator(seed: seed)
        let x = Tensor.randn([m, 3], generator: &rng)
        let eps = Tensor.randn([m], generator: &rng)
        let y = noGrad { x.matmul(Tensor(shape: [3, 1], scalars: [2, -3, 0.5])).reshaped([m]) + 4 + eps * noise }
        return (x, y)
    }

    @Test func gradientDescentReachesTheNormalEquationSolution() throws {
        let (x, y) = Self.dataset()
        let exact = try LinearRegression.closedFormSolution(features: x, targets: y)
        var model = LinearRegression(featureCount: 3)
        let fit = try model.fit(features: x, targets: y, learningRate: 0.5, gradientTolerance: 1e-6)
        #expect(fit.stoppedBecause == .smallGradient)
        #expect(fit.iterations < 500)
        for (w, e) in zip(model.weights.scalars, exact.weights.scalars) { #expect(abs(w - e) < 2e-5, "w \(w) vs \(e)") }
        #expect(abs(model.bias - exact.bias) < 2e-5, "b \(model.bias) vs \(exact.bias)")
        // The noise is small, so both are near the generating parameters too.
        #expect(abs(model.weights.scalars[1] + 3) < 0.05)
        // Convex cost + small enough α: the learning curve never rises (beyond Float rounding near the minimum).
        #expect(zip(fit.costHistory, fit.costHistory.dropFirst()).allSatisfy { $1 <= $0 * (1 + 1e-6) })
        #expect(fit.costHistory.first! > 100 * fit.costHistory.last!)
    }

    @Test func closedFormRecoversNoiseFreeParametersExactly() throws {
        let (x, y) = Self.dataset(noise: 0)
        let exact = try LinearRegression.closedFormSolution(features: x, targets: y)
        for (w, e) in zip(exact.weights.scalars, [2, -3, 0.5] as [Float]) { #expect(abs(w - e) < 1e-5) }
        #expect(abs(exact.bias - 4) < 1e-5)
    }

    @Test func gradientsMatchAutogradOfTheCost() {
        let (x, y) = Self.dataset(m: 20)
        let model = LinearRegression(weights: Tensor([0.3, -0.2, 1]), bias: 0.7)
        let (dw, db) = model.gradients(features: x, targets: y)
        let w = model.weights.requiringGrad(), b = Tensor(model.bias).requiringGrad()
        let error = x.matmul(w.reshaped([3, 1])).reshaped([20]) + b - y
        let cost = (error * error).sum() * (1 / Float(2 * 20))
        cost.backward()
        expectClose(dw, w.grad!, rtol: 1e-5, atol: 1e-6, "∂J/∂w")
        #expect(abs(db - b.grad!.item) < 1e-5)
        #expect(abs(model.cost(features: x, targets: y) - cost.item) < 1e-5 * cost.item)
    }

    /// Both derivatives come from the old (w, b): for one feature x = [1, 2], y = [1, 2] from w = b = 0 with α = 0.1,
    /// ∂J/∂w = −(1·1 + 2·2)/2 = −2.5 and ∂J/∂b = −(1 + 2)/2 = −1.5.
    @Test func stepUpdatesBothParametersFromTheOldValues() {
        var model = LinearRegression(featureCount: 1)
        let costBefore = model.step(features: Tensor([[1], [2]]), targets: Tensor([1, 2]), learningRate: 0.1)
        #expect(abs(costBefore - 1.25) < 1e-6)   // (1 + 4) / (2·2)
        #expect(abs(model.weights.scalars[0] - 0.25) < 1e-6)
        #expect(abs(model.bias - 0.15) < 1e-6)
    }

    @Test func tooLargeALearningRateIsReportedAsDivergence() {
        let (x, y) = Self.dataset(m: 50)
        var model = LinearRegression(featureCount: 3)
        #expect(throws: LinearRegressionError.self) {
            try model.fit(features: x, targets: y, learningRate: 5)
        }
    }

    @Test func costToleranceStopsEarly() throws {
        let (x, y) = Self.dataset()
        var model = LinearRegression(featureCount: 3)
        let fit = try model.fit(features: x, targets: y, learningRate: 0.05, costTolerance: 1e-3, gradientTolerance: 0)
        #expect(fit.stoppedBecause == .costStopped)
        #expect(fit.costHistory.count == fit.iterations + 1)
    }

    @Test func duplicateFeaturesAreSingular() {
        let x = Tensor([[1, 1], [2, 2], [3, 3]])
        #expect(throws: LinearRegressionError.singular) {
            try LinearRegression.closedFormSolution(features: x, targets: Tensor([1, 2, 3]))
        }
    }
}
