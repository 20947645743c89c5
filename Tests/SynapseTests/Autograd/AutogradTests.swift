import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct AutogradTests {
    @Test func chainRuleThroughANeuron() {
        // The notes' neuron: a = tanh(w·x + b); da/dw = (1 − a²)·x.
        let x = Tensor([2, 0]), w = Tensor([-3, 1]).requiringGrad(), b = Tensor(6.8813735870195432).requiringGrad()
        let a = ((w * x).sum() + b).tanh()
        a.backward()
        #expect(abs(a.item - 0.7071) < 1e-4)
        #expect(abs(w.grad![0] - 1.0) < 1e-4)
        #expect(abs(w.grad![1] - 0.0) < 1e-6)
        #expect(abs(b.grad!.item - 0.5) < 1e-4)
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [5, 5, 5])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    /// A tensor used several times sums its contributions in place, but never into a buffer someone else holds: a
    /// gradient that two inputs received as the same tensor, or a leaf's grad the caller kept from an earlier pass.
    @Test func accumulationInPlaceKeepsSharedGradientsIntact() {
        let x = Tensor([1, 2, 3]).requiringGrad()
        let h = x * Tensor([2, 2, 2])
        ((h + h) + h * Tensor([3, 3, 3])).sum().backward()  // ∂/∂h = 1 + 1 + 3, ∂/∂x = 5 · 2
        #expect(x.grad!.scalars == [10, 10, 10])
        let kept = x.grad!
        ((x + x) * Tensor([1, 2, 3])).sum().backward()       // adds 2 · [1, 2, 3] to the leaf's grad
        #expect(x.grad!.scalars == [12, 14, 16])
        #expect(kept.scalars == [10, 10, 10], "the caller's copy of the earlier grad is not written")
    }

    @Test func noGradRecordsNothing() {
        let x = Tensor([1, 2]).requiringGrad()
        let y = noGrad { x * x }
        #expect(!y.requiresGrad)
        let z = x.detached() * x.detached()
        #expect(!z.requiresGrad)
        #expect((x * 2).requiresGrad)
        #expect((x * 2).gradientOp == "mul")
    }

    @Test func backwardWithUpstreamGradient() {
        let x = Tensor([[1, 2], [3, 4]]).requiringGrad()
        let y = x * x
        y.backward(Tensor([[1, 0], [0, 1]]))
        #expect(x.grad!.scalars == [2, 0, 0, 8])
    }

    @Test func deepChainsNeedNoRecursion() {
        // 20,000 ops deep: both the backward walk and releasing the graph must be iterative.
        let x = Tensor([0.5]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0 + 0.0 }
        y.sum().backward()
        #expect(x.grad!.scalars == [1])
    }

    @Test func broadcastGradientsReduceToOperandShape() {
        let a = Tensor.ones([4, 3]).requiringGrad(), bias = Tensor([1, 2, 3]).requiringGrad()
        (a + bias).sum().backward()
        #expect(bias.grad!.shape == [3])
        #expect(bias.grad!.scalars == [4, 4, 4])
    }

    @Test func nonScalarBackwardWithoutGradientStops() async {
        await #expect(processExitsWith: .failure) {
            let x = Tensor([1, 2]).requiringGrad()
            (x * 2).backward()
        }
    }

    @Test func shapeMismatchStopsNamingOpAndShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("add: shapes [2, 3] and [4] cannot be broadcast together"))
    }

    @Test func matmulMismatchNamesShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("matmul: inner dimensions differ: [2, 3] × [4, 5]"))
    }
}
