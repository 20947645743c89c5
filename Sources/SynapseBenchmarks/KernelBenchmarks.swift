import Synapse
/// The kernel benchmarks behind `synapse bench sgemm` and `synapse bench elementwise`.
///
/// `scripts/bench_numpy.py` runs the same sizes and the same timing rule (median of repeated runs) in NumPy.
public enum KernelBenchmarks {
    public struct Result: Sendable {
        public var name: String
        public var size: Int
        public var seconds: Double
        /// GFLOP/s for sgemm, GB/s of memory traffic for elementwise ops.
        public var rate: Double
        public var unit: String
    }

    /// C = A·B for square n×n Float32 matrices: 2n³ flops per product.
    public static func sgemm(sizes: [Int] = [256, 512, 1024, 2048]) -> [Result] {
        var rng = RandomGenerator(seed: 1)
        return sizes.map { n in
            let a = Tensor.randn([n, n], generator: &rng), b = Tensor.randn([n, n], generator: &rng)
            let t = Stopwatch.median(minimumRuns: 5, minimumSeconds: 1) { _ = noGrad { a.matmul(b) } }
            return Result(name: "sgemm", size: n, seconds: t, rate: 2 * Double(n * n * n) / t / 1e9, unit: "GFLOP/s")
        }
    }

    /// Elementwise ops over `count` floats (16M by default). GB/s counts bytes read plus bytes written.
    public static func elementwise(count: Int = 1 << 24) -> [Result] {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.randn([count], generator: &rng), y = Tensor.randn([count], generator: &rng)
        let bytes1 = Double(2 * count * 4), bytes2 = Double(3 * count * 4)
        let cases: [(String, Double, () -> Void)] = [
            ("relu", bytes1, { _ = x.relu() }),
            ("add", bytes2, { _ = x + y }),
            ("mul", bytes2, { _ = x * y }),
            ("exp", bytes1, { _ = x.exp() }),
            ("tanh", bytes1, { _ = x.tanh() }),
            ("sigmoid", bytes1, { _ = x.sigmoid() }),
            ("sum", Double(count * 4), { _ = x.sum() }),
        ]
        return cases.map { name, bytes, body in
            let t = noGrad { Stopwatch.median(minimumRuns: 10, minimumSeconds: 1, body) }
            return Result(name: name, size: count, seconds: t, rate: bytes / t / 1e9, unit: "GB/s")
        }
    }
}
