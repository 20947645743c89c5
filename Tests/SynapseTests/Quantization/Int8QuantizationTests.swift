import Foundation
import Testing
@testable import Synapse

/// Rows of very different magnitudes, as in real weight matrices.
private func skewedMatrix(rows: Int, columns: Int, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    var values: [Float] = []
    for r in 0..<rows {
        let magnitude = Float(r + 1) * 0.05
        for _ in 0..<columns { values.append(rng.nextNormal() * magnitude) }
    }
    return Tensor(shape: [rows, columns], scalars: values)
}

@Suite(.synapseRuntime) struct Int8QuantizationTests {
    @Test func notesWorkedExample() {
        // max|x| = 3.2: 0.1 → round(0.1 × 127 / 3.2) = round(3.97) = 4 → 4 × 3.2 / 127 ≈ 0.1008.
        let q = QuantizedTensor(Tensor([0.1, -3.2, 1.6, 0]), scheme: .absmax, granularity: .perTensor)
        #expect(q.values == [4, -127, 64, 0])
        #expect(abs(q.scales[0] - 3.2 / 127) < 1e-9)
        let back = q.dequantized().scalars
        #expect(abs(back[0] - 0.100787) < 1e-5)
        #expect(back[1] == -3.2)
        #expect(back[3] == 0)
    }

    @Test func absmaxUsesTheSymmetricRangeAndHalfAStepOfError() {
        let x = skewedMatrix(rows: 6, columns: 50, seed: 1)
        for granularity in QuantizationGranularity.allCases {
            let q = QuantizedTensor(x, scheme: .absmax, granularity: granularity)
            #expect(q.values.allSatisfy { $0 >= -127 })
            #expect(q.zeroPoints.allSatisfy { $0 == 0 })
            #expect(q.values.contains { $0 == 127 || $0 == -127 })
            let error = QuantizationError(original: x, reconstructed: q.dequantized())
            #expect(error.maxAbsolute <= q.scales.max()! / 2 * 1.0001)
        }
    }

    @Test func zeroPointSpendsAllLevelsOnSkewedDataAndKeepsZeroExact() {
        // ReLU-like values in [0, 6]: absmax wastes the negative half of its codes.
        var rng = RandomGenerator(seed: 2)
        let x = Tensor(shape: [1000], scalars: (0..<1000).map { _ in 6 * rng.nextUniform() } + [])
        let asymmetric = QuantizedTensor(x, scheme: .zeroPoint, granularity: .perTensor)
        let symmetric = QuantizedTensor(x, scheme: .absmax, granularity: .perTensor)
        #expect(asymmetric.zeroPoints == [-128])
        #expect(asymmetric.values.min()! == -128 && asymmetric.values.max()! == 127)
        let asymmetricError = QuantizationError(original: x, reconstructed: asymmetric.dequantized())
        let symmetricError = QuantizationError(original: x, reconstructed: symmetric.dequantized())
        #expect(asymmetricError.meanAbsolute < 0.6 * symmetricError.meanAbsolute)
        #expect(asymmetricError.sqnrDecibels > symmetricError.sqnrDecibels + 4)

        // A range that does not contain 0 is widened so that 0 is a code.
        let shifted = QuantizedTensor(Tensor([-3, -1, 0.5, 0]), scheme: .zeroPoint, granularity: .perTensor)
        #expect(shifted.dequantized().scalars[3] == 0)
        let error = QuantizationError(original: Tensor([-3, -1, 0.5, 0]), reconstructed: shifted.dequantized())
        #expect(error.maxAbsolute <= shifted.scales[0] / 2 * 1.0001)
    }

    @Test func perChannelBeatsPerTensorOnSkewedRows() {
        let x = skewedMatrix(rows: 8, columns: 64, seed: 3)
        for scheme in Int8Scheme.allCases {
            let perTensor = QuantizedTensor(x, scheme: scheme, granularity: .perTensor)
            let perChannel = QuantizedTensor(x, scheme: scheme, granularity: .perChannel)
            #expect(perTensor.scales.count == 1 && perChannel.scales.count == 8)
            let a = QuantizationError(original: x, reconstructed: perTensor.dequantized())
            let b = QuantizationError(original: x, reconstructed: perChannel.dequantized())
            #expect(b.sqnrDecibels > a.sqnrDecibels + 3, "\(scheme): per tensor \(a), per channel \(b)")
        }
    }

    @Test func errorStatistics() {
        let error = QuantizationError(original: Tensor([1, -2, 3, 0]), reconstructed: Tensor([1.5, -2, 3, -0.5]))
        #expect(error.maxAbsolute == 0.5)
        #expect(error.meanAbsolute == 0.25)
        // SQNR = 10 log10(14 / 0.5)
        #expect(abs(error.sqnrDecibels - 14.4716) < 1e-3)
        #expect(QuantizationError(original: Tensor([1, 2]), reconstructed: Tensor([1, 2])).sqnrDecibels == .infinity)
    }

    @Test func roundingTiesToEvenAndClampingLikePyTorch() {
        // Scale 1: 2.5 → 2, 3.5 → 4, −2.5 → −2 (nearbyint); out-of-range values clamp; NaN cannot trap.
        let q = QuantizedTensor(Tensor([2.5, 3.5, -2.5, 500, -500, .nan]), scales: [1], zeroPoints: [0], scheme: .absmax)
        #expect(Array(q.values.prefix(5)) == [2, 4, -2, 127, -127])
        let z = QuantizedTensor(Tensor([0, 1000]), scales: [1], zeroPoints: [-128], scheme: .zeroPoint)
        #expect(z.values == [-128, 127])
    }

    @Test func constantTensorsDoNotDivideByZero() {
        for scheme in Int8Scheme.allCases {
            let q = QuantizedTensor(Tensor(shape: [2, 3], scalars: [Float](repeating: 0, count: 6)), scheme: scheme, granularity: .perChannel)
            #expect(q.dequantized().scalars == [Float](repeating: 0, count: 6))
        }
    }
}
