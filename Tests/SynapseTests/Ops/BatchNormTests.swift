import Testing
@testable import Synapse

/// The fused batch-norm op against PyTorch's F.batch_norm (Fixtures/conv.json, "batch_norm" cases): outputs,
/// gradients and running-statistics updates in training and eval mode; finite differences; bad input.
@Suite(.synapseRuntime) struct BatchNormTests {
    @Test func valuesGradientsAndRunningStatisticsMatchPyTorch() throws {
        let cases = try Fixtures.json("conv.json")["batch_norm"] as! [[String: Any]]
        #expect(cases.count == 5)
        for c in cases {
            let name = c["name"] as! String
            let training = c["training"] as! Bool
            let momentum = (c["momentum"] as! Double)
            let inputs = (c["inputs"] as! [Any]).map { Fixtures.tensor($0).requiringGrad() }
            let runningMean = Fixtures.tensor(c["running_mean"]!), runningVar = Fixtures.tensor(c["running_var"]!)
            let output = inputs[0].batchNorm(runningMean: runningMean, runningVar: runningVar,
                                             weight: inputs.count > 1 ? inputs[1] : nil,
                                             bias: inputs.count > 2 ? inputs[2] : nil,
                                             training: training, momentum: Float(momentum), epsilon: 1e-5)
            expectClose(output, Fixtures.tensor(c["output"]!), rtol: 1e-4, atol: 1e-5, name + " output")
            expectClose(runningMean, Fixtures.tensor(c["running_mean_after"]!), rtol: 1e-4, atol: 1e-6, name + " running_mean")
            expectClose(runningVar, Fixtures.tensor(c["running_var_after"]!), rtol: 1e-4, atol: 1e-6, name + " running_var")
            (output * Fixtures.tensor(c["weight"]!)).sum().backward()
            for (i, expected) in (c["grads"] as! [Any]).enumerated() {
                expectClose(inputs[i].grad!, Fixtures.tensor(expected), rtol: 1e-4, atol: 2e-5, "\(name) gradient \(i)")
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 21)
        let x = Tensor.randn([3, 2, 3, 2], generator: &rng) * 2 + 1
        let gamma = Tensor.uniform([2], low: 0.5, high: 1.5, generator: &rng)
        let beta = Tensor.randn([2], generator: &rng)
        let probe = Tensor.randn([3, 2, 3, 2], generator: &rng)
        for training in [true, false] {
            let report = GradCheck.check([x, gamma, beta], h: 1e-2) { t in
                // Fresh statistics per evaluation, so the finite differences see the same running values.
                let mean = Tensor([0.2, -0.1]), variance = Tensor([1.5, 0.7])
                let y = t[0].batchNorm(runningMean: mean, runningVar: variance, weight: t[1], bias: t[2], training: training)
                return (y * probe).sum() + (y * y).sum() * 0.1
            }
            #expect(report.passed, "batchNorm training=\(training): \(report)")
        }
    }

    @Test func trainingWithoutRunningStatisticsNormalisesEachChannel() {
        var rng = RandomGenerator(seed: 22)
        let x = Tensor.randn([4, 3, 5, 5], generator: &rng) * 3 + 2
        let y = x.batchNorm(runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)
        let mean = y.mean(axes: [0, 2, 3]), variance = y.permuted([1, 0, 2, 3]).reshaped(3, -1).variance(axis: 1, correction: 0)
        for m in mean.scalars { #expect(abs(m) < 1e-5) }
        for v in variance.scalars { #expect(abs(v - 1) < 1e-3) }
    }

    @Test func channelMismatchStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4, 4]).batchNorm(runningMean: nil, runningVar: nil, weight: Tensor.ones([4]),
                                                     bias: nil, training: true)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("batchNorm: weight of shape [4] for input [2, 3, 4, 4] with 3 channels"))
    }
}
