import Foundation

/// SplitMix64: a tiny, fast, seedable generator, so the scalar engine's weights and toy data are the same on
/// every machine and every run (the system generator cannot be seeded).
struct ScalarSplitMix: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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
