import Testing
@testable import Synapse

/// The fused attention kernels against `referenceAttention` (matmul, mask, softmax, matmul): outputs and the
/// gradients of Q, K and V on random shapes, causal or not, with and without padded keys, and the KV-cache path.
@Suite(.synapseRuntime) struct AttentionOpOracleTests {
    struct Case: CustomStringConvertible {
        let batch: Int, queries: Int, keys: Int, heads: Int, headSize: Int
        let causal: Bool, keyLengths: [Int]?
        let query: Tensor, key: Tensor, value: Tensor, outputWeight: Tensor
        var features: Int { heads * headSize }
        var description: String {
            "B=\(batch) Tq=\(queries) Tk=\(keys) H=\(heads) d=\(headSize) causal=\(causal) lengths=\(keyLengths ?? [])"
        }

        /// `long`: sequences past the kernel's 24-row blocks (`AttentionGeometry.blockRows`), where causal products
        /// stop at each block's last visible key.
        init(seed: UInt64, selfAttention: Bool = false, long: Bool = false) {
            var rng = RandomGenerator(seed: seed)
            func size(_ range: ClosedRange<Int>) -> Int { range.lowerBound + rng.nextInt(below: range.count) }
            (batch, heads, headSize) = (size(1...3), size(1...4), size(1...8))
            keys = long ? size(25...75) : size(1...9)
            // A causal query sees keys up to its own position, so Tq ≤ Tk keeps every row non-empty.
            causal = seed % 2 == 1
            queries = selfAttention ? keys : (causal ? size(1...keys) : long ? size(1...50) : size(1...7))
            let padded = seed % 3 == 2 && !causal
            let b = batch, tk = keys
            keyLengths = padded ? (0..<b).map { _ in 1 + rng.nextInt(below: tk) } : nil
            let c = heads * headSize
            query = Tensor.randn([batch, queries, c], generator: &rng).requiringGrad()
            key = Tensor.randn([batch, keys, c], generator: &rng).requiringGrad()
            value = Tensor.randn([batch, keys, c], generator: &rng).requiringGrad()
            outputWeight = Tensor.randn([batch, queries, c], generator: &rng)
        }
    }

    /// Output and the gradients of the leaves of Σ w ⊙ attention(leaves), on fresh copies of them.
    static func run(_ leaves: [Tensor], weight: Tensor, _ attention: ([Tensor]) -> Tensor) -> (Tensor, [Tensor]) {
        let copies = leaves.map { $0.detached().requiringGrad() }
        let out = attention(copies)
        (out * weight).sum().backward()
        return (out, copies.map { $0.grad! })
    }

    @Test(arguments: [(0..<12).map { ($0, false) }, (0..<8).map { (200 + $0, true) }].joined().map { $0 })
    func scaledDotProductEqualsReference(seed: Int, long: Bool) {
        let c = Case(seed: UInt64(seed), long: long)
        let leaves = [c.query, c.key, c.value]
        let (fused, fusedGrads) = Self.run(leaves, weight: c.outputWeight) { v in
            v[0].scaledDotProductAttention(key: v[1], value: v[2], heads: c.heads, causal: c.causal, keyLengths: c.keyLengths)
        }
        let (oracle, oracleGrads) = Self.run(leaves, weight: c.outputWeight) { v in
            v[0].referenceAttention(key: v[1], value: v[2], heads: c.heads, causal: c.causal, keyLengths: c.keyLengths)
        }
        expectClose(fused, oracle, rtol: 1e-4, atol: 1e-5, "\(c) output")
        for (name, (a, b)) in zip(["Q", "K", "V"], zip(fusedGrads, oracleGrads)) {
            expectClose(a, b, rtol: 1e-4, atol: 1e-5, "\(c) ∂L/∂\(name)")
        }
    }

    @Test(arguments: [(0..<8).map { (100 + $0, false) }, (0..<4).map { (300 + $0, true) }].joined().map { $0 })
    func fusedSelfAttentionEqualsReference(seed: Int, long: Bool) {
        let c = Case(seed: UInt64(seed), selfAttention: true, long: long)
        let packed = Tensor.concat([c.query, c.key, c.value], axis: 2)                                 // [B, T, 3·C]
        let (fused, fusedGrads) = Self.run([packed], weight: c.outputWeight) { v in
            v[0].fusedSelfAttention(heads: c.heads, causal: c.causal, keyLengths: c.keyLengths)
        }
        let (oracle, oracleGrads) = Self.run([packed], weight: c.outputWeight) { v in
            let parts = (0..<3).map { v[0].slice(axis: 2, ($0 * c.features)..<(($0 + 1) * c.features)) }
            return parts[0].referenceAttention(key: parts[1], value: parts[2], heads: c.heads, causal: c.causal,
                                               keyLengths: c.keyLengths)
        }
        expectClose(fused, oracle, rtol: 1e-4, atol: 1e-5, "\(c) output")
        expectClose(fusedGrads[0], oracleGrads[0], rtol: 1e-4, atol: 1e-5, "\(c) ∂L/∂QKV")
    }

