/// NumPy's default random generator (`numpy.random.default_rng(seed)`: a `SeedSequence` feeding PCG64), so that an
/// environment reset with a seed starts from exactly the state Gymnasium starts from with that seed.
///
/// Gymnasium seeds every environment through `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))` and
/// draws initial states with `uniform(low, high)`. Reproducing the three pieces bit for bit costs about a hundred lines
/// and buys a property worth having: `CartPole().reset(seed: 42)` and `gymnasium.make("CartPole-v1").reset(seed=42)`
/// return the same numbers, so trajectories can be compared step for step (see `EnvironmentTests`).
///
/// ```swift
/// var rng = NumPyRandom(seed: 42)
/// rng.nextDouble()          // == np.random.default_rng(42).random()
/// ```
public struct NumPyRandom: Sendable {
    private var state: UInt128Parts
    private let increment: UInt128Parts

    /// PCG64's 128-bit LCG multiplier (pcg64.h, PCG_DEFAULT_MULTIPLIER_128).
    private static let multiplier = UInt128Parts(high: 0x2360_ED05_1FC6_5DA4, low: 0x4385_DF64_9FCC_F645)

    /// The generator `np.random.default_rng(seed)` makes.
    public init(seed: UInt64) {
        let words = SeedSequence(entropy: seed).generateState(words64: 4)
        // pcg64_set_seed: the first two words are the 128-bit initial state (high word first), the next two the stream.
        let initialState = UInt128Parts(high: words[0], low: words[1])
        let sequence = UInt128Parts(high: words[2], low: words[3])
        increment = UInt128Parts(high: (sequence.high << 1) | (sequence.low >> 63), low: (sequence.low << 1) | 1)
        state = UInt128Parts(high: 0, low: 0)
        step()
        state = state.adding(initialState)
        step()
    }

    private mutating func step() {
        state = state.multiplied(by: Self.multiplier).adding(increment)
    }

    /// The generator's whole state as four words (state and increment, high word first), for a checkpoint.
    public var words: [UInt64] { [state.high, state.low, increment.high, increment.low] }

    /// A generator continuing from `words`; nil unless there are four of them and the increment is odd (PCG64's).
    public init?(words: [UInt64]) {
        guard words.count == 4, words[3] & 1 == 1 else { return nil }
        state = UInt128Parts(high: words[0], low: words[1])
        increment = UInt128Parts(high: words[2], low: words[3])
    }

    /// The next 64 random bits (PCG64's XSL-RR output of the advanced state).
    public mutating func next() -> UInt64 {
        step()
        let folded = state.high ^ state.low
        let rotation = state.high >> 58
        return (folded >> rotation) | (folded << ((64 - rotation) & 63))
    }

    /// A double in [0, 1) from the top 53 bits, as `Generator.random()` does.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.uniform(low, high)`: low + (high − low)·u.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextDouble()
    }
}

/// A 128-bit unsigned integer as two words, enough for PCG64's multiply-and-add (Swift's `UInt128` needs macOS 15).
struct UInt128Parts: Equatable, Sendable {
    var high: UInt64
    var low: UInt64

    func adding(_ other: UInt128Parts) -> UInt128Parts {
        let (low, carry) = self.low.addingReportingOverflow(other.low)
        return UInt128Parts(high: high &+ other.high &+ (carry ? 1 : 0), low: low)
    }

    /// The product modulo 2^128.
    func multiplied(by other: UInt128Parts) -> UInt128Parts {
        let (productHigh, productLow) = low.multipliedFullWidth(by: other.low)
        return UInt128Parts(high: productHigh &+ high &* other.low &+ low &* other.high, low: productLow)
    }
}

/// NumPy's `SeedSequence` for one non-negative integer seed and no spawn key: it hashes the seed's 32-bit words into
/// a four-word pool and expands the pool into as many state words as the bit generator asks for.
struct SeedSequence {
    private static let poolSize = 4
    private static let initA: UInt32 = 0x43B0_D7E5
    private static let multA: UInt32 = 0x931E_8875
    private static let initB: UInt32 = 0x8B51_F9DD
    private static let multB: UInt32 = 0x58F3_8DED
    private static let mixMultL: UInt32 = 0xCA01_F9DD
    private static let mixMultR: UInt32 = 0x4973_F715
    private static let xShift: UInt32 = 16

    private(set) var pool: [UInt32]

    init(entropy: UInt64) {
        // _coerce_to_uint32_array: little-endian 32-bit words, at least one.
        let entropyWords: [UInt32] = entropy >> 32 == 0 ? [UInt32(entropy)] : [UInt32(truncatingIfNeeded: entropy), UInt32(entropy >> 32)]
        var hashConstant = Self.initA
        func hashmix(_ value: UInt32) -> UInt32 {
            var value = value ^ hashConstant
            hashConstant = hashConstant &* Self.multA
            value = value &* hashConstant
            return value ^ (value >> Self.xShift)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let result = Self.mixMultL &* x &- Self.mixMultR &* y
            return result ^ (result >> Self.xShift)
        }
        var pool = (0..<Self.poolSize).map { i in hashmix(i < entropyWords.count ? entropyWords[i] : 0) }
        for source in 0..<Self.poolSize {
            for destination in 0..<Self.poolSize where source != destination {
                pool[destination] = mix(pool[destination], hashmix(pool[source]))
            }
        }
        // A seed has at most two words, never more than the pool: no remaining entropy to fold in.
        self.pool = pool
    }

    /// `generate_state(n, np.uint64)`: 2n 32-bit words cycled out of the pool, paired little-endian.
    func generateState(words64 count: Int) -> [UInt64] {
        var hashConstant = Self.initB
        var words: [UInt32] = []
        for i in 0..<(2 * count) {
            var value = pool[i % Self.poolSize] ^ hashConstant
            hashConstant = hashConstant &* Self.multB
            value = value &* hashConstant
            words.append(value ^ (value >> Self.xShift))
        }
        return (0..<count).map { UInt64(words[2 * $0]) | (UInt64(words[2 * $0 + 1]) << 32) }
    }
}
