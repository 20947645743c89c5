import Foundation
import Testing
@testable import Synapse

/// Attention and transformer blocks against PyTorch (scripts/make_transformer_fixtures.py): forward outputs and the
/// gradients of sum(output ⊙ G) for inputs and parameters.
@Suite("Transformer parity with PyTorch", .synapseRuntime)
struct TransformerParityTests {
    static var cases: [String: Any] { try! Fixtures.json("transformer.json") }

    @Test("Fused attention forward and backward", arguments: ["attention_plain", "attention_causal", "attention_padding",
                                                              "attention_causal_cached"])
    func attention(name: String) {
        let c = Self.cases[name] as! [String: Any]
        let q = Fixtures.tensor(c["q"]!).requiringGrad(), k = Fixtures.tensor(c["k"]!).requiringGrad()
        let v = Fixtures.tensor(c["v"]!).requiringGrad()
        let lengths = (c["lengths"] as? [NSNumber])?.map(\.intValue)
        let y = q.scaledDotProductAttention(key: k, value: v, heads: (c["heads"] as! NSNumber).intValue,
                                            causal: c["causal"] as! Bool, keyLengths: lengths)
        expectClose(y, Fixtures.tensor(c["out"]!), rtol: 1e-4, atol: 1e-5, "\(name) out")
        (y * Fixtures.tensor(c["g"]!)).sum().backward()
        expectClose(q.grad!, Fixtures.tensor(c["gq"]!), rtol: 1e-4, atol: 1e-5, "\(name) dq")
        expectClose(k.grad!, Fixtures.tensor(c["gk"]!), rtol: 1e-4, atol: 1e-5, "\(name) dk")
        expectClose(v.grad!, Fixtures.tensor(c["gv"]!), rtol: 1e-4, atol: 1e-5, "\(name) dv")
    }

    @Test("The fused-QKV form gives the same values and gradients as separate Q, K, V")
    func fusedMatchesSeparate() {
        var rng = RandomGenerator(seed: 3)
        let qkv = Tensor.randn([2, 6, 24], generator: &rng).requiringGrad()
        let g = Tensor.randn([2, 6, 8], generator: &rng)
        let fused = qkv.fusedSelfAttention(heads: 2, causal: true, keyLengths: [6, 4])
        (fused * g).sum().backward()
        let parts = qkv.detached().split(count: 3, axis: 2).map { $0.requiringGrad() }
        let separate = parts[0].scaledDotProductAttention(key: parts[1], value: parts[2], heads: 2, causal: true, keyLengths: [6, 4])
        (separate * g).sum().backward()
        expectClose(fused, separate, "output")
        expectClose(qkv.grad!, Tensor.concat(parts.map { $0.grad! }, axis: 2), "gradient")
    }

    @Test("Pre-norm blocks (decoder without biases, encoder with biases and padding)", arguments: ["decoder_block", "encoder_block"])
    func block(name: String) throws {
        let c = Self.cases[name] as! [String: Any]
        var rng = RandomGenerator(seed: 0)
        let block = TransformerBlock(embedding: 8, heads: (c["heads"] as! NSNumber).intValue, bias: c["bias"] as! Bool,
                                     causal: c["causal"] as! Bool, generator: &rng)
        let parameters = (c["parameters"] as! [String: Any]).mapValues(Fixtures.tensor)
        try block.load(stateDict: parameters)
        let x = Fixtures.tensor(c["x"]!).requiringGrad()
        let lengths = (c["lengths"] as? [NSNumber])?.map(\.intValue)
        let y = block(x, keyLengths: lengths)
        expectClose(y, Fixtures.tensor(c["out"]!), rtol: 1e-4, atol: 1e-5, "\(name) out")
        (y * Fixtures.tensor(c["g"]!)).sum().backward()
        expectClose(x.grad!, Fixtures.tensor(c["gx"]!), rtol: 1e-3, atol: 1e-5, "\(name) dx")
        let grads = (c["grads"] as! [String: Any]).mapValues(Fixtures.tensor)
        let state = block.stateDict()
        #expect(Set(state.keys) == Set(grads.keys))
        for (key, expected) in grads {
            expectClose(state[key]!.grad!, expected, rtol: 1e-3, atol: 1e-5, "\(name) d\(key)")
        }
    }
}
