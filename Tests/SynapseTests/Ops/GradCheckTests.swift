import Testing
@testable import Synapse

/// Every differentiable op against central finite differences, including broadcasting and reused inputs.
@Suite(.synapseRuntime) struct OpGradientTests {
    var rng = RandomGenerator(seed: 7)

    /// Values in [−2, −0.2] ∪ [0.2, 2]: away from the kinks of relu, abs and clamp.
    mutating func smooth(_ shape: [Int]) -> Tensor {
        var t = Tensor.uniform(shape, low: 0.2, high: 2, generator: &rng)
        let signs = Tensor.uniform(shape, generator: &rng)
        t = Tensor.where(signs .> 0.5, t, -t)
        return t
    }

    mutating func positive(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: 0.5, high: 2, generator: &rng) }

    func expectPasses(_ inputs: [Tensor], _ label: String, _ f: ([Tensor]) -> Tensor,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let report = GradCheck.check(inputs, f)
        #expect(report.passed, "\(label): \(report)", sourceLocation: sourceLocation)
    }

    @Test mutating func arithmeticWithBroadcasting() {
        let a = smooth([3, 4]), b = smooth([4]), c = positive([3, 1]), w = smooth([3, 4])
        expectPasses([a, b], "add") { x in ((x[0] + x[1]) * w).sum() }
        expectPasses([a, b], "sub") { x in ((x[0] - x[1]) * w).sum() }
        expectPasses([a, c], "mul") { x in ((x[0] * x[1]) * w).sum() }
        expectPasses([a, c], "div") { x in ((x[0] / x[1]) * w).sum() }
        expectPasses([a], "neg") { x in (-x[0] * w).sum() }
        expectPasses([a], "scalar operands") { x in ((2 * x[0] + 1 - x[0] / 4) * w).sum() }
        expectPasses([a], "scalar on the left") { x in ((3 - x[0]) * w + 1 / (x[0] * x[0] + 1)).sum() }
    }

    @Test mutating func reusedTensorsAccumulate() {
        let a = smooth([2, 3])
        // b = a + a; c = b * b  =>  dc/da = 8a
        expectPasses([a], "b = a + a; c = b * b") { x in
            let b = x[0] + x[0]
            return (b * b).sum()
        }
        let leaf = a.requiringGrad()
        let b = leaf + leaf
        (b * b).sum().backward()
        let expected = (a * 8).scalars
        for (g, e) in zip(leaf.grad!.scalars, expected) { #expect(abs(g - e) < 1e-5) }
    }

    @Test mutating func powersAndTranscendentals() {
        let a = smooth([3, 3]), p = positive([3, 3]), e = smooth([3, 3])
        expectPasses([a], "pow 3") { x in x[0].pow(3).sum() }
        expectPasses([a], "pow 2") { x in x[0].pow(2).sum() }
        expectPasses([p, e], "pow tensor") { x in x[0].pow(x[1]).sum() }
        expectPasses([p], "sqrt") { x in x[0].sqrt().sum() }
        expectPasses([a], "exp") { x in (x[0].exp() * e).sum() }
        expectPasses([p], "log") { x in (x[0].log() * e).sum() }
        expectPasses([a], "abs") { x in (x[0].abs() * e).sum() }
        expectPasses([a], "clamp") { x in (x[0].clamped(min: -1, max: 1) * e).sum() }
    }

    @Test mutating func extremaAndWhere() {
        let a = smooth([4, 3]), b = smooth([3])
        expectPasses([a, b], "maximum") { x in (Tensor.maximum(x[0], x[1]) * a).sum() }
        expectPasses([a, b], "minimum") { x in (Tensor.minimum(x[0], x[1]) * a).sum() }
        let condition = a .> 0
        expectPasses([a, b], "where") { x in (Tensor.where(condition, x[0], x[1]) * a).sum() }
    }

    @Test mutating func activations() {
        let a = smooth([3, 5]), w = smooth([3, 5])
        expectPasses([a], "relu") { x in (x[0].relu() * w).sum() }
        expectPasses([a], "leaky relu") { x in (x[0].leakyRelu(negativeSlope: 0.1) * w).sum() }
        expectPasses([a], "sigmoid") { x in (x[0].sigmoid() * w).sum() }
        expectPasses([a], "tanh") { x in (x[0].tanh() * w).sum() }
        expectPasses([a], "gelu") { x in (x[0].gelu() * w).sum() }
        expectPasses([a], "gelu tanh") { x in (x[0].gelu(approximate: .tanh) * w).sum() }
        expectPasses([a], "silu") { x in (x[0].silu() * w).sum() }
        expectPasses([a], "softmax last axis") { x in (x[0].softmax(axis: -1) * w).sum() }
        expectPasses([a], "softmax axis 0") { x in (x[0].softmax(axis: 0) * w).sum() }
        expectPasses([a], "log softmax") { x in (x[0].logSoftmax(axis: 1) * w).sum() }
        expectPasses([a], "log softmax axis 0") { x in (x[0].logSoftmax(axis: 0) * w).sum() }
    }

    @Test mutating func reductions() {
        let a = smooth([2, 3, 4]), w2 = smooth([2, 4]), w1 = smooth([3])
        expectPasses([a], "sum all") { x in x[0].sum() * 2 }
        expectPasses([a], "sum axis") { x in (x[0].sum(axis: 1) * w2).sum() }
        expectPasses([a], "sum axes keepDims") { x in (x[0].sum(axes: [0, 2], keepDims: true).reshaped([3]) * w1).sum() }
        expectPasses([a], "mean") { x in (x[0].mean(axis: 1) * w2).sum() + x[0].mean() }
        expectPasses([a], "max axis") { x in (x[0].max(axis: 1) * w2).sum() }
        expectPasses([a], "min axis") { x in (x[0].min(axis: 1) * w2).sum() }
        expectPasses([a], "max all") { x in x[0].max() * 3 }
        expectPasses([a], "variance") { x in (x[0].variance(axis: 1) * w2).sum() }
        expectPasses([a], "variance all") { x in x[0].variance(correction: 0) }
    }

    @Test mutating func shapeOps() {
        let a = smooth([2, 3, 4]), w = smooth([4, 2, 3]), v = smooth([24])
        expectPasses([a], "reshape") { x in (x[0].reshaped(-1) * v).sum() }
        expectPasses([a], "permute") { x in (x[0].permuted([2, 0, 1]) * w).sum() }
        expectPasses([a], "transpose") { x in (x[0].transposed(0, 2).permuted([0, 2, 1]) * w).sum() }
        expectPasses([a], "slice") { x in (x[0].slice(axis: 2, 1..<3) * a.slice(axis: 2, 0..<2)).sum() }
        expectPasses([a], "subscript ranges") { x in (x[0][0..<1, 1..<3] * a[1..<2, 0..<2]).sum() }
        expectPasses([a], "gather with repeats") { x in (x[0].gather([2, 0, 2], axis: 1) * a.gather([0, 1, 2], axis: 1)).sum() }
        let b = smooth([2, 2, 4])
        expectPasses([a, b], "concat") { x in (Tensor.concat([x[0], x[1]], axis: 1) * Tensor.concat([a, b], axis: 1)).sum() }
        expectPasses([a, a], "stack") { x in (Tensor.stack([x[0], x[1]], axis: 1) * Tensor.stack([a, w.reshaped([2, 3, 4])], axis: 1)).sum() }
        expectPasses([a], "split") { x in
            let parts = x[0].split(sizes: [1, 3], axis: 2)
            return (parts[0] * parts[0]).sum() + (parts[1] * a.slice(axis: 2, 0..<3)).sum()
        }
        expectPasses([a], "squeeze/unsqueeze") { x in (x[0].unsqueezed(axis: 1).squeezed() * a).sum() }
    }

    @Test mutating func matmul() {
        let a = smooth([3, 4]), b = smooth([4, 5])
        expectPasses([a, b], "2-D") { x in (x[0].matmul(x[1]) * x[0].matmul(b)).sum() }
        let batch = smooth([2, 3, 4]), shared = smooth([4, 2])
        expectPasses([batch, shared], "batch × matrix") { x in x[0].matmul(x[1]).pow(2).sum() }
        let left = smooth([2, 1, 3, 4]), right = smooth([3, 4, 2])
        expectPasses([left, right], "broadcast batches") { x in x[0].matmul(x[1]).pow(2).sum() }
        let vector = smooth([4])
        expectPasses([a, vector], "matrix × vector") { x in x[0].matmul(x[1]).pow(2).sum() }
        expectPasses([vector, b], "vector × matrix") { x in x[0].matmul(x[1]).pow(2).sum() }
    }
}

