import Testing
@testable import Synapse

/// The fused recurrent ops against their readable cells (`LSTMCell`, `GRUCell`, `RNNCell`) unrolled step by step:
/// outputs, final states and every gradient, on random shapes, with and without biases and initial states.
@Suite(.synapseRuntime) struct RecurrentOpOracleTests {
    /// A random case: sizes, the parameters (trainable), the input and optional initial states.
    struct Case: CustomStringConvertible {
        let batch: Int, steps: Int, features: Int, hidden: Int
        let input: Tensor, weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?
        let initialHidden: Tensor?, initialCell: Tensor?
        /// Weights for the loss Σ w ⊙ y over the output, the final hidden and the final cell states.
        let outputWeight: Tensor, hiddenWeight: Tensor, cellWeight: Tensor
        var description: String {
            "B=\(batch) T=\(steps) F=\(features) H=\(hidden) bias=\(biasIH != nil) h0=\(initialHidden != nil)"
        }

        init(gates: Int, seed: UInt64) {
            var rng = RandomGenerator(seed: seed)
            func size(_ range: ClosedRange<Int>) -> Int { range.lowerBound + rng.nextInt(below: range.count) }
            (batch, steps, features, hidden) = (size(1...5), size(1...6), size(1...7), size(1...9))
            let withBias = seed % 3 != 0, withState = seed % 2 == 1
            func random(_ shape: [Int], _ scale: Float = 0.6) -> Tensor {
                (Tensor.randn(shape, generator: &rng) * scale).requiringGrad()
            }
            input = random([batch, steps, features], 1)
            weightIH = random([gates * hidden, features])
            weightHH = random([gates * hidden, hidden])
            biasIH = withBias ? random([gates * hidden]) : nil
            biasHH = withBias ? random([gates * hidden]) : nil
            initialHidden = withState ? random([batch, hidden]) : nil
            initialCell = withState ? random([batch, hidden]) : nil
            outputWeight = Tensor.randn([batch, steps, hidden], generator: &rng)
            hiddenWeight = Tensor.randn([batch, hidden], generator: &rng)
            cellWeight = Tensor.randn([batch, hidden], generator: &rng)
        }

        var leaves: [Tensor?] { [input, weightIH, weightHH, biasIH, biasHH, initialHidden, initialCell] }

        /// The same leaves as fresh trainable copies, so two runs keep separate gradients.
        func copies() -> [Tensor?] { leaves.map { $0.map { $0.detached().requiringGrad() } } }

        func step(_ x: Tensor, _ s: Int) -> Tensor { x.slice(axis: 1, s..<(s + 1)).reshaped([batch, features]) }

        func loss(output: Tensor, hidden: Tensor, cell: Tensor?) -> Tensor {
            var total = (output * outputWeight).sum() + (hidden * hiddenWeight).sum()
            if let cell { total = total + (cell * cellWeight).sum() }
            return total
        }
    }

    /// Runs `loss` on fresh copies of the leaves and returns its outputs and the gradients of every present leaf.
    static func gradients(_ c: Case, _ forward: ([Tensor?]) -> [Tensor]) -> (outputs: [Tensor], grads: [Tensor?]) {
        let leaves = c.copies()
        let outputs = forward(leaves)
        c.loss(output: outputs[0], hidden: outputs[1], cell: outputs.count > 2 ? outputs[2] : nil).backward()
        return (outputs, leaves.map { $0?.grad })
    }

