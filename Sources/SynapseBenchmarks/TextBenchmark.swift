import Synapse
import Foundation

/// The char-lstm workload of shared/bench/WORKLOADS.md, run as the PyTorch reference (torch_char_lstm.py) does:
/// tiny Shakespeare in memory, embedding 128 → one LSTM layer of 256 → linear head, block 64, batch 32, Adam lr 2e-3,
/// gradient clipping at 1.0, 1000 iterations timed, then the mean loss of 20 train and 20 validation batches.
/// `synapse bench text` prints the result; scripts/bench_text.py runs PyTorch beside it.
public enum TextBenchmark {
    public enum Workload: String, CaseIterable, Sendable {
        case charLSTM = "char-lstm"
        case charGPT = "char-gpt"

        /// The iteration count of the PyTorch reference script.
        public var defaultIterations: Int { self == .charGPT ? 2000 : 1000 }
    }

    public struct Result: Sendable {
        public var workload: Workload
        public var iterations: Int
        public var parameters: Int
        public var millisecondsPerIteration: Double
        public var trainLoss: Float
        public var validationLoss: Float
    }

    /// The workload's default corpus: `../shared/data/tinyshakespeare/input.txt` from the package root (or the
    /// current directory).
    public static func defaultTextFile(packageRoot: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        -> URL {
        packageRoot.appendingPathComponent("../shared/data/tinyshakespeare/input.txt").standardizedFileURL
    }

    /// Trains `workload` for `iterations` steps and evaluates it on `evaluationBatches` random batches of each split
    /// (20, as the PyTorch scripts' `--eval-iters`; more batches give a less noisy loss for comparing seeds).
    public static func run(_ workload: Workload, text: String, iterations: Int = 1000, seed: UInt64 = 1337,
                           evaluationBatches: Int = 20, source: String = "text") throws -> Result {
        if workload == .charGPT {
            return try runCharGPT(text: text, iterations: iterations, seed: seed, evaluationBatches: evaluationBatches,
                                  source: source)
        }
        let dataset = try TextDataset(text: text, blockLength: 64, source: source)
        var rng = RandomGenerator(seed: seed)
        let model = RecurrentLanguageModel(.init(kind: .lstm, vocabularySize: dataset.tokenizer.vocabularySize,
                                                 embeddingSize: 128, hiddenSize: 256, layers: 1), generator: &rng)
        let optimizer = Adam(parameters: model.parameters(), learningRate: 2e-3)
        let trainer = TextTrainer(model: model, dataset: dataset, optimizer: optimizer,
                                  options: .init(iterations: iterations, batchSize: 32, gradientClip: 1.0,
                                                 evaluationInterval: 0, evaluationBatches: evaluationBatches, seed: seed))
        let r = try trainer.run()
        return Result(workload: workload, iterations: iterations, parameters: model.parameterCount,
                      millisecondsPerIteration: r.millisecondsPerIteration, trainLoss: r.trainLoss,
                      validationLoss: r.validationLoss)
    }
}
