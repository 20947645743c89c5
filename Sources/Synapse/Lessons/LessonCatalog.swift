/// The lessons in the order the notes tell the story, each with its one-line summary (`synapse lesson` lists them).
public enum LessonCatalog {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        /// Whether it trains on MNIST (and so needs the data, and takes longer than a second).
        public let usesMNIST: Bool
    }

    public static let entries: [Entry] = [
        Entry(name: "neuron", summary: "z = w·x + b through ReLU, sigmoid, tanh, GELU; their derivatives; softmax", usesMNIST: false),
        Entry(name: "perceptron", summary: "the sweets decision, the perceptron rule on AND/OR/XOR, why sigmoid neurons", usesMNIST: false),
        Entry(name: "mnist-network", summary: "the 784-16-16-10 network: 13,002 parameters, what its neurons see, one digit through it", usesMNIST: true),
        Entry(name: "cost-surface", summary: "J(w, b) as a bowl; batch, stochastic, mini-batch and momentum walks down it", usesMNIST: false),
        Entry(name: "gradient-descent", summary: "the variants side by side on MNIST: loss against examples seen, time per epoch", usesMNIST: true),
        Entry(name: "backprop-calculus", summary: "∂C/∂w = a·σ′(z)·2(a − y) factor by factor, against autograd and finite differences", usesMNIST: false),
        Entry(name: "derivatives", summary: "(L(x+h) − L(x))/h next to the scalar engine's gradients", usesMNIST: false),
        Entry(name: "moons", summary: "a scalar-engine MLP learning two half-moons", usesMNIST: false),
        Entry(name: "float-formats", summary: "FP32/FP16/BF16 bits, range and epsilon; absmax and zero-point quantization", usesMNIST: false),
        Entry(name: "cons", summary: "what a trained network cannot do: nonsense inputs, drawing, memorised noise", usesMNIST: true),
        Entry(name: "learning-kinds", summary: "supervised, unsupervised, semi-supervised and reinforcement learning, each run small", usesMNIST: true),
    ]
}
