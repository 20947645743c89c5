import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct TensorTests {
    @Test func creation() {
        #expect(Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor.full([2], 7).scalars == [7, 7])
        #expect(Tensor.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.identity(3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor([[1, 2], [3, 4]]).shape == [2, 2])
        #expect(Tensor(3).shape == [])
        #expect(Tensor(3).item == 3)
    }

    @Test func copyOnWrite() {
        let a = Tensor([1, 2, 3])
        var b = a
        b[1] = 20
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [1, 20, 3])
        // A reshape shares storage until written.
        var c = a.reshaped(3, 1)
        c[0, 0] = -1
        #expect(a[0] == 1)
    }

    @Test func seededRandomIsReproducible() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42), g3 = RandomGenerator(seed: 43)
        let a = Tensor.randn([100], generator: &g1), b = Tensor.randn([100], generator: &g2), c = Tensor.randn([100], generator: &g3)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars)
        var g = RandomGenerator(seed: 1)
        let big = Tensor.randn([100_000], generator: &g)
        #expect(abs(big.mean().item) < 0.02)
        #expect(abs(big.variance().item - 1) < 0.02)
        let u = Tensor.uniform([100_000], low: -1, high: 3, generator: &g)
        #expect(u.min().item >= -1 && u.max().item < 3)
        #expect(abs(u.mean().item - 1) < 0.02)
    }

    @Test func initialisersHaveTheirVariance() {
        var g = RandomGenerator(seed: 3)
        let xavier = Tensor.xavierUniform([300, 500], generator: &g)
        #expect(abs(xavier.variance().item - 2.0 / 800) < 2e-4)
        let kaiming = Tensor.kaimingNormal([256, 784], generator: &g)
        #expect(abs(kaiming.variance().item - 2.0 / 784) < 1e-4)
        let xn = Tensor.xavierNormal([300, 500], generator: &g)
        #expect(abs(xn.variance().item - 2.0 / 800) < 2e-4)
        let ku = Tensor.kaimingUniform([256, 784], generator: &g)
        #expect(abs(ku.variance().item - 2.0 / 784) < 1e-4)
    }

    @Test func broadcastingValues() {
        let a = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect((a + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * Tensor(shape: [2, 1], scalars: [1, -1])).scalars == [1, 2, 3, -4, -5, -6])
        #expect((Tensor(shape: [2, 1], scalars: [1, 2]) + Tensor([10, 20, 30])).scalars == [11, 21, 31, 12, 22, 32])
        let big = Tensor.ones([3, 1, 4]) * Tensor.arange(0, 5).reshaped(5, 1)
        #expect(big.shape == [3, 5, 4])
        #expect(big.sum().item == 3 * 4 * 10)
    }

    @Test func largeTensorsSplitAcrossCoresGiveTheSameResult() {
        var g = RandomGenerator(seed: 9)
        let x = Tensor.randn([300_001], generator: &g)
        let serial = x.scalars.map { max($0, 0) }
        #expect(x.relu().scalars == serial)
        let sum = x.scalars.reduce(0.0) { $0 + Double($1) }
        #expect(abs(Double(x.sum().item) - sum) < 1e-2)
        let m = Tensor.randn([700, 500], generator: &g)
        #expect(m.transposed().transposed().scalars == m.scalars)
        #expect(m.transposed()[3, 7] == m[7, 3])
    }

    @Test func reductionsAndArgmax() {
        let a = Tensor([[1, 5, 3], [7, 2, 9]])
        #expect(a.sum(axis: 0).scalars == [8, 7, 12])
        #expect(a.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(a.max(axis: 1).scalars == [5, 9])
        #expect(a.min(axis: 0).scalars == [1, 2, 3])
        #expect(a.argmax(axis: 1).scalars == [1, 2])
        #expect(a.argmaxRows() == [1, 2])
        #expect(a.mean().item == 27.0 / 6)
        #expect(abs(Tensor([1, 2, 3, 4]).variance().item - 1.6666666) < 1e-6)
    }

    @Test func comparisonsAndWhere() {
        let a = Tensor([1, 2, 3]), b = Tensor([3, 2, 1])
        #expect((a .> b).scalars == [0, 0, 1])
        #expect((a .== b).scalars == [0, 1, 0])
        #expect((a .<= 2).scalars == [1, 1, 0])
        #expect(Tensor.where(a .> 1, a, Tensor(0)).scalars == [0, 2, 3])
    }

    @Test func shapeOpsValues() {
        let a = Tensor.arange(0, 24).reshaped(2, 3, 4)
        #expect(a.permuted([2, 0, 1]).shape == [4, 2, 3])
        #expect(a.permuted([2, 0, 1])[1, 1, 2] == a[1, 2, 1])
        #expect(a[1..<2, 0..<1].scalars == [12, 13, 14, 15])
        #expect(a[row: 1].shape == [3, 4])
        #expect(a.gather([1, 1], axis: 0).shape == [2, 3, 4])
        let parts = a.split(count: 2, axis: 2)
        #expect(Tensor.concat(parts, axis: 2).scalars == a.scalars)
        #expect(Tensor.stack([a, a], axis: 1).shape == [2, 2, 3, 4])
        #expect(a.flattened().shape == [2, 12])
        #expect(a.reshaped(-1, 4).shape == [6, 4])
    }

    @Test func matmulValues() {
        let a = Tensor([[1, 2], [3, 4]]), b = Tensor([[5, 6], [7, 8]])
        #expect(a.matmul(b).scalars == [19, 22, 43, 50])
        #expect(a.matmul(Tensor([1, 1])).scalars == [3, 7])
        let batch = Tensor.stack([a, b]).matmul(Tensor.identity(2))
        #expect(batch.shape == [2, 2, 2])
        #expect(batch.scalars == Tensor.stack([a, b]).scalars)
    }

    @Test func softmaxIsStable() {
        let s = Tensor([[1000, 1001], [-1000, -1000]]).softmax(axis: 1)
        #expect(abs(s[0, 1] - 0.7310586) < 1e-6)
        #expect(s[1, 0] == 0.5)
        let l = Tensor([[1000, 1001]]).logSoftmax(axis: 1)
        #expect(abs(l[0, 0] + 1.3132616) < 1e-5)
    }

    @Test func description() {
        let text = Tensor([[1, 2], [3, 4]]).description
        #expect(text.contains("[[1., 2.],"))
        #expect(text.contains("shape: [2, 2]"))
        let grad = (Tensor([1.5, 2]).requiringGrad() * 2).description
        #expect(grad.contains("gradFn: mul"))
        #expect(Tensor.zeros([5000]).description.contains("..."))
    }
}

@Test(.synapseRuntime) func reluLetsNaNThrough() {
    let y = Tensor([-1, .nan, 2]).relu().scalars
    #expect(y[0] == 0 && y[1].isNaN && y[2] == 2)
}