@Suite(.synapseRuntime) struct LinearOpTests {
    @Test func matchesMatmulPlusBias() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randn([4, 3], generator: &rng), w = Tensor.randn([5, 3], generator: &rng), b = Tensor.randn([5], generator: &rng)
        let fused = x.linear(weight: w, bias: b)
        let reference = x.matmul(w.transposed()) + b
        for (a, e) in zip(fused.scalars, reference.scalars) { #expect(abs(a - e) < 1e-5) }
        let report = GradCheck.check([x, w, b]) { t in t[0].linear(weight: t[1], bias: t[2]).tanh().sum() }
        #expect(report.passed, "\(report)")
        let batched = GradCheck.check([Tensor.randn([2, 3, 3], generator: &rng), w]) { t in t[0].linear(weight: t[1]).pow(2).sum() }
        #expect(batched.passed, "\(batched)")
    }
}

@Suite(.synapseRuntime) struct CrossEntropyOpTests {
    @Test func matchesTheUnfusedDefinitionAndFiniteDifferences() {
        var rng = RandomGenerator(seed: 11)
        let logits = Tensor.randn([5, 4], generator: &rng) * 2
        let targets = [0, 3, 1, 1, 2]
        let picked = Tensor(shape: [5, 4], scalars: (0..<20).map { $0 % 4 == targets[$0 / 4] ? 1 : 0 })
        let reference = -(logits.logSoftmax(axis: 1) * picked).sum() / 5
        #expect(abs(logits.crossEntropy(targets: targets).item - reference.item) < 1e-5)
        let weights: [Float] = [1, 2, 0.5, 3]
        for reduction in [Tensor.Reduction.mean, .sum] {
            let report = GradCheck.check([logits]) { x in
                x[0].crossEntropy(targets: [0, 3, 1, -100, 2], classWeights: weights, ignoreIndex: -100, reduction: reduction)
            }
            #expect(report.passed, "\(report)")
        }
        let none = GradCheck.check([logits]) { x in (x[0].crossEntropy(targets: targets, reduction: .none) * Tensor([1, 2, 3, 4, 5])).sum() }
        #expect(none.passed, "\(none)")
    }
}
