import Testing
@testable import Synapse

/// Layer behaviour that PyTorch parity cannot pin down: initialisation, seeding, dropout statistics, modes, and the
/// fused layer-norm kernel against finite differences.
@Suite(.synapseRuntime) struct LayerTests {
    @Test func linearInitialisationFollowsPyTorchsBounds() {
        var rng = RandomGenerator(seed: 9)
        let layer = Linear(100, 50, generator: &rng)
        #expect(layer.weight.shape == [50, 100] && layer.bias!.shape == [50])
        #expect(layer.inputFeatures == 100 && layer.outputFeatures == 50)
        let bound: Float = 1 / 10
        for value in layer.weight.scalars + layer.bias!.scalars { #expect(abs(value) <= bound) }
        // Uniform on (−0.1, 0.1): the variance is bound²/3; with 5000 draws the estimate is within ~5%.
        let w = layer.weight.scalars
        let variance = w.reduce(0) { $0 + $1 * $1 } / Float(w.count)
        #expect(abs(variance - bound * bound / 3) < 0.15 * bound * bound / 3)
        #expect(layer.weight.requiresGrad && layer.bias!.requiresGrad)
        #expect(Linear(3, 2, bias: false).bias == nil)
    }

    @Test func linearRunsOnTheFusedOp() {
        let layer = Linear(4, 3)
        let y = layer(Tensor.randn([2, 4]))
        #expect(y.gradientOp == "linear")           // one sgemm with the bias as accumulator, no transposed copy
        #expect(Linear(4, 3, bias: false)(Tensor.randn([5, 2, 4])).shape == [5, 2, 3])
    }

    @Test func linearIsReproducibleFromASeed() {
        var a = RandomGenerator(seed: 11), b = RandomGenerator(seed: 11)
        #expect(Linear(6, 4, generator: &a).weight.scalars == Linear(6, 4, generator: &b).weight.scalars)
        var c = RandomGenerator(seed: 12)
        #expect(Linear(6, 4, generator: &c).weight.scalars != Linear(6, 4, generator: &a).weight.scalars)
    }

    @Test func dropoutZeroesAboutPAndRescalesTheRest() {
        let dropout = Dropout(probability: 0.3, seed: 5)
        let x = Tensor.ones([100, 100]).requiringGrad()
        let y = dropout(x)
        let values = y.scalars
        let kept = values.filter { $0 != 0 }
        #expect(abs(Float(kept.count) / 10_000 - 0.7) < 0.02)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        // The gradient passes through the same mask.
        y.sum().backward()
        #expect(x.grad!.scalars == values)
        // Masks differ from call to call but repeat from the same seed.
        #expect(dropout(x).scalars != values)
        #expect(Dropout(probability: 0.3, seed: 5)(x).scalars == values)
    }

    @Test func dropoutIsTheIdentityInEvalModeAndAtTheExtremes() {
        let x = Tensor.randn([4, 5])
        #expect(Dropout(probability: 0.5).eval()(x).scalars == x.scalars)
        #expect(Dropout(probability: 0)(x).scalars == x.scalars)
        #expect(Dropout(probability: 1)(x).scalars.allSatisfy { $0 == 0 })
    }

    @Test func layerNormGradCheck() {
        var rng = RandomGenerator(seed: 12)
        let x = Tensor.randn([3, 2, 5], generator: &rng) * 2 + 0.5
        let gamma = Tensor.randn([5], generator: &rng) + 1
        let beta = Tensor.randn([5], generator: &rng)
        let weights = Tensor.randn([3, 2, 5], generator: &rng)
        let affine = GradCheck.check([x, gamma, beta]) { t in
            (t[0].layerNorm(normalizedShape: [5], weight: t[1], bias: t[2]) * weights).sum()
        }
        #expect(affine.passed, "\(affine)")
        let plain = GradCheck.check([x]) { t in (t[0].layerNorm(normalizedShape: [2, 5]) * weights).sum() }
        #expect(plain.passed, "\(plain)")
        let weightOnly = GradCheck.check([x, gamma]) { t in
            (t[0].layerNorm(normalizedShape: [5], weight: t[1], eps: 1e-3) * weights).sum()
        }
        #expect(weightOnly.passed, "\(weightOnly)")
    }

    @Test func layerNormWideRowsUseTheVectorPathsAndParallelColumns() {
        // 300 columns × 400 rows: the SIMD loops run full vectors plus a tail, and the affine gradient splits columns.
        var rng = RandomGenerator(seed: 13)
        let x = (Tensor.randn([400, 300], generator: &rng) * 3 + 100).requiringGrad()
        let norm = LayerNorm(300)
        let y = norm(x)
        let composite = noGrad { () -> Tensor in
            let mean = x.mean(axis: 1, keepDims: true)
            let centered = x - mean
            return centered / ((centered * centered).mean(axis: 1, keepDims: true) + 1e-5).sqrt()
        }
        expectClose(y, composite, rtol: 1e-3, atol: 1e-3, "layer norm vs composite")
        let g = Tensor.randn([400, 300], generator: &rng)
        (y * g).sum().backward()
        expectClose(norm.bias!.grad!, g.sum(axis: 0), rtol: 1e-4, atol: 1e-3, "∂β")
        expectClose(norm.weight!.grad!, (g * y.detached()).sum(axis: 0), rtol: 1e-3, atol: 1e-3, "∂γ")
        // Normalised rows are orthogonal to the constant and to x̂ directions: Σ ∂x = 0 per row (γ = 1).
        let rowSums = x.grad!.sum(axis: 1).scalars
        #expect(rowSums.allSatisfy { abs($0) < 1e-3 })
    }

    @Test func batchNormUsesRunningStatisticsInEvalMode() {
        let bn = BatchNorm1d(2, momentum: 0.5)
        let batch = Tensor([[1, 10], [3, 30]])
        _ = bn(batch)
        // running = 0.5·initial + 0.5·batch; unbiased variances are 2 and 200.
        #expect(bn.stateDict()["running_mean"]!.scalars == [1, 10])
        #expect(bn.stateDict()["running_var"]!.scalars == [1.5, 100.5])
        #expect(bn.stateDict()["num_batches_tracked"]!.item == 1)
        bn.eval()
        let y = bn(Tensor([[1, 10]]))
        expectClose(y, Tensor([[0, 0]]), "eval output at the running mean")
        #expect(bn.stateDict()["num_batches_tracked"]!.item == 1)
    }

    @Test func flattenAndIdentity() {
        let x = Tensor.randn([2, 3, 4, 5])
        #expect(Flatten()(x).shape == [2, 60])
        #expect(Flatten(startAxis: 1, endAxis: 2)(x).shape == [2, 12, 5])
        #expect(Flatten(startAxis: 0)(x).shape == [120])
        #expect(Identity()(x).scalars == x.scalars)
    }
}
