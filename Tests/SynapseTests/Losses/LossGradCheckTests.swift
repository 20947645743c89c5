import Testing
@testable import Synapse

/// The hand-written backward passes of the losses against finite differences, including the target gradients
/// PyTorch also provides for the binary losses.
@Suite(.synapseRuntime) struct LossGradCheckTests {
    @Test func binaryCrossEntropyGradients() {
        var rng = RandomGenerator(seed: 31)
        let p = Tensor.uniform([3, 4], low: 0.1, high: 0.9, generator: &rng)
        let y = Tensor.uniform([3, 4], generator: &rng)
        let w = Tensor.uniform([3, 4], low: 0.5, high: 1.5, generator: &rng)
        let report = GradCheck.check([p, y], h: 1e-3) { t in
            binaryCrossEntropy(probabilities: t[0], targets: t[1], weight: w, reduction: .sum)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func binaryCrossEntropyWithLogitsGradients() {
        var rng = RandomGenerator(seed: 32)
        let z = Tensor.randn([3, 4], generator: &rng) * 3
        let y = Tensor.uniform([3, 4], generator: &rng)
        let report = GradCheck.check([z, y]) { t in
            binaryCrossEntropyWithLogits(logits: t[0], targets: t[1], reduction: .mean)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func crossEntropyWithSmoothingWeightsAndIgnoredRowsGradients() {
        var rng = RandomGenerator(seed: 33)
        let logits = Tensor.randn([5, 4], generator: &rng)
        let report = GradCheck.check([logits]) { t in
            crossEntropyLoss(logits: t[0], targets: [0, 3, -1, 2, 1], classWeights: [1, 0.5, 2, 1.5], ignoreIndex: -1,
                             labelSmoothing: 0.2)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func nllAndRegressionGradients() {
        var rng = RandomGenerator(seed: 34)
        let x = Tensor.randn([4, 3], generator: &rng), y = Tensor.randn([4, 3], generator: &rng)
        let nll = GradCheck.check([x]) { t in nllLoss(logProbabilities: t[0].logSoftmax(axis: 1), targets: [2, 0, 1, 1]) }
        #expect(nll.passed, "\(nll)")
        let mse = GradCheck.check([x, y]) { t in mseLoss(t[0], t[1]) + quadraticCost(t[0], t[1]) }
        #expect(mse.passed, "\(mse)")
        let l1 = GradCheck.check([x]) { t in l1Loss(t[0], y, reduction: .sum) }
        #expect(l1.passed, "\(l1)")
    }

    @Test func bceWithLogitsStaysFiniteForHugeScores() {
        let z = Tensor([[-1000, 1000, 0]]).requiringGrad()
        let loss = binaryCrossEntropyWithLogits(logits: z, targets: Tensor([[1, 0, 1]]), reduction: .none)
        expectClose(loss, Tensor([[1000, 1000, 0.6931472]]), "loss")
        loss.sum().backward()
        expectClose(z.grad!, Tensor([[-1, 1, -0.5]]), "gradient")
    }

    @Test func quadraticCostIsHalfTheMeanSquaredError() {
        let a = Tensor([1, 2, 3]), y = Tensor([1, 0, 0])
        #expect(abs(quadraticCost(a, y).item - 0.5 * (0 + 4 + 9) / 3) < 1e-6)
        #expect(mseLoss(a, y, reduction: .none).scalars == [0, 4, 9])
    }
}
