import Testing
@testable import Synapse

/// Behaviour the trajectory fixtures do not cover: shared-storage updates, skipped parameters, the parallel path,
/// state round trips, schedulers over groups and clipping of aliased gradients.
@Suite(.synapseRuntime) struct OptimizerTests {
    @Test func updateReachesEveryCopyOfTheParameter() {
        let owner = Tensor([1, 2, 3]).requiringGrad()
        let copyHeldByOptimizer = owner
        let optimizer = SGD(parameters: [copyHeldByOptimizer], learningRate: 0.5)
        (owner * owner).sum().backward()   // grad = 2p
        optimizer.step()
        #expect(owner.scalars == [0, 0, 0])
    }

    @Test func parametersWithoutGradientAreSkipped() {
        let used = Tensor([1, 1]).requiringGrad()
        let unused = Tensor([5, 5]).requiringGrad()
        let optimizer = Adam(parameters: [used, unused], learningRate: 0.1)
        used.sum().backward()
        optimizer.step()
        #expect(unused.scalars == [5, 5])
        #expect(used.scalars.allSatisfy { abs($0 - 0.9) < 1e-6 })  // Adam's first step moves by lr·sign(g)
        #expect(optimizer.stateDict()["state.1.step"] == nil)
    }

    @Test func zeroGradClearsGradients() {
        let p = Tensor([1, 2]).requiringGrad()
        let optimizer = SGD(parameters: [p], learningRate: 0.1)
        p.sum().backward()
        #expect(p.grad != nil)
        optimizer.zeroGrad()
        #expect(p.grad == nil)
    }

    /// Tensors above the parallel threshold are split across cores; every chunk must apply the same update.
    @Test(arguments: ["sgd", "adam", "adamw", "rmsprop"])
    func parallelPathMatchesSmallTensor(_ kind: String) {
        func make(_ p: Tensor) -> Optimizer {
            switch kind {
            case "sgd": return SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
            case "adam": return Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1, amsgrad: true)
            case "adamw": return AdamW(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
            default: return RMSProp(parameters: [p], learningRate: 0.01, weightDecay: 0.01, momentum: 0.9, centered: true)
            }
        }
        let count = 300_001
        let pattern: [Float] = [0.5, -1.5, 2, 0.25, -0.75]
        let big = Tensor((0..<count).map { pattern[$0 % 5] }).requiringGrad()
        let small = Tensor(pattern).requiringGrad()
        let (bigOptimizer, smallOptimizer) = (make(big), make(small))
        for step in 1...3 {
            big.grad = Tensor((0..<count).map { pattern[($0 + step) % 5] * Float(step) })
            small.grad = Tensor((0..<5).map { pattern[($0 + step) % 5] * Float(step) })
            bigOptimizer.step()
            smallOptimizer.step()
        }
        let (b, s) = (big.scalars, small.scalars)
        for i in [0, 1, 2, 3, 4, 65_536, 150_001, count - 1] {
            #expect(b[i] == s[i % 5], "\(kind): element \(i)")
        }
    }

    @Test func stateDictRoundTripContinuesIdentically() throws {
        let problem = { (p: Tensor) in ((p * p * p).sum() + (p * 3).sum()) }
        let a = Tensor([0.5, -1, 2]).requiringGrad()
        let first = Adam(parameters: [a], learningRate: 0.05, amsgrad: true)
        for _ in 0..<3 { first.zeroGrad(); problem(a).backward(); first.step() }

        let b = Tensor(shape: a.shape, scalars: a.scalars).requiringGrad()
        let second = Adam(parameters: [b], learningRate: 0.9, amsgrad: true)
        try second.load(stateDict: first.stateDict())
        #expect(second.learningRate == 0.05)
        for _ in 0..<3 {
            first.zeroGrad(); problem(a).backward(); first.step()
            second.zeroGrad(); problem(b).backward(); second.step()
        }
        #expect(a.scalars == b.scalars)
    }