    /// Packed sequences (no padding) against the reference run on each sequence alone: output and ∂L/∂Q, K, V, with
    /// an empty sequence among them; and, on a small case, the gradients against finite differences.
    @Test(arguments: 0..<8)
    func packedAttentionEqualsReferencePerSequence(seed: Int) {
        var rng = RandomGenerator(seed: UInt64(300 + seed))
        let (heads, headSize, causal) = (1 + rng.nextInt(below: 3), 1 + rng.nextInt(below: 6), seed % 2 == 1)
        var lengths = (0..<(1 + rng.nextInt(below: 4))).map { _ in 1 + rng.nextInt(below: 9) }
        if seed == 4 { lengths.insert(0, at: 1) }
        let (n, c) = (lengths.reduce(0, +), heads * headSize)
        let leaves = (0..<3).map { _ in Tensor.randn([n, c], generator: &rng) }
        let weight = Tensor.randn([n, c], generator: &rng)
        let label = "lengths \(lengths) H=\(heads) d=\(headSize) causal=\(causal)"
        let (packed, packedGrads) = Self.run(leaves, weight: weight) { v in
            v[0].packedAttention(key: v[1], value: v[2], heads: heads, lengths: lengths, causal: causal)
        }
        let (oracle, oracleGrads) = Self.run(leaves, weight: weight) { v in
            var start = 0, pieces: [Tensor] = []
            for length in lengths where length > 0 {
                let part = v.map { $0.slice(axis: 0, start..<(start + length)).reshaped([1, length, c]) }
                pieces.append(part[0].referenceAttention(key: part[1], value: part[2], heads: heads, causal: causal)
                    .reshaped([length, c]))
                start += length
            }
            return Tensor.concat(pieces, axis: 0)
        }
        expectClose(packed, oracle, rtol: 1e-4, atol: 1e-5, "\(label) output")
        for (name, (a, b)) in zip(["Q", "K", "V"], zip(packedGrads, oracleGrads)) {
            expectClose(a, b, rtol: 1e-4, atol: 1e-5, "\(label) ∂L/∂\(name)")
        }
        if seed < 2 {
            let small = [2, 3]
            let inputs = (0..<3).map { _ in Tensor.randn([5, 4], generator: &rng) }
            let w = Tensor.randn([5, 4], generator: &rng)
            let report = GradCheck.check(inputs) { v in
                (v[0].packedAttention(key: v[1], value: v[2], heads: 2, lengths: small, causal: causal) * w).sum()
            }
            #expect(report.passed, "finite differences, causal=\(causal): \(report)")
        }
    }

    /// The cache path: the last T of L tokens attend over a cache holding all L keys and values.
    @Test(arguments: 0..<6)
    func cachedAttentionEqualsReference(seed: Int) {
        let c = Case(seed: UInt64(200 + seed), selfAttention: true)
        let (b, length, f) = (c.batch, c.keys, c.features)
        let fresh = 1 + seed % length                                       // new tokens this step
        let capacity = length + 3
        func padded(_ x: Tensor) -> Tensor { Tensor.concat([x.detached(), Tensor.zeros([b, capacity - length, f])], axis: 1) }
        let newRows = c.query.detached().slice(axis: 1, (length - fresh)..<length)
        let newKeys = c.key.detached().slice(axis: 1, (length - fresh)..<length)
        let newValues = c.value.detached().slice(axis: 1, (length - fresh)..<length)
        let projected = Tensor.concat([newRows, newKeys, newValues], axis: 2)
        let out = Tensor.cachedAttention(projected: projected, keys: padded(c.key), values: padded(c.value),
                                         length: length, heads: c.heads, causal: c.causal)
        let oracle = newRows.referenceAttention(key: c.key.detached(), value: c.value.detached(), heads: c.heads,
                                                causal: c.causal)
        expectClose(out, oracle, rtol: 1e-4, atol: 1e-5, "\(c) fresh=\(fresh)")
    }
}
