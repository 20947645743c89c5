import Testing
@testable import Synapse

/// RNN, LSTM and GRU against PyTorch with copied weights (Fixtures/recurrent.json from
/// scripts/make_recurrent_fixtures.py): outputs, final states and the gradients of a weighted sum of all three for
/// the input, the initial state and every parameter agree within 1e-5 relative.
@Suite(.synapseRuntime) struct RecurrentParityTests {
    static func makeLayer(_ config: [String: Any]) -> RecurrentLayer {
        let (input, hidden, layers) = (config["input"] as! Int, config["hidden"] as! Int, config["layers"] as! Int)
        let bias = config["bias"] as! Bool
        var rng = RandomGenerator(seed: 1)
        switch config["kind"] as! String {
        case "lstm": return LSTM(inputSize: input, hiddenSize: hidden, layers: layers, bias: bias, generator: &rng)
        case "gru": return GRU(inputSize: input, hiddenSize: hidden, layers: layers, bias: bias, generator: &rng)
        default:
            let activation = RecurrentActivation(rawValue: config["nonlinearity"] as! String)!
            return RNN(inputSize: input, hiddenSize: hidden, layers: layers, bias: bias, activation: activation,
                       generator: &rng)
        }
    }

    @Test func recurrentLayersMatchPyTorch() throws {
        let fixture = try Fixtures.json("recurrent.json")
        let cases = fixture["recurrent"] as! [[String: Any]]
        #expect(cases.count == 7)
        for c in cases {
            let name = c["name"] as! String
            let layer = Self.makeLayer(c["config"] as! [String: Any])
            let state = (c["state"] as! [String: Any]).mapValues { Fixtures.tensor($0) }
            try layer.load(stateDict: state)
            let x = Fixtures.tensor(c["input"]!).requiringGrad()
            let h0 = c["h0"].map { Fixtures.tensor($0).requiringGrad() }
            let c0 = c["c0"].map { Fixtures.tensor($0).requiringGrad() }
            let initial = h0.map { RecurrentState(hidden: $0, cell: c0) }
            let (output, final) = layer(x, state: initial)
            expectClose(output, Fixtures.tensor(c["output"]!), "\(name) output")
            expectClose(final.hidden, Fixtures.tensor(c["h_n"]!), "\(name) h_n")
            var loss = (output * Fixtures.tensor(c["w_out"]!)).sum() + (final.hidden * Fixtures.tensor(c["w_h"]!)).sum()
            if let expectedCell = c["c_n"] {
                let cell = try #require(final.cell, "\(name): LSTM returns a cell state")
                expectClose(cell, Fixtures.tensor(expectedCell), "\(name) c_n")
                loss = loss + (cell * Fixtures.tensor(c["w_c"]!)).sum()
            }
            loss.backward()
            expectClose(try #require(x.grad), Fixtures.tensor(c["grad_input"]!), atol: 1e-5, "\(name) input grad")
            if let h0 { expectClose(try #require(h0.grad), Fixtures.tensor(c["grad_h0"]!), atol: 1e-5, "\(name) h0 grad") }
            if let c0 { expectClose(try #require(c0.grad), Fixtures.tensor(c["grad_c0"]!), atol: 1e-5, "\(name) c0 grad") }
            let grads = c["grads"] as! [String: Any]
            let parameters = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.parameter) })
            #expect(Set(parameters.keys) == Set(grads.keys), "\(name): parameter names \(parameters.keys.sorted())")
            for (key, expected) in grads {
                let parameter = try #require(parameters[key])
                expectClose(try #require(parameter.grad, "\(name) \(key) has a gradient"), Fixtures.tensor(expected),
                            atol: 1e-5, "\(name) \(key) grad")
            }
        }
    }

    @Test func embeddingMatchesPyTorchAndSkipsPadding() throws {
        let c = try Fixtures.json("recurrent.json")["embedding"] as! [String: Any]
        var rng = RandomGenerator(seed: 0)
        let embedding = Embedding(7, 3, paddingIndex: c["padding"] as? Int, generator: &rng)
        try embedding.load(stateDict: ["weight": Fixtures.tensor(c["weight"]!)])
        let out = embedding(tokens: c["indices"] as! [Int], shape: c["shape"] as! [Int])
        expectClose(out, Fixtures.tensor(c["output"]!), "embedding output")
        (out * Fixtures.tensor(c["w_out"]!)).sum().backward()
        let grad = try #require(embedding.weight.grad)
        expectClose(grad, Fixtures.tensor(c["grad_weight"]!), "embedding grad")
        #expect(grad.scalars[6..<9].allSatisfy { $0 == 0 }, "the padding row gets no gradient")
        let fresh = Embedding(7, 3, paddingIndex: 2, generator: &rng)
        #expect(fresh.weight.scalars[6..<9].allSatisfy { $0 == 0 }, "the padding row starts at zero")
    }

    @Test func gradCheckOnSmallCases() {
        var rng = RandomGenerator(seed: 3)
        let (b, t, f, h) = (2, 3, 2, 3)
        let x = Tensor.randn([b, t, f], generator: &rng)
        let h0 = Tensor.randn([b, h], generator: &rng) * 0.5
        let c0 = Tensor.randn([b, h], generator: &rng) * 0.5
        func weights(_ gates: Int) -> [Tensor] {
            [Tensor.randn([gates * h, f], generator: &rng) * 0.5, Tensor.randn([gates * h, h], generator: &rng) * 0.5,
             Tensor.randn([gates * h], generator: &rng) * 0.5, Tensor.randn([gates * h], generator: &rng) * 0.5]
        }
        let lstmWeights = weights(4)
        let lstm = GradCheck.check([x] + lstmWeights + [h0, c0]) { v in
            let r = Tensor.lstm(v[0], weightIH: v[1], weightHH: v[2], biasIH: v[3], biasHH: v[4],
                                initialHidden: v[5], initialCell: v[6])
            return r.output.pow(2).sum() + (r.cell * r.hidden).sum()
        }
        #expect(lstm.passed, "lstm: \(lstm)")
        let projectedInput = Tensor.randn([b, t, 4 * h], generator: &rng)
        let projected = GradCheck.check([projectedInput, lstmWeights[1], lstmWeights[3], h0, c0]) { v in
            let r = Tensor.lstm(projectedInput: v[0], weightHH: v[1], biasHH: v[2], initialHidden: v[3], initialCell: v[4])
            return r.output.pow(2).sum() + (r.cell * r.hidden).sum()
        }
        #expect(projected.passed, "lstm(projectedInput:): \(projected)")
        let gruWeights = weights(3)
        let gru = GradCheck.check([x] + gruWeights + [h0]) { v in
            let r = Tensor.gru(v[0], weightIH: v[1], weightHH: v[2], biasIH: v[3], biasHH: v[4], initialHidden: v[5])
            return r.output.pow(2).sum() + r.hidden.sum()
        }
        #expect(gru.passed, "gru: \(gru)")
        let rnnWeights = weights(1)
        for activation in [RecurrentActivation.tanh, .sigmoid] {
            let rnn = GradCheck.check([x] + rnnWeights + [h0]) { v in
                Tensor.rnn(v[0], weightIH: v[1], weightHH: v[2], biasIH: v[3], biasHH: v[4], initialHidden: v[5],
                           activation: activation).output.pow(2).sum()
            }
            #expect(rnn.passed, "rnn \(activation): \(rnn)")
        }
    }

    /// The token path projects the embedding table instead of every token (LSTM) or falls back to embedding first:
    /// both must give the embedding-then-layer result, outputs, state and every gradient.
    @Test(arguments: ["lstm", "gru", "rnn"])
    func tokenPathEqualsEmbeddingThenLayer(kind: String) throws {
        let config: [String: Any] = ["kind": kind, "input": 5, "hidden": 6, "layers": 2, "bias": true, "nonlinearity": "tanh"]
        let (vocabulary, batch, steps) = (7, 3, 4)
        var rng = RandomGenerator(seed: 11)
        let tokens = (0..<(batch * steps)).map { _ in Int.random(in: 0..<vocabulary, using: &rng) }
        var runs: [(output: Tensor, hidden: Tensor, grads: [String: Tensor])] = []
        for useTokens in [false, true] {
            var weights = RandomGenerator(seed: 2)
            let embedding = Embedding(vocabulary, 5, generator: &weights)
            let layer = Self.makeLayer(config)
            let h0 = Tensor.randn([2, batch, 6], generator: &weights)
            let state = RecurrentState(hidden: h0, cell: kind == "lstm" ? h0 * 0.5 : nil)
            let (y, final) = useTokens
                ? layer(tokens: tokens, shape: [batch, steps], embedding: embedding, state: state)
                : layer(embedding(tokens: tokens, shape: [batch, steps]), state: state)
            ((y * y).sum() + final.hidden.sum() + (final.cell?.sum() ?? Tensor(0))).backward()
            var grads: [String: Tensor] = ["embedding": try #require(embedding.weight.grad)]
            for (name, parameter) in layer.namedParameters() { grads[name] = try #require(parameter.grad, "\(name)") }
            runs.append((y, final.hidden, grads))
        }
        expectClose(runs[1].output, runs[0].output, "\(kind) output")
        expectClose(runs[1].hidden, runs[0].hidden, "\(kind) final hidden")
        #expect(runs[0].grads.keys.sorted() == runs[1].grads.keys.sorted())
        for (name, expected) in runs[0].grads {
            expectClose(try #require(runs[1].grads[name]), expected, atol: 1e-5, "\(kind) \(name) grad")
        }
    }

    @Test func notesRNNHasAnOutputMapAndCarriesDetachedState() {
        var rng = RandomGenerator(seed: 5)
        let rnn = RNN(inputSize: 3, hiddenSize: 4, outputSize: 2, activation: .tanh, outputActivation: .sigmoid,
                      generator: &rng)
        #expect(rnn.namedParameters().map(\.name)
                == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "output.weight", "output.bias"])
        let x = Tensor.randn([2, 5, 3], generator: &rng)
        let (y, state) = rnn(x, state: nil)
        #expect(y.shape == [2, 5, 2])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 }, "O = sigmoid bounds the outputs")
        // Running the sequence in two halves with the carried state gives the same outputs as one pass.
        let first = rnn(x.slice(axis: 1, 0..<2), state: nil)
        let second = rnn(x.slice(axis: 1, 2..<5), state: first.state.detached())
        expectClose(second.output, y.slice(axis: 1, 2..<5), "continued sequence")
        expectClose(second.state.hidden, state.hidden, "final state after two halves")
        #expect(first.state.detached().hidden.isLeaf)
    }
}
