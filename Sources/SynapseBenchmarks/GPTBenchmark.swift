import Synapse
/// The char-gpt workload of shared/bench/WORKLOADS.md, as torch_char_gpt.py runs it: nanoGPT's CPU configuration
/// (4 layers, 4 heads, embedding 128, block 64, batch 12, no biases, tied head), AdamW (0.9, 0.99) lr 1e-3 with 100
/// warm-up steps and cosine decay to 1e-4, weight decay 0.1 on matrices, clipping at 1.0; only the training steps are
/// timed, then the mean loss of 20 (or `evaluationBatches`) train and validation batches.
extension TextBenchmark {
    static func runCharGPT(text: String, iterations: Int, seed: UInt64, evaluationBatches: Int,
                           source: String) throws -> Result {
        let dataset = try TextDataset(text: text, blockLength: 64, source: source)
        let model = GPT(GPTConfiguration(vocabularySize: dataset.tokenizer.vocabularySize, blockSize: 64, layers: 4,
                                         heads: 4, embedding: 128, bias: false), seed: seed)
        let optimizer = AdamW(groups: model.parameterGroups(learningRate: 1e-3, weightDecay: 0.1), beta1: 0.9, beta2: 0.99)
        let schedule = WarmupCosineSchedule(warmupSteps: 100, totalSteps: iterations, minimumLearningRate: 1e-4)
        let trainer = TextTrainer(model: model, dataset: dataset, optimizer: optimizer, schedule: schedule,
                                  options: .init(iterations: iterations, batchSize: 12, gradientClip: 1.0,
                                                 evaluationInterval: 0, evaluationBatches: evaluationBatches, seed: seed))
        let r = try trainer.run()
        return Result(workload: .charGPT, iterations: iterations, parameters: model.parameterCount,
                      millisecondsPerIteration: r.millisecondsPerIteration, trainLoss: r.trainLoss,
                      validationLoss: r.validationLoss)
    }
}
