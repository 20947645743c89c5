import Foundation
import Testing
@testable import Synapse

/// The softmax row kernel's maximum (eight lanes) against the plain loop it replaced, on every length around the
/// lane count, with NaN and infinities; and what a row of −∞ or NaN gives (NaN, as PyTorch).
@Suite(.synapseRuntime) struct SoftmaxKernelTests {
    static func loopMaximum(_ x: [Float]) -> Float {
        var m = -Float.infinity
        for v in x where v > m || v.isNaN { m = v }
        return m
    }

    @Test func rowMaximumMatchesTheLoop() {
        var rng = RandomGenerator(seed: 5)
        for n in 0...40 {
            var x = (0..<n).map { _ in Float.random(in: -50...50, using: &rng) }
            let expected = Self.loopMaximum(x)
            #expect(Kernels.rowMaximum(x, n) == expected, "n = \(n)")
            guard n > 0 else { #expect(Kernels.rowMaximum(x, 0) == -.infinity); continue }
            x[(n * 5) % n] = .infinity
            #expect(Kernels.rowMaximum(x, n) == .infinity)
            x[(n * 3) % n] = .nan
            #expect(Kernels.rowMaximum(x, n).isNaN, "a NaN anywhere makes the maximum NaN (n = \(n))")
        }
    }

    @Test func degenerateRows() {
        var y = [Float](repeating: 0, count: 9)
        let allMasked = [Float](repeating: -.infinity, count: 9)
        Kernels.softmaxRow(allMasked, &y, 9, log: false)
        #expect(y.allSatisfy { $0.isNaN })
        var withNaN: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        withNaN[8] = .nan
        Kernels.softmaxRow(withNaN, &y, 9, log: false)
        #expect(y.allSatisfy { $0.isNaN })
        let plain: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
        Kernels.softmaxRow(plain, &y, 9, log: false)
        let total = plain.map { expf($0 - 8) }.reduce(0, +)
        for (p, x) in zip(y, plain) { #expect(abs(p - expf(x - 8) / total) < 1e-6) }
    }
}
