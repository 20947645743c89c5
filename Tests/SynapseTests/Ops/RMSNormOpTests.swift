import Foundation
import Testing
@testable import Synapse

/// The fused ops of the Llama block against their compositions.
@Suite("RMSNorm, SwiGLU and the fused head + cross-entropy", .synapseRuntime)
struct RMSNormOpTests {
    @Test func rmsNormMatchesItsCompositionAndFiniteDifferences() {
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.randn([3, 5, 24], generator: &rng) * 2
        let w = Tensor.randn([24], generator: &rng)
        let g = Tensor.randn([3, 5, 24], generator: &rng)
        let (a, b) = (x.requiringGrad(), x.requiringGrad())
        let (wa, wb) = (w.requiringGrad(), w.requiringGrad())
        let fused = a.rmsNorm(weight: wa, eps: 1e-5), reference = b.referenceRMSNorm(weight: wb, eps: 1e-5)
        expectClose(fused, reference, rtol: 1e-5, atol: 1e-6, "forward")
        fused.backward(g)
        reference.backward(g)
        expectClose(a.grad!, b.grad!, rtol: 1e-4, atol: 1e-5, "∂x")
        expectClose(wa.grad!, wb.grad!, rtol: 1e-4, atol: 1e-5, "∂w")
        let weights = Tensor.randn([4, 16], generator: &rng)
        let checked = GradCheck.check([Tensor.randn([4, 16], generator: &rng), Tensor.randn([16], generator: &rng)]) { t in
            (t[0].rmsNorm(weight: t[1], eps: 1e-5) * weights).sum()
        }
        #expect(checked.passed, "\(checked)")
    }

    @Test func swiGLUMatchesSiluTimesUp() {
        var rng = RandomGenerator(seed: 2)
        let gate = Tensor.randn([7, 33], generator: &rng) * 3, up = Tensor.randn([7, 33], generator: &rng)
        let dy = Tensor.randn([7, 33], generator: &rng)
        let (g1, u1, g2, u2) = (gate.requiringGrad(), up.requiringGrad(), gate.requiringGrad(), up.requiringGrad())
        let fused = g1.swiGLU(up: u1), reference = g2.silu() * u2
        expectClose(fused, reference, rtol: 1e-6, atol: 1e-6, "forward")
        fused.backward(dy)
        reference.backward(dy)
        expectClose(g1.grad!, g2.grad!, rtol: 1e-5, atol: 1e-6, "∂gate")
        expectClose(u1.grad!, u2.grad!, rtol: 1e-5, atol: 1e-6, "∂up")
        let checked = GradCheck.check([Tensor.randn([3, 8], generator: &rng), Tensor.randn([3, 8], generator: &rng)]) { t in
            t[0].swiGLU(up: t[1]).sum()
        }
        #expect(checked.passed, "\(checked)")
    }

    @Test(arguments: [false, true])
    func linearCrossEntropyMatchesTheLinearAndTheLoss(blocks: Bool) {
        var rng = RandomGenerator(seed: 3)
        let w = Tensor.randn([300, 64], generator: &rng)
        let weight: FrozenWeight = blocks ? .blocks(GGMLMatrix(quantizing: w, to: .q8_0)) : .dense(w)
        let dense = blocks ? GGMLMatrix(quantizing: w, to: .q8_0).dequantized() : w
        let x = Tensor.randn([10, 64], generator: &rng)
        let targets = (0..<10).map { ($0 * 37) % 300 }
        let (a, b) = (x.requiringGrad(), x.requiringGrad())
        let fused = a.linearCrossEntropy(frozen: weight, targets: targets)
        let reference = b.linear(weight: dense).crossEntropy(targets: targets, reduction: .sum)
        #expect(abs(fused.item - reference.item) <= 1e-5 * abs(reference.item))
        (fused * 0.5).backward()
        (reference * 0.5).backward()
        expectClose(a.grad!, b.grad!, rtol: 1e-4, atol: 1e-5, "∂x")
    }
}
