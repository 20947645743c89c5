import Testing
@testable import Synapse

/// Op values and gradients against PyTorch (Fixtures/ops.json from scripts/make_op_fixtures.py), within 1e-5 relative.
@Suite(.synapseRuntime) struct PyTorchParityTests {
    static let ops: [String: @Sendable ([Tensor]) -> Tensor] = [
        "add_broadcast": { $0[0] + $0[1] },
        "sub_broadcast": { $0[0] - $0[1] },
        "mul_broadcast": { $0[0] * $0[1] },
        "div_broadcast": { $0[0] / $0[1] },
        "neg": { -$0[0] },
        "pow_scalar": { $0[0].pow(3) },
        "pow_tensor": { $0[0].pow($0[1]) },
        "sqrt": { $0[0].sqrt() },
        "exp": { $0[0].exp() },
        "log": { $0[0].log() },
        "abs": { $0[0].abs() },
        "clamp": { $0[0].clamped(min: -1, max: 1) },
        "maximum": { Tensor.maximum($0[0], $0[1]) },
        "minimum": { Tensor.minimum($0[0], $0[1]) },
        "where": { Tensor.where($0[0].detached() .> 0, $0[0], $0[1]) },
        "relu": { $0[0].relu() },
        "leaky_relu": { $0[0].leakyRelu(negativeSlope: 0.1) },
        "sigmoid": { $0[0].sigmoid() },
        "tanh": { $0[0].tanh() },
        "gelu": { $0[0].gelu() },
        "gelu_tanh": { $0[0].gelu(approximate: .tanh) },
        "silu": { $0[0].silu() },
        "softmax_last": { $0[0].softmax(axis: -1) },
        "softmax_axis0": { $0[0].softmax(axis: 0) },
        "log_softmax_last": { $0[0].logSoftmax(axis: -1) },
        "log_softmax_axis1": { $0[0].logSoftmax(axis: 1) },
        "sum_all": { $0[0].sum() },
        "sum_axis1": { $0[0].sum(axis: 1) },
        "sum_axes_keep": { $0[0].sum(axes: [0, 2], keepDims: true) },
        "mean_axis": { $0[0].mean(axis: -1) },
        "max_axis": { $0[0].max(axis: 1) },
        "min_axis": { $0[0].min(axis: 0) },
        "var_axis": { $0[0].variance(axis: 1) },
        "var_axis_biased": { $0[0].variance(axis: 0, correction: 0) },
        "reshape": { $0[0].reshaped(4, 6) },
        "permute": { $0[0].permuted([2, 0, 1]) },
        "transpose": { $0[0].transposed(0, 1) },
        "slice": { $0[0].slice(axis: 1, 1..<3) },
        "gather_rows": { $0[0].gather([2, 0, 2, 1]) },
        "concat": { Tensor.concat([$0[0], $0[1]], axis: 1) },
        "stack": { Tensor.stack([$0[0], $0[1]], axis: 0) },
        "matmul_2d": { $0[0].matmul($0[1]) },
        "matmul_batched": { $0[0].matmul($0[1]) },
        "matmul_broadcast": { $0[0].matmul($0[1]) },
        "matmul_batch_matrix": { $0[0].matmul($0[1]) },
        "matmul_vector": { $0[0].matmul($0[1]) },
    ]

    @Test func everyFixtureCaseHasAnOp() throws {
        let cases = try Fixtures.json("ops.json")["cases"] as! [[String: Any]]
        let names = Set(cases.map { $0["name"] as! String })
        #expect(names == Set(Self.ops.keys))
    }

    @Test func valuesAndGradientsMatchPyTorch() throws {
        let cases = try Fixtures.json("ops.json")["cases"] as! [[String: Any]]
        for c in cases {
            let name = c["name"] as! String
            guard let op = Self.ops[name] else { continue }
            let inputs = (c["inputs"] as! [Any]).map { Fixtures.tensor($0).requiringGrad() }
            let weight = Fixtures.tensor(c["weight"]!)
            let output = op(inputs)
            expectClose(output, Fixtures.tensor(c["output"]!), name + " output")
            (output * weight).sum().backward()
            for (i, expected) in (c["grads"] as! [Any]).enumerated() {
                expectClose(inputs[i].grad ?? .zeros(like: inputs[i]), Fixtures.tensor(expected), rtol: 1e-5, atol: 1e-5,
                            "\(name) gradient \(i)")
            }
        }
    }
}
