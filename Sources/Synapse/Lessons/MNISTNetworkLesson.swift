import Foundation

/// The notes' 784-16-16-10 network: its 13,002 parameters counted layer by layer, a short training run, what each
/// first-layer neuron looks for (its 784 weights as a 28×28 picture), and one test digit flowing through the layers,
/// recomputed by hand as a = σ(W·a + b) to show that is all the network does.
public enum MNISTNetworkLesson {
    public static func run(_ log: LessonLog, data: MNIST, epochs: Int = 3, seed: UInt64 = 0) throws {
        guard epochs >= 1 else { throw LessonError.invalidSetting("mnist-network: epochs must be at least 1, got \(epochs)") }
        guard !data.test.labels.isEmpty else { throw LessonError.invalidSetting("mnist-network: the test split is empty") }
        log.heading("the network: 784 inputs, 16 and 16 sigmoid neurons, 10 outputs")
        var generator = RandomGenerator(seed: seed)
        let fresh = MNISTArchitecture.seed.makeModel(generator: &generator)
        let linears = fresh.layers.compactMap { $0 as? Linear }
        var total = 0
        for (i, layer) in linears.enumerated() {
            let (inputs, outputs) = (layer.inputFeatures, layer.outputFeatures)
            log.say("layer \(i + 1): \(inputs) → \(outputs): \(inputs) × \(outputs) = \(inputs * outputs) weights + \(outputs) biases")
            total += inputs * outputs + outputs
        }
        log.say("12,544 + 16 + 256 + 16 + 160 + 10 = \(total.formatted())")
        log.check("parameters counted by hand", Double(total), equals: 13_002, tolerance: 0)
        log.check("parameters the model holds", Double(fresh.parameterCount), equals: 13_002, tolerance: 0)

        log.heading("a short training: \(epochs) epoch\(epochs == 1 ? "" : "s") of mini-batch SGD on \(data.train.count.formatted()) images")
        var options = MNISTTraining.Options(architecture: .seed, epochs: epochs)
        options.seed = seed
        let result = try MNISTTraining(options: options, progress: .off).run(on: data)
        for epoch in result.history.records {
            log.say(String(format: "epoch %d  train loss %.4f  validation accuracy %.2f%%", epoch.epoch,
                           Double(epoch.trainLoss), 100 * Double(epoch.validationAccuracy ?? .nan)))
        }
        let accuracy = result.testMetrics.accuracy
        log.say(String(format: "test accuracy %.2f%% (%d of %d digits) in %.1f s", 100 * accuracy,
                       result.testMetrics.correct, result.testMetrics.total, result.trainingSeconds))
        log.check("the short training learns (test accuracy ≥ 80%)", accuracy >= 0.8, String(format: "%.2f%%", 100 * accuracy))

        log.heading("what each first-layer neuron looks for")
        let trained = result.model.layers.compactMap { $0 as? Linear }
        let grid = ImageGrid(colormap: .diverging, normalization: .perImage, columns: 8, scale: 4, padding: 2,
                             paddingColor: (255, 255, 255))
        try log.picture("first-layer-weights.png") {
            try grid.write(ImageGrid.tiles(from: trained[0].weight, width: 28, height: 28), to: $0)
        }
        log.say("red pixels push the neuron's sum up, blue pull it down: each neuron weighs a pattern of strokes;")
        log.say("with 16 of them the pictures are blurred mixtures, not the neat edges the notes hope for.")

        log.heading("one test digit through the network, layer by layer")
        let index = 0
        let image = data.test.images.reshaped([data.test.count, 784])
        let pixels = Array(image.scalars[(index * 784)..<((index + 1) * 784)])
        // By hand, in Double: a¹ = σ(W¹x + b¹), a² = σ(W²a¹ + b²), z³ = W³a² + b³, p = softmax(z³).
        func dense(_ layer: Linear, _ input: [Double]) -> [Double] {
            let w = layer.weight.scalars, b = layer.bias?.scalars ?? []
            return (0..<layer.outputFeatures).map { o in
                var sum = b.isEmpty ? 0 : Double(b[o])
                for i in 0..<layer.inputFeatures { sum += Double(w[o * layer.inputFeatures + i]) * input[i] }
                return sum
            }
        }
        let sigmoid = { (z: Double) in 1 / (1 + exp(-z)) }
        let a1 = dense(trained[0], pixels.map(Double.init)).map(sigmoid)
        let a2 = dense(trained[1], a1).map(sigmoid)
        let logits = dense(trained[2], a2)
        let largest = logits.max()!
        let exps = logits.map { exp($0 - largest) }
        let probabilities = exps.map { $0 / exps.reduce(0, +) }
        let modelLogits = noGrad { result.model(Tensor(shape: [1, 784], scalars: pixels)) }.scalars
        let worst = zip(logits, modelLogits).map { abs($0.0 - Double($0.1)) }.max() ?? .infinity
        log.check("a = σ(W·a + b) by hand gives the model's logits", worst <= 1e-4, "largest |Δ| \(String(format: "%.1e", worst))")
        let answer = probabilities.firstIndex(of: probabilities.max()!)!
        log.say("label \(data.test.labels[index]); the network answers \(answer) with probability \(String(format: "%.3f", probabilities[answer]))")
        log.say("hidden 1: " + a1.map { String(format: "%.2f", $0) }.joined(separator: " "))
        log.say("hidden 2: " + a2.map { String(format: "%.2f", $0) }.joined(separator: " "))
        let diagram = NetworkDiagram(
            title: "a test digit \(data.test.labels[index]) through the 784-16-16-10 network",
            image: GrayImage(width: 28, height: 28, pixels: pixels),
            layers: [NetworkDiagram.Layer(title: "hidden 1 (σ)", activations: a1.map(Float.init)),
                     NetworkDiagram.Layer(title: "hidden 2 (σ)", activations: a2.map(Float.init)),
                     NetworkDiagram.Layer(title: "output (softmax)", activations: probabilities.map(Float.init),
                                          labels: (0..<10).map(String.init))],
            weights: [trained[1].weight.scalars, trained[2].weight.scalars],
            caption: "the darker a neuron, the more active; lines: the strongest weights, red positive, blue negative")
        try log.picture("activations.svg") { try diagram.write(to: $0) }
    }
}