    static func compare(_ fused: (outputs: [Tensor], grads: [Tensor?]), _ oracle: (outputs: [Tensor], grads: [Tensor?]),
                        _ label: String) {
        let names = ["input", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0", "c0"]
        for (i, (a, b)) in zip(fused.outputs, oracle.outputs).enumerated() {
            expectClose(a, b, rtol: 1e-4, atol: 1e-5, "\(label) output \(i)")
        }
        for (name, (a, b)) in zip(names, zip(fused.grads, oracle.grads)) {
            #expect((a == nil) == (b == nil), "\(label) \(name): gradient present in one run only")
            if let a, let b { expectClose(a, b, rtol: 1e-4, atol: 1e-5, "\(label) ∂L/∂\(name)") }
        }
    }

    @Test(arguments: 0..<12)
    func lstmEqualsUnrolledCell(seed: Int) {
        let c = Case(gates: 4, seed: UInt64(seed))
        let fused = Self.gradients(c) { v in
            let r = Tensor.lstm(v[0]!, weightIH: v[1]!, weightHH: v[2]!, biasIH: v[3], biasHH: v[4],
                                initialHidden: v[5], initialCell: v[6])
            return [r.output, r.hidden, r.cell]
        }
        let oracle = Self.gradients(c) { v in Self.unrolledLSTM(c, v, input: v[0]!) }
        Self.compare(fused, oracle, "lstm \(c)")

        // The projected entry point: the input projection made outside the op.
        let projected = Self.gradients(c) { v in
            let p = v[0]!.linear(weight: v[1]!, bias: v[3])
            let r = Tensor.lstm(projectedInput: p, weightHH: v[2]!, biasHH: v[4], initialHidden: v[5], initialCell: v[6])
            return [r.output, r.hidden, r.cell]
        }
        Self.compare(projected, oracle, "lstm(projectedInput:) \(c)")
    }

    @Test(arguments: 0..<12)
    func gruEqualsUnrolledCell(seed: Int) {
        let c = Case(gates: 3, seed: UInt64(seed))
        let fused = Self.gradients(c) { v in
            let r = Tensor.gru(v[0]!, weightIH: v[1]!, weightHH: v[2]!, biasIH: v[3], biasHH: v[4], initialHidden: v[5])
            return [r.output, r.hidden]
        }
        let oracle = Self.gradients(c) { v in
            var rng = RandomGenerator(seed: 0)
            let cell = GRUCell(inputSize: c.features, hiddenSize: c.hidden, generator: &rng)
            (cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH) = (v[1]!, v[2]!, v[3], v[4])
            var h = v[5], outputs: [Tensor] = []
            for s in 0..<c.steps {
                h = cell(c.step(v[0]!, s), hidden: h)
                outputs.append(h!)
            }
            return [Tensor.stack(outputs, axis: 1), h!]
        }
        Self.compare(fused, oracle, "gru \(c)")
    }

    @Test(arguments: RecurrentActivation.allCases)
    func rnnEqualsUnrolledCell(activation: RecurrentActivation) {
        for seed in 0..<6 {
            let c = Case(gates: 1, seed: UInt64(seed))
            let fused = Self.gradients(c) { v in
                let r = Tensor.rnn(v[0]!, weightIH: v[1]!, weightHH: v[2]!, biasIH: v[3], biasHH: v[4],
                                   initialHidden: v[5], activation: activation)
                return [r.output, r.hidden]
            }
            let oracle = Self.gradients(c) { v in
                var rng = RandomGenerator(seed: 0)
                let cell = RNNCell(inputSize: c.features, hiddenSize: c.hidden, activation: activation, generator: &rng)
                (cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH) = (v[1]!, v[2]!, v[3], v[4])
                var h = v[5], outputs: [Tensor] = []
                for s in 0..<c.steps {
                    h = cell(c.step(v[0]!, s), hidden: h)
                    outputs.append(h!)
                }
                return [Tensor.stack(outputs, axis: 1), h!]
            }
            Self.compare(fused, oracle, "rnn \(activation) \(c)")
        }
    }

    /// The LSTM cell run over every step of `input` from the case's initial states.
    static func unrolledLSTM(_ c: Case, _ v: [Tensor?], input: Tensor) -> [Tensor] {
        var rng = RandomGenerator(seed: 0)
        let cell = LSTMCell(inputSize: c.features, hiddenSize: c.hidden, generator: &rng)
        (cell.weightIH, cell.weightHH, cell.biasIH, cell.biasHH) = (v[1]!, v[2]!, v[3], v[4])
        var state: (hidden: Tensor, cell: Tensor)? = v[5].map { ($0, v[6]!) }
        var outputs: [Tensor] = []
        for s in 0..<c.steps {
            state = cell(c.step(input, s), state: state)
            outputs.append(state!.hidden)
        }
        return [Tensor.stack(outputs, axis: 1), state!.hidden, state!.cell]
    }

    @Test func cellsUsePyTorchParameterNames() {
        var rng = RandomGenerator(seed: 1)
        let cells: [Module] = [LSTMCell(inputSize: 3, hiddenSize: 2, generator: &rng),
                               GRUCell(inputSize: 3, hiddenSize: 2, generator: &rng),
                               RNNCell(inputSize: 3, hiddenSize: 2, generator: &rng)]
        for (cell, gates) in zip(cells, [4, 3, 1]) {
            let dict = cell.stateDict()
            #expect(dict.keys.sorted() == ["bias_hh", "bias_ih", "weight_hh", "weight_ih"])
            #expect(dict["weight_ih"]!.shape == [gates * 2, 3] && dict["weight_hh"]!.shape == [gates * 2, 2])
        }
        #expect(LSTMCell(inputSize: 3, hiddenSize: 2, bias: false, generator: &rng).stateDict().count == 2)
    }
}
