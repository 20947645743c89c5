/// Times the `VectorMath` kernels over a large buffer, on one thread and split across cores with
/// `Parallel.forRanges`. Meant for a `synapse bench elementwise` command (run it from a release build); it returns
/// the numbers and prints nothing.
///
///     for m in VectorMathBench.run(count: 1 << 24) {
///         print(m.name, m.singleThreadMilliseconds, m.parallelMilliseconds)
///     }
enum VectorMathBench {
    /// Best-of-`repetitions` wall time of one kernel over the whole buffer.
    struct Measurement: Sendable {
        let name: String
        let count: Int
        let singleThreadMilliseconds: Double
        let parallelMilliseconds: Double
    }

    /// The unary kernels under test, by name.
    static let unaryKernels: [(name: String, kernel: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)] = [
        ("exp", VectorMath.exp), ("log", VectorMath.log), ("tanh", VectorMath.tanh),
        ("sigmoid", VectorMath.sigmoid), ("erf", VectorMath.erf), ("geluExact", VectorMath.geluExact),
        ("geluTanh", VectorMath.geluTanh), ("silu", VectorMath.silu),
    ]

    /// Runs every unary kernel plus the three backward kernels over `count` pseudo-random floats in [-4, 4)
    /// (their absolute values for `log`), out of place.
    static func run(count: Int = 1 << 24, repetitions: Int = 5) -> [Measurement] {
        precondition(count > 0 && repetitions > 0, "VectorMathBench.run: count and repetitions must be positive")
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let positive = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let grad = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            input.deallocate(); positive.deallocate(); grad.deallocate(); output.deallocate()
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<count {
            // xorshift64*: deterministic, cheap, good enough to defeat any value-dependent shortcut.
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            let u = Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 24)
            input[i] = 8 * u - 4
            positive[i] = Swift.abs(input[i])
            grad[i] = 1 - u
        }
        output.initialize(repeating: 0, count: count)

        var results: [Measurement] = []
        for (name, kernel) in unaryKernels {
            let source = UnsafePointer(name == "log" ? positive : input)
            results.append(measure(name, count, repetitions) { range in
                kernel(source + range.lowerBound, output + range.lowerBound, range.count)
            })
        }
        let backward: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)] = [
            ("geluExactBackward", { VectorMath.geluExactBackward(x: $0, gradOutput: $1, gradInput: $2, count: $3) }),
            ("geluTanhBackward", { VectorMath.geluTanhBackward(x: $0, gradOutput: $1, gradInput: $2, count: $3) }),
            ("siluBackward", { VectorMath.siluBackward(x: $0, gradOutput: $1, gradInput: $2, count: $3) }),
        ]
        for (name, kernel) in backward {
            results.append(measure(name, count, repetitions) { range in
                kernel(input + range.lowerBound, grad + range.lowerBound, output + range.lowerBound, range.count)
            })
        }
        return results
    }

    private static func measure(_ name: String, _ count: Int, _ repetitions: Int,
                                _ body: (Range<Int>) -> Void) -> Measurement {
        let clock = ContinuousClock()
        func best(_ once: () -> Void) -> Double {
            var fastest = Double.infinity
            for _ in 0..<repetitions {
                let elapsed = clock.measure(once)
                let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
                fastest = Swift.min(fastest, ms)
            }
            return fastest
        }
        let single = best { body(0..<count) }
        let parallel = best { Parallel.forRanges(count, body) }
        return Measurement(name: name, count: count, singleThreadMilliseconds: single, parallelMilliseconds: parallel)
    }
}
