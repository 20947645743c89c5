import Testing
@testable import Synapse

/// Every layer against PyTorch (Fixtures/nn.json from scripts/make_nn_fixtures.py): PyTorch's parameters are copied in
/// through `load(stateDict:)`, then outputs, input gradients, parameter gradients and BatchNorm's buffers must agree
/// within 1e-5 relative.
@Suite(.synapseRuntime) struct LayerParityTests {
    static func makeLayer(_ config: [String: Any]) -> Module {
        let kind = config["kind"] as! String
        func int(_ key: String) -> Int { config[key] as! Int }
        switch kind {
        case "linear": return Linear(int("in"), int("out"), bias: config["bias"] as! Bool)
        case "relu": return ReLU()
        case "leaky_relu": return LeakyReLU(negativeSlope: (config["slope"] as! Double).float)
        case "sigmoid": return Sigmoid()
        case "tanh": return Tanh()
        case "gelu": return GELU()
        case "gelu_tanh": return GELU(approximate: .tanh)
        case "silu": return SiLU()
        case "softmax": return Softmax(axis: int("axis"))
        case "flatten": return Flatten(startAxis: int("start"), endAxis: int("end"))
        case "identity": return Identity()
        case "dropout_eval": return Dropout(probability: (config["p"] as! Double).float).eval()
        case "layer_norm":
            return LayerNorm(config["shape"] as! [Int], eps: (config["eps"] as! Double).float,
                             elementwiseAffine: config["affine"] as! Bool, bias: config["bias"] as! Bool)
        case "batch_norm": return BatchNorm1d(int("features")).train(config["train"] as! Bool)
        case "mlp": return Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
        default: fatalError("unknown layer kind \(kind)")
        }
    }

    static func stateDict(_ object: Any?) -> [String: Tensor] {
        ((object as? [String: Any]) ?? [:]).mapValues { Fixtures.tensor($0) }
    }

    @Test func layersMatchPyTorch() throws {
        let cases = try Fixtures.json("nn.json")["layers"] as! [[String: Any]]
        #expect(cases.count >= 20)
        for c in cases {
            let name = c["name"] as! String
            let layer = Self.makeLayer(c["config"] as! [String: Any])
            let state = Self.stateDict(c["state"])
            #expect(Set(layer.stateDict().keys) == Set(state.keys), "\(name): state-dict keys differ from PyTorch's")
            try layer.load(stateDict: state)
            let input = Fixtures.tensor(c["input"]!).requiringGrad()
            let output = layer(input)
            expectClose(output, Fixtures.tensor(c["output"]!), name + " output")
            (output * Fixtures.tensor(c["weight"]!)).sum().backward()
            expectClose(input.grad ?? .zeros(like: input), Fixtures.tensor(c["grad_input"]!), rtol: 1e-5, atol: 1e-5,
                        name + " input gradient")
            let expectedGrads = Self.stateDict(c["grad_params"])
            let parameters = layer.namedParameters()
            #expect(Set(parameters.map(\.name)) == Set(expectedGrads.keys), "\(name): parameter names differ from PyTorch's")
            for (key, parameter) in parameters {
                guard let expected = expectedGrads[key] else { continue }
                expectClose(parameter.grad ?? .zeros(like: parameter), expected, rtol: 1e-5, atol: 1e-5, "\(name) ∂\(key)")
            }
            if let after = c["state_after"] {
                for (key, expected) in Self.stateDict(after) {
                    expectClose(layer.stateDict()[key]!, expected, "\(name) \(key) after the step")
                }
            }
        }
    }
}

private extension Double {
    var float: Float { Float(self) }
}