    @Test func loadingMismatchedStateNamesTheKey() {
        let source = SGD(parameters: [Tensor([1, 2]).requiringGrad()], learningRate: 0.1, momentum: 0.9)
        source.parameters[0].sum().backward()
        source.step()
        let target = SGD(parameters: [Tensor([1, 2, 3]).requiringGrad()], learningRate: 0.1, momentum: 0.9)
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.0.momentum_buffer", expected: [3], found: [2])) {
            try target.load(stateDict: source.stateDict())
        }
        let plain = SGD(parameters: [Tensor([1, 2]).requiringGrad()], learningRate: 0.1)
        #expect(throws: OptimizerStateError.unexpectedKey("state.0.momentum_buffer")) {
            try plain.load(stateDict: source.stateDict())
        }
    }

    @Test func learningRateSetterAndSchedulerCoverEveryGroup() {
        let optimizer = SGD(groups: [
            ParameterGroup(parameters: [Tensor([1]).requiringGrad()], learningRate: 0.1),
            ParameterGroup(parameters: [Tensor([1]).requiringGrad()], learningRate: 0.01, weightDecay: 0.5),
        ])
        let scheduler = LearningRateScheduler(optimizer: optimizer, schedule: StepDecaySchedule(stepSize: 2, gamma: 0.5))
        scheduler.advance(); scheduler.advance()
        #expect(scheduler.counter == 2)
        #expect(optimizer.parameterGroups.map(\.learningRate) == [0.05, 0.005])
        optimizer.learningRate = 0.3
        #expect(optimizer.parameterGroups.map(\.learningRate) == [0.3, 0.3])
        #expect(optimizer.parameterGroups[1].weightDecay == 0.5)
    }

    @Test func cosineStaysAtTheMinimumAfterTheEnd() {
        let schedule = CosineAnnealingSchedule(totalSteps: 10, minimumLearningRate: 0.01)
        #expect(schedule.learningRate(at: 0, baseLearningRate: 1) == 1)
        #expect(abs(schedule.learningRate(at: 5, baseLearningRate: 1) - 0.505) < 1e-6)
        #expect(schedule.learningRate(at: 25, baseLearningRate: 1) == 0.01)
    }

    /// For (a + b).sum() autograd gives a and b the same gradient storage; clipping must scale it once.
    @Test func clippingScalesSharedGradientStorageOnce() {
        let a = Tensor([3, 0]).requiringGrad()
        let b = Tensor([0, 4]).requiringGrad()
        (a + b).sum().backward()
        let norm = GradientClipping.clipByGlobalNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 2) < 1e-6)  // two gradients of [1, 1]
        let expected = Float(1 / (2 + 1e-6))
        #expect(a.grad!.scalars.allSatisfy { abs($0 - expected) < 1e-6 })
        #expect(b.grad!.scalars.allSatisfy { abs($0 - expected) < 1e-6 })
    }

    @Test func clippingLeavesSmallAndNonFiniteGradientsAlone() {
        let p = Tensor([0.3, 0.4]).requiringGrad()
        p.grad = Tensor([0.3, 0.4])
        #expect(abs(GradientClipping.clipByGlobalNorm([p], maxNorm: 1) - 0.5) < 1e-7)
        #expect(p.grad!.scalars == [0.3, 0.4])
        p.grad = Tensor([.nan, 1])
        #expect(GradientClipping.clipByGlobalNorm([p], maxNorm: 1).isNaN)
        #expect(p.grad!.scalars[1] == 1)
    }
}

/// The extension point for optimizers written outside the library.
final class SignSGD: Optimizer {
    init(parameters: [Tensor], learningRate: Float) {
        super.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate)], bufferNames: ["unused"])
    }
    override func step() {
        forEachParameterWithGradient { b, state, group in
            #expect(state.buffers.count == 1 && state.buffers[0].count == b.count)
            for i in 0..<b.count {
                b.parameter[i] -= group.learningRate * (b.gradient[i] > 0 ? 1 : (b.gradient[i] < 0 ? -1 : 0))
            }
        }
    }
}

@Test(.synapseRuntime) func customOptimizerUsesTheSharedMachinery() {
    let p = Tensor([1, -2, 0]).requiringGrad()
    let optimizer = SignSGD(parameters: [p], learningRate: 0.5)
    (p * Tensor([3, -1, 0])).sum().backward()
    optimizer.step()
    #expect(p.scalars == [0.5, -1.5, 0])
    #expect(optimizer.stateDict()["state.0.step"]?.item == 1)
}

@Test(.synapseRuntime) func optimizerStateNeverGoesSubnormal() {
    // A parameter whose gradient is 0 after the first step: Adam's m decays by β₁ each step and would reach the
    // subnormal range (slow arithmetic on x86) after ~800 steps; it must be flushed to exactly 0 instead.
    let p = Tensor([1, 1]).requiringGrad()
    let adam = Adam(parameters: [p], learningRate: 1e-3)
    let sgd = SGD(parameters: [p], learningRate: 1e-3, momentum: 0.5)
    for step in 0..<900 {  // 0.1·0.9⁹⁰⁰ ≈ 7e-43: subnormal unless flushed
        p.grad = step == 0 ? Tensor([1, 1e-3]) : Tensor([0, 0])
        adam.step()
        sgd.step()
    }
    for optimizer in [adam, sgd] as [Optimizer] {
        for (_, state) in optimizer.stateDict() {
            for value in state.scalars { #expect(value == 0 || abs(value) >= Float.leastNormalMagnitude) }
        }
    }
}
