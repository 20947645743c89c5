import Testing
@testable import Synapse

/// The same small MLP (same weights) through the scalar `Value` engine and through the tensor engine: the same loss
/// and the same gradients, so the two stories of backpropagation agree.
@Suite(.synapseRuntime) struct TensorParityTests {
    @Test(arguments: [ScalarActivation.tanh, .relu, .sigmoid])
    func sameLossAndGradients(_ activation: ScalarActivation) throws {
        var rng = RandomGenerator(seed: 21)
        let sizes = [3, 5, 4, 2]
        var weights: [[[Double]]] = [], biases: [[Double]] = []
        for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
            weights.append((0..<fanOut).map { _ in (0..<fanIn).map { _ in rng.uniform(-1, 1) } })
            biases.append((0..<fanOut).map { _ in rng.uniform(-0.5, 0.5) })
        }
        let inputs: [[Double]] = (0..<6).map { _ in (0..<3).map { _ in rng.uniform(-2, 2) } }
        let targets: [[Double]] = (0..<6).map { _ in (0..<2).map { _ in rng.uniform(-1, 1) } }

        // Scalar engine: mean squared error over every output of every example.
        let scalar = ScalarMLP(weights: weights, biases: biases, hiddenActivation: activation)
        var scalarLoss = Value(0)
        for (x, y) in zip(inputs, targets) {
            for (output, target) in zip(scalar(x), y) { scalarLoss = scalarLoss + (output - target).pow(2) }
        }
        scalarLoss = scalarLoss / Double(inputs.count * 2)
        scalarLoss.backward()

        // Tensor engine: the same network as Linear layers with the same weights.
        let layers = zip(weights, biases).map { w, b in
            Linear(weight: Tensor(w.map { $0.map(Float.init) }), bias: Tensor(b.map(Float.init)))
        }
        var h = Tensor(inputs.map { $0.map(Float.init) })
        for (index, layer) in layers.enumerated() {
            h = layer(h)
            if index < layers.count - 1 {
                switch activation {
                case .tanh: h = h.tanh()
                case .relu: h = h.relu()
                case .sigmoid: h = h.sigmoid()
                case .identity: break
                }
            }
        }
        let tensorLoss = (h - Tensor(targets.map { $0.map(Float.init) })).pow(2).mean()
        tensorLoss.backward()

        #expect(abs(Double(tensorLoss.item) - scalarLoss.data) <= 1e-6 * max(1, abs(scalarLoss.data)))
        // Value's parameters run layer by layer, neuron by neuron: the neuron's weights, then its bias.
        var scalarGrads = scalar.parameters.map(\.grad)[...]
        for layer in layers {
            let w = layer.weight.grad!, b = layer.bias!.grad!
            for j in 0..<w.shape[0] {
                for i in 0..<w.shape[1] {
                    let expected = scalarGrads.removeFirst()
                    #expect(abs(Double(w[j, i]) - expected) <= 1e-6, "weight [\(j), \(i)]: \(w[j, i]) vs \(expected)")
                }
                let expected = scalarGrads.removeFirst()
                #expect(abs(Double(b[j]) - expected) <= 1e-6, "bias [\(j)]: \(b[j]) vs \(expected)")
            }
        }
        #expect(scalarGrads.isEmpty)
    }
}
