import Foundation

/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random op takes one of these `inout`, so a run that starts from the same seed draws the same numbers.
///
/// ```swift
/// var rng = RandomGenerator(seed: 42)
/// let w = Tensor.randn([3, 4], generator: &rng)
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// The four words of the generator's state: saved in a training checkpoint, so a resumed run draws on.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3] }
        set {
            precondition(newValue.count == 4, "RandomGenerator.state: needs 4 words, got \(newValue.count)")
            (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded so draws stay independent of batching).
    @inline(__always)
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// A uniform integer in 0..<bound.
    public mutating func nextInt(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next(upperBound: UInt64(bound)))
    }
}

/// The process-wide generator used when an op is not given one; `Random.seed(_:)` makes runs reproducible.
public enum Random {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared = RandomGenerator(seed: 0x5EED)

    /// Reseeds the process-wide generator (like `torch.manual_seed`).
    public static func seed(_ seed: UInt64) {
        lock.lock(); defer { lock.unlock() }
        shared = RandomGenerator(seed: seed)
    }

    /// A generator of its own, seeded from the process-wide one: what layers use when they are not given one, so a
    /// `Random.seed(_:)` at the start makes a whole model's initialisation repeat.
    public static func independentGenerator() -> RandomGenerator {
        withGenerator { RandomGenerator(seed: $0.next()) }
    }

    /// Runs `body` with exclusive access to the process-wide generator.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&shared)
    }
}
