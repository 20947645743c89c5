import Synapse
/// The MNIST workloads of the benchmark spec (shared/bench/WORKLOADS.md), run the way the PyTorch reference does:
/// data in memory, a seeded permutation per epoch, forward → cross-entropy → zero grads → backward → step, and only
/// the training loop timed. `synapse bench mnist` prints the result; scripts/bench_mnist.py runs PyTorch beside it.
public enum MNISTBenchmark {
    public enum Workload: String, CaseIterable, Sendable {
        case seedMLP = "seed-mlp"
        case mlp
        case cnn

        /// Batch size, optimizer and learning rate, as in the spec.
        public var settings: (batchSize: Int, optimizer: OptimizerKind, learningRate: Float) {
            switch self {
            case .seedMLP: return (32, .sgd, 1.0)
            case .mlp: return (128, .adam, 1e-3)
            case .cnn: return (64, .adam, 1e-3)
            }
        }

        public var architecture: MNISTArchitecture {
            switch self {
            case .seedMLP: return .seed
            case .mlp: return .mlp
            case .cnn: return .cnn
            }
        }
    }

    public struct Result: Sendable {
        public var workload: Workload
        public var epochs: Int
        public var trainSeconds: Double
        public var samplesPerSecond: Double
        public var testAccuracy: Double
    }

    /// Trains `workload` for `epochs` epochs on `data` and measures it.
    public static func run(_ workload: Workload, epochs: Int, data: MNIST, seed: UInt64 = 0) -> Result {
        var rng = RandomGenerator(seed: seed)
        let model = workload.architecture.makeModel(generator: &rng)
        let (batchSize, optimizerKind, learningRate) = workload.settings
        let optimizer = optimizerKind.make(parameters: model.parameters(), learningRate: learningRate)
        let images = workload.architecture.inputs(data.train.images), labels = data.train.labels
        let n = labels.count
        var order = Array(0..<n)
        var shuffler = RandomGenerator(seed: seed &+ 1)
        model.train()
        let start = Stopwatch.now()
        for _ in 0..<epochs {
            order.shuffle(using: &shuffler)
            for begin in stride(from: 0, to: n, by: batchSize) {
                let indices = Array(order[begin..<Swift.min(n, begin + batchSize)])
                let batchLabels = indices.map { labels[$0] }
                let loss = model(images.gather(indices)).crossEntropy(targets: batchLabels)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
            }
        }
        let seconds = Stopwatch.now() - start
        let predictions = model.predictClasses(workload.architecture.inputs(data.test.images))
        let accuracy = ClassificationMetrics(predictions: predictions, labels: data.test.labels, classCount: 10).accuracy
        return Result(workload: workload, epochs: epochs, trainSeconds: seconds,
                      samplesPerSecond: Double(epochs * n) / seconds, testAccuracy: accuracy)
    }
}
