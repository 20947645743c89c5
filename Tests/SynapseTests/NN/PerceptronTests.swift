import Testing
@testable import Synapse

/// The neurons of the notes: the perceptron and its limits, a sigmoid network that goes beyond them, and the notes'
/// worked numbers.
@Suite(.synapseRuntime) struct PerceptronTests {
    static let corners: [[Float]] = [[0, 0], [0, 1], [1, 0], [1, 1]]

    @Test func perceptronLearnsAnd() {
        let p = Perceptron(inputCount: 2)
        let targets: [Float] = [0, 0, 0, 1]
        let mistakes = p.learn(inputs: Self.corners, targets: targets, epochs: 100)
        #expect(mistakes.last == 0)
        #expect(Self.corners.map(p.predict) == targets)
        #expect(p(Tensor(Self.corners)).scalars == targets)
    }

    @Test func perceptronLearnsOr() {
        let p = Perceptron(inputCount: 2)
        let targets: [Float] = [0, 1, 1, 1]
        #expect(p.learn(inputs: Self.corners, targets: targets, epochs: 100).last == 0)
        #expect(Self.corners.map(p.predict) == targets)
    }

    @Test func perceptronCannotLearnXor() {
        let p = Perceptron(inputCount: 2)
        let targets: [Float] = [0, 1, 1, 0]
        let mistakes = p.learn(inputs: Self.corners, targets: targets, epochs: 1000, learningRate: 0.1)
        #expect(mistakes.count == 1000)                  // never had an error-free epoch
        #expect(mistakes.allSatisfy { $0 > 0 })
        let wrong = zip(Self.corners.map(p.predict), targets).filter { $0 != $1 }.count
        #expect(wrong >= 1)
    }

    @Test func sigmoidNetworkLearnsXorByBackpropagation() {
        var rng = RandomGenerator(seed: 42)
        let model = Sequential(Linear(2, 4, generator: &rng), Sigmoid(), Linear(4, 1, generator: &rng), Sigmoid())
        let x = Tensor(Self.corners)
        let y = Tensor(shape: [4, 1], scalars: [0, 1, 1, 0])
        var loss = Float.infinity
        for _ in 0..<3000 {
            model.zeroGrad()
            let cost = mseLoss(model(x), y)
            cost.backward()
            loss = cost.item
            // Plain gradient descent, written in place as an optimizer would.
            for p in model.parameters() {
                let g = p.grad!.scalars
                p.withSharedMutableStorage { w in for i in 0..<w.count { w[i] -= 2 * g[i] } }
            }
        }
        let predictions = noGrad { model(x) }.scalars.map { $0 > 0.5 ? Float(1) : 0 }
        #expect(predictions == [0, 1, 1, 0], "loss \(loss)")
        #expect(loss < 0.05)
    }

    @Test func reluNeuronOfTheNotes() {
        // x = [1, 2], w = [0.4, 0.6], b = −0.2:  0.4 + 1.2 − 0.2 = 1.4
        let neuron = Sequential(Linear(weight: Tensor([[0.4, 0.6]]), bias: Tensor([-0.2])), ReLU())
        let output = neuron(Tensor([[1, 2]]))
        #expect(output.shape == [1, 1])
        #expect(abs(output.item - 1.4) < 1e-6)
    }

    @Test func sweetsPerceptronFiresExactlyWhenTheFavouriteIsPresent() {
        let sweets = Perceptron(weights: [2, 6, 2], threshold: 5)
        #expect(sweets.threshold == 5)
        for a in [Float(0), 1] {
            for favourite in [Float(0), 1] {
                for c in [Float(0), 1] {
                    #expect(sweets.predict([a, favourite, c]) == favourite, "inputs \([a, favourite, c])")
                }
            }
        }
    }

    @Test func digitNetworkOfTheNotesHas13002Parameters() {
        let network = Sequential(Linear(784, 16), Sigmoid(), Linear(16, 16), Sigmoid(), Linear(16, 10), Sigmoid())
        #expect(network.parameterCount == 13_002)
        #expect(network(Tensor.zeros([3, 784])).shape == [3, 10])
    }
}
