/// The seeded random generator the data pipeline shuffles with (SplitMix64).
///
/// Small, fast and reproducible on every platform. It is kept separate from the tensor library's generator on
/// purpose: `DataLoader` takes any `RandomNumberGenerator` factory, so the project-wide generator can replace it
/// without changing shuffling code.
///
/// ```swift
/// var rng = ShuffleGenerator(seed: 42)
/// var order = Array(0..<10)
/// ShuffleGenerator.shuffle(&order, using: &rng)
/// ```
public struct ShuffleGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle whose result depends only on the generator's outputs, not on the standard library's
    /// (unspecified) `shuffle` algorithm, so a seed gives the same order on every Swift version.
    public static func shuffle<G: RandomNumberGenerator>(_ values: inout [Int], using generator: inout G) {
        guard values.count > 1 else { return }
        values.withUnsafeMutableBufferPointer { v in
            for i in stride(from: v.count - 1, to: 0, by: -1) {
                // Multiply-high maps 64 random bits onto 0...i; the bias (< i / 2^64) is irrelevant here.
                let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
                v.swapAt(i, j)
            }
        }
    }
}
