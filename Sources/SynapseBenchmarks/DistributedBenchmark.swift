import Foundation
import Synapse

/// The mlp and char-gpt workloads of shared/bench/WORKLOADS.md trained data-parallel: the same global batch (128
/// images, 12 windows) cut among the ranks of `communicator` (or whole in one process without one), for
/// `synapse bench ddp` under mpirun and scripts/bench_ddp.py's comparison with PyTorch's DDP on Gloo.
public enum DistributedBenchmark {
    public enum Workload: String, CaseIterable, Sendable {
        case mlp
        case charGPT = "char-gpt"

        /// The global batch of WORKLOADS.md.
        public var globalBatch: Int { self == .mlp ? 128 : 12 }
    }

    public struct Result: Sendable {
        public var workload: Workload
        public var ranks: Int
        public var steps: Int
        public var trainSeconds: Double
        /// Examples (images, windows) of the global batch per second.
        public var samplesPerSecond: Double
        /// Milliseconds per step spent blocked on the gradient reduction (0 in one process).
        public var waitMillisecondsPerStep: Double
        /// The loss at the end (mlp: the epoch's training loss; char-gpt: validation loss of 20 batches).
        public var loss: Float
    }

    /// Trains `workload`: mlp one epoch of MNIST's 60,000 training images (each rank its share of every batch of
    /// 128), char-gpt `iterations` steps of 12 windows. Only training is timed.
    public static func run(_ workload: Workload, communicator: Communicator?, mnist: MNIST?, text: String?,
                           epochs: Int = 1, iterations: Int = 300, seed: UInt64 = 1337,
                           bucketBytes: Int = DistributedDataParallel.defaultBucketBytes) throws -> Result {
        let ranks = communicator?.size ?? 1
        precondition(workload.globalBatch % ranks == 0, "DistributedBenchmark: \(ranks) ranks do not divide the batch of \(workload.globalBatch)")
        let perRank = workload.globalBatch / ranks
        switch workload {
        case .mlp:
            guard let mnist else { preconditionFailure("DistributedBenchmark.mlp: no MNIST") }
            var rng = RandomGenerator(seed: seed)
            let model = MNISTArchitecture.mlp.makeModel(generator: &rng)
            let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 1e-3),
                                  loss: .crossEntropy)
            trainer.communicator = communicator
            trainer.bucketBytes = bucketBytes
            let history = try trainer.fit(TrainingData(inputs: mnist.train.images, labels: mnist.train.labels),
                                          epochs: epochs, batchSize: perRank, seed: seed)
            let seconds = history.records.reduce(0) { $0 + $1.seconds }
            let steps = epochs * ((mnist.train.count - 1) / workload.globalBatch + 1)
            return Result(workload: workload, ranks: ranks, steps: steps, trainSeconds: seconds,
                          samplesPerSecond: Double(epochs * mnist.train.count) / seconds,
                          waitMillisecondsPerStep: 1000 * trainer.communicationWaitSeconds / Double(steps),
                          loss: history.records.last?.trainLoss ?? .nan)
        case .charGPT:
            guard let text else { preconditionFailure("DistributedBenchmark.charGPT: no text") }
            let dataset = try TextDataset(text: text, blockLength: 64, source: "tinyshakespeare")
            let model = GPT(GPTConfiguration(vocabularySize: dataset.tokenizer.vocabularySize, blockSize: 64, layers: 4,
                                             heads: 4, embedding: 128, bias: false), seed: seed)
            let optimizer = AdamW(groups: model.parameterGroups(learningRate: 1e-3, weightDecay: 0.1), beta1: 0.9, beta2: 0.99)
            let schedule = WarmupCosineSchedule(warmupSteps: 100, totalSteps: iterations, minimumLearningRate: 1e-4)
            let trainer = TextTrainer(model: model, dataset: dataset, optimizer: optimizer, schedule: schedule,
                                      options: .init(iterations: iterations, batchSize: perRank, gradientClip: 1.0,
                                                     evaluationInterval: 0, evaluationBatches: 20, seed: seed))
            trainer.communicator = communicator
            trainer.bucketBytes = bucketBytes
            let r = try trainer.run()
            return Result(workload: workload, ranks: ranks, steps: iterations, trainSeconds: r.trainSeconds,
                          samplesPerSecond: Double(iterations * workload.globalBatch) / r.trainSeconds,
                          waitMillisecondsPerStep: 1000 * r.communicationWaitSeconds / Double(iterations),
                          loss: r.validationLoss)
        }
    }
}
