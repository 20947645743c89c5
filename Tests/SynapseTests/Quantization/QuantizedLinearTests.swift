import Foundation
import Testing
@testable import Synapse

/// What an integer layer must compute, written with Float32 ops: the product of the dequantized input codes and the
/// dequantized weight codes, plus the bias.
private func reference(_ layer: QuantizedLinear, _ input: Tensor) -> Tensor {
    let k = layer.inputFeatures
    let rows = input.count / k
    var dequantizedInput: [Float] = []
    for r in 0..<rows {
        let row = input.slice(axis: 0, r..<(r + 1))
        let q: QuantizedTensor
        switch layer.activations {
        case .dynamic: q = QuantizedTensor(row, scheme: .absmax, granularity: .perTensor)
        case let .static(scale, zeroPoint, scheme): q = QuantizedTensor(row, scales: [scale], zeroPoints: [zeroPoint], scheme: scheme)
        }
        dequantizedInput += q.dequantized().scalars
    }
    return Tensor(shape: [rows, k], scalars: dequantizedInput).linear(weight: layer.weight.dequantized(), bias: layer.bias)
}

@Suite(.synapseRuntime) struct QuantizedLinearTests {
    @Test(arguments: [(1, 13, 7), (3, 16, 8), (5, 37, 9), (64, 40, 12)])
    func integerProductMatchesTheDequantizedProduct(rows: Int, inputs: Int, outputs: Int) {
        var rng = RandomGenerator(seed: UInt64(rows * 100 + inputs))
        let linear = Linear(inputs, outputs, generator: &rng)
        let x = Tensor.uniform([rows, inputs], low: -1, high: 2, generator: &rng)
        for scheme in Int8Scheme.allCases {
            for granularity in QuantizationGranularity.allCases {
                for activations: ActivationQuantization in [.dynamic, .static(scale: 3.0 / 255, zeroPoint: -43, scheme: .zeroPoint),
                                                            .static(scale: 2.0 / 127, zeroPoint: 0, scheme: .absmax)] {
                    let layer = QuantizedLinear(linear, scheme: scheme, granularity: granularity, activations: activations)
                    let y = noGrad { layer(x) }
                    // Integer accumulation is exact; only the final Float32 rescale rounds.
                    expectClose(y, reference(layer, x), rtol: 1e-4, atol: 1e-5, "\(scheme) \(granularity) \(activations)")
                    // And the whole thing stays close to the Float32 layer.
                    let float = noGrad { linear(x) }
                    expectClose(y, float, rtol: 0.05, atol: 0.05, "vs float")
                }
            }
        }
    }

    @Test func keepsLeadingDimensionsAndMatchesAcrossBatchSizes() {
        var rng = RandomGenerator(seed: 9)
        let layer = QuantizedLinear(Linear(24, 10, generator: &rng), scheme: .absmax, granularity: .perChannel)
        let x = Tensor.uniform([2, 3, 24], low: -1, high: 1, generator: &rng)
        let y = layer(x)
        #expect(y.shape == [2, 3, 10])
        // Dynamic quantization is per row, so a row gives the same answer alone (GEMV path) or in a batch (GEMM path).
        let single = layer(x.reshaped([6, 24]).slice(axis: 0, 4..<5))
        #expect(single.scalars == Array(y.scalars[40..<50]))
    }
}

@Suite(.synapseRuntime) struct FakeQuantizeTests {
    @Test func forwardRoundsToTheGridAndBackwardPassesStraightThrough() {
        let x = Tensor([0.1, -3.2, 0.5, 9]).requiringGrad()
        // Step 0.05 and codes in [−127, 127] cover [−6.35, 6.35]: 9 is outside.
        let y = x.fakeQuantized(scales: [0.05], zeroPoints: [0], scheme: .absmax)
        let expected: [Float] = [0.1, -3.2, 0.5, 127 * 0.05]
        for (a, b) in zip(y.scalars, expected) { #expect(abs(a - b) < 1e-6) }
        y.sum().backward()
        // 9 was clipped: no gradient there (the straight-through estimator with clipping).
        #expect(x.grad?.scalars == [1, 1, 1, 0])
    }

    @Test func perChannelMatchesQuantizedTensor() {
        var rng = RandomGenerator(seed: 4)
        let w = Tensor.normal([4, 9], generator: &rng)
        let q = QuantizedTensor(w, scheme: .zeroPoint, granularity: .perChannel)
        let fake = w.fakeQuantized(scales: q.scales, zeroPoints: q.zeroPoints, scheme: .zeroPoint)
        expectClose(fake, q.dequantized(), rtol: 1e-6, atol: 1e-7)
    }

    @Test func movingMinMax() {
        var observer = MovingMinMax(momentum: 0.5)
        #expect(!observer.isInitialized)
        observer.update(minimum: -1, maximum: 3)
        observer.update(minimum: -3, maximum: 5)
        #expect(observer.minimum == -2 && observer.maximum == 4)
    }
}
