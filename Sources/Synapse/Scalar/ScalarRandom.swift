import Foundation

/// Double-precision draws for the scalar engine's weights and toy data, from the library's seeded generator.
extension RandomGenerator {
    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }

    /// Standard normal by Box–Muller; one draw per call keeps the sequence easy to reason about.
    mutating func gaussian() -> Double {
        let u1 = max(uniform(0, 1), .leastNonzeroMagnitude)
        let u2 = uniform(0, 1)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }
}
