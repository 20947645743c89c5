import Foundation

/// Trains a `LanguageModel` on random windows of a `TextDataset` (nanoGPT's loop): sample a batch, cross-entropy on
/// every position, backward, optional global-norm clipping, optimizer step; now and then the mean loss of a few
/// train and validation batches.
///
/// The caller builds the optimizer (and optional learning-rate schedule), so any model family brings its own
/// parameter groups. Only the training steps are timed; evaluations are not counted in `millisecondsPerIteration`.
///
/// ```swift
/// let optimizer = Adam(parameters: model.parameters(), learningRate: 2e-3)
/// let trainer = TextTrainer(model: model, dataset: dataset, optimizer: optimizer,
///                           options: .init(iterations: 1000, batchSize: 32))
/// let result = trainer.run { event in print(event) }
/// ```
public final class TextTrainer {
    public struct Options: Sendable {
        public var iterations: Int
        public var batchSize: Int
        /// Global gradient-norm limit (PyTorch's clip_grad_norm_), nil for none.
        public var gradientClip: Float?
        /// Evaluate every this many iterations (and after the last); 0 evaluates only at the end.
        public var evaluationInterval: Int
        /// Batches averaged for each loss estimate.
        public var evaluationBatches: Int
        /// Seeds the training batches; evaluation batches use their own stream derived from it.
        public var seed: UInt64

        public init(iterations: Int = 1000, batchSize: Int = 32, gradientClip: Float? = 1.0, evaluationInterval: Int = 100,
                    evaluationBatches: Int = 20, seed: UInt64 = 1337) {
            precondition(iterations >= 0 && batchSize > 0 && evaluationInterval >= 0 && evaluationBatches > 0,
                         "TextTrainer.Options: counts must be positive")
            self.iterations = iterations
            self.batchSize = batchSize
            self.gradientClip = gradientClip
            self.evaluationInterval = evaluationInterval
            self.evaluationBatches = evaluationBatches
            self.seed = seed
        }
    }

    /// What the loop reports as it goes.
    public enum Event: Sendable {
        /// After each step: the batch loss and the mean time per step so far.
        case step(iteration: Int, loss: Float, millisecondsPerIteration: Double)
        /// A loss estimate on both splits.
        case evaluation(iteration: Int, trainLoss: Float, validationLoss: Float)
    }

    public struct Result: Sendable {
        public var iterations: Int
        public var trainSeconds: Double
        public var millisecondsPerIteration: Double
        public var trainLoss: Float
        public var validationLoss: Float
        /// (iteration, train loss, validation loss) at every evaluation.
        public var evaluations: [(iteration: Int, trainLoss: Float, validationLoss: Float)]
        /// A distributed run: the parameters' checksum (verified equal on every rank) and the seconds the steps
        /// spent waiting for gradient reductions.
        public var parameterChecksum: UInt64? = nil
        public var communicationWaitSeconds = 0.0
    }

    public let model: any LanguageModel
    public let dataset: TextDataset
    public let optimizer: Optimizer
    public let schedule: (any LearningRateSchedule)?
    public let options: Options
    private let baseLearningRate: Float
    private var batchGenerator: RandomGenerator
    private var evaluationGenerator: RandomGenerator
    /// Distributed data parallelism: with a communicator of more than one rank, `batchSize` is each rank's share;
    /// every rank draws the same global batch of `batchSize × size` windows and trains on its own rows, gradients
    /// are averaged over the ranks, and only rank 0 writes checkpoints. Set it before `run`.
    public var communicator: Communicator? { didSet { makeReducer() } }
    /// Gradient bucket size for the distributed reduction.
    public var bucketBytes = DistributedDataParallel.defaultBucketBytes { didSet { makeReducer() } }
    private func makeReducer() {
        ddp = communicator.flatMap {
            $0.size > 1 ? DistributedDataParallel(parameters: optimizer.parameters, communicator: $0, bucketBytes: bucketBytes) : nil
        }
    }
    /// The distributed reducer while `communicator` has more than one rank.
    public private(set) var ddp: DistributedDataParallel?
    /// A signal seen by any rank during the last distributed step (all ranks stop together).
    private var interruptedEverywhere = false

    public init(model: any LanguageModel, dataset: TextDataset, optimizer: Optimizer,
                schedule: (any LearningRateSchedule)? = nil, options: Options = Options()) {
        precondition(model.vocabularySize == dataset.tokenizer.vocabularySize,
                     "TextTrainer: model has \(model.vocabularySize) outputs, vocabulary has \(dataset.tokenizer.vocabularySize) characters")
        self.model = model
        self.dataset = dataset
        self.optimizer = optimizer
        self.schedule = schedule
        self.options = options
        baseLearningRate = optimizer.learningRate
        batchGenerator = RandomGenerator(seed: options.seed)
        evaluationGenerator = RandomGenerator(seed: options.seed &+ 0x9E37)
    }

    /// One training step on a fresh random batch; returns its loss. A non-finite loss or gradient norm leaves the
    /// parameters as they were (no step is taken) and is returned for the caller to stop on.
    @discardableResult
    public func step(iteration: Int) throws -> Float {
        if let schedule { optimizer.learningRate = schedule.learningRate(at: iteration, baseLearningRate: baseLearningRate) }
        let size = ddp?.communicator.size ?? 1
        let batch = dataset.randomBatch(.train, batchSize: options.batchSize * size, generator: &batchGenerator)
        model.train()
        optimizer.zeroGrad()
        let loss: Float
        if let ddp {
            // This rank's windows of the global batch; the mean over the global batch is the ranks' sum of
            // (their mean × their share).
            let share = DistributedDataParallel.share(of: batch.batchSize, rank: ddp.communicator.rank, size: size)
            let length = batch.inputs.count / batch.batchSize
            let weight = Float(share.count) / Float(batch.batchSize)
            let sums = try ddp.backward(weight: weight) {
                var local: [Float] = [0, Runtime.interruptSignal == nil ? 0 : 1]
                guard !share.isEmpty else { return local }
                let mean = DataParallel.backward(rows: share.count) { windows in
                    let tokens = (share.lowerBound + windows.lowerBound) * length..<(share.lowerBound + windows.upperBound) * length
                    return model.logits(tokens: Array(batch.inputs[tokens]), batchSize: windows.count)
                        .crossEntropy(targets: Array(batch.targets[tokens]))
                }
                local[0] = mean * weight
                return local
            }
            loss = sums[0]
            interruptedEverywhere = sums[1] > 0
        } else if model.supportsDataParallelTraining {
            // One shard of whole windows per core (`DataParallel`); the same mean loss and gradients.
            let length = batch.inputs.count / batch.batchSize
            loss = DataParallel.backward(rows: batch.batchSize) { windows in
                let tokens = windows.lowerBound * length..<windows.upperBound * length
                return model.logits(tokens: Array(batch.inputs[tokens]), batchSize: windows.count)
                    .crossEntropy(targets: Array(batch.targets[tokens]))
            }
        } else {
            let batchLoss = model.logits(tokens: batch.inputs, batchSize: batch.batchSize).crossEntropy(targets: batch.targets)
            batchLoss.backward()
            loss = batchLoss.item
        }
        guard loss.isFinite else { return loss }
        if let clip = options.gradientClip {
            let norm = GradientClipping.clipByGlobalNorm(optimizer.parameters, maxNorm: clip)
            guard norm.isFinite else { return norm }
        }
        optimizer.step()
        return loss
    }

    /// The mean loss over `evaluationBatches` random batches of `split`, without gradients.
    public func estimateLoss(_ split: TextDataset.Split) -> Float {
        model.eval()
        defer { model.train() }
        return noGrad {
            var total: Float = 0
            for _ in 0..<options.evaluationBatches {
                // The global batch (every rank evaluates the same windows), so the estimates match a single process's.
                let batch = dataset.randomBatch(split, batchSize: options.batchSize * (ddp?.communicator.size ?? 1),
                                                generator: &evaluationGenerator)
                total += model.logits(tokens: batch.inputs, batchSize: batch.batchSize).crossEntropy(targets: batch.targets).item
            }
            return total / Float(options.evaluationBatches)
        }
    }

    /// Runs all iterations, reporting each step and each evaluation to `onEvent`; stops on the first non-finite loss
    /// (or gradient norm), naming the iteration, with the parameters from before it.
    ///
    /// With `checkpoint`, a checkpoint (model, optimizer moments, iteration, both batch generators, the evaluations
    /// so far) is written every `checkpoint.everyEpochs` × `checkpointInterval` iterations and when SIGINT/SIGTERM
    /// stops the run after a step (`TrainingError.interrupted`); with `resume` the run continues from it and ends as
    /// an uninterrupted one would, bit for bit.
    public func run(onEvent: (Event) -> Void = { _ in }, checkpoint: Checkpointing? = nil,
                    checkpointInterval: Int = 250) throws -> Result {
        var evaluations: [(iteration: Int, trainLoss: Float, validationLoss: Float)] = []
        var trainSeconds = 0.0
        var start = 0
        if let checkpoint, checkpoint.resume, FileManager.default.fileExists(atPath: checkpoint.url.path) {
            (start, evaluations, trainSeconds) = try restore(from: checkpoint.url)
        }
        if let ddp {
            // Every rank continues from the same iteration (a checkpoint only some of them can see would split the
            // job), from rank 0's weights.
            try ddp.communicator.requireAgreement(on: UInt64(start), "the iteration to resume from") {
                $0 == 0 ? "a fresh start" : "iteration \($0)"
            }
            try ddp.broadcastState(of: model)
        }
        func evaluate(_ iteration: Int) {
            let (train, validation) = (estimateLoss(.train), estimateLoss(.validation))
            evaluations.append((iteration, train, validation))
            onEvent(.evaluation(iteration: iteration, trainLoss: train, validationLoss: validation))
        }
        let every = checkpointInterval * (checkpoint?.everyEpochs ?? 1)
        for iteration in start..<Swift.max(start, options.iterations) {
            let begin = Stopwatch.now()
            let loss = try step(iteration: iteration)
            trainSeconds += Stopwatch.now() - begin
            let done = iteration + 1
            guard loss.isFinite else { throw TrainingError.nonFiniteLoss(epoch: 1, batch: done, step: iteration, loss: loss) }
            onEvent(.step(iteration: done, loss: loss, millisecondsPerIteration: 1000 * trainSeconds / Double(done - start)))
            if options.evaluationInterval > 0, done % options.evaluationInterval == 0, done < options.iterations {
                evaluate(done)
            }
            let lead = ddp?.communicator.isLead ?? true
            try Checkpointing.endOfStep(checkpoint, step: done, every: every, position: "iteration \(done)",
                                        interrupted: ddp == nil ? Runtime.interruptSignal : (interruptedEverywhere ? 15 : nil)) { url in
                if lead { try save(next: done, evaluations: evaluations, trainSeconds: trainSeconds, to: url) }
            }
        }
        evaluate(options.iterations)
        let last = evaluations[evaluations.count - 1]
        let timed = options.iterations - start
        var result = Result(iterations: options.iterations, trainSeconds: trainSeconds,
                            millisecondsPerIteration: timed > 0 ? 1000 * trainSeconds / Double(timed) : 0,
                            trainLoss: last.trainLoss, validationLoss: last.validationLoss, evaluations: evaluations)
        if let ddp {
            result.parameterChecksum = try ddp.verifyIdenticalParameters()
            result.communicationWaitSeconds = ddp.waitSeconds
        }
        return result
    }

    private func save(next iteration: Int, evaluations: [(iteration: Int, trainLoss: Float, validationLoss: Float)],
                      trainSeconds: Double, to url: URL) throws {
        let (tensors, modelMetadata) = TrainingCheckpoint.modelState(model, optimizer)
        var metadata = modelMetadata
        let p = TrainingCheckpoint.prefix
        metadata[p + "iteration"] = String(iteration)
        metadata[p + "seed"] = String(options.seed)
        metadata[p + "batch_size"] = String(options.batchSize)
        metadata[p + "ranks"] = String(ddp?.communicator.size ?? 1)
        metadata[p + "batch_generator"] = TrainingCheckpoint.encode(batchGenerator)
        metadata[p + "evaluation_generator"] = TrainingCheckpoint.encode(evaluationGenerator)
        metadata[p + "train_seconds"] = String(trainSeconds)
        metadata[p + "evaluations"] = evaluations.map { "\($0.iteration):\($0.trainLoss.bitPattern):\($0.validationLoss.bitPattern)" }
            .joined(separator: ",")
        try SafeTensorsFile(floatTensors: tensors, metadata: metadata).write(to: url)
    }

    private func restore(from url: URL) throws
        -> (start: Int, evaluations: [(iteration: Int, trainLoss: Float, validationLoss: Float)], trainSeconds: Double) {
        let name = url.lastPathComponent
        let file = try SafeTensorsFile(contentsOf: url)
        let m = file.metadata, p = TrainingCheckpoint.prefix
        func words(_ key: String) throws -> [UInt64] {
            guard let w = TrainingCheckpoint.decodeGeneratorState(m[p + key]) else {
                throw TrainingError.badCheckpoint(path: name, reason: "no '\(p + key)'")
            }
            return w
        }
        guard let start = m[p + "iteration"].flatMap(Int.init), start >= 0, start <= options.iterations else {
            throw TrainingError.badCheckpoint(path: name, reason: "its iteration is missing or past --iterations \(options.iterations)")
        }
        guard m[p + "seed"] == String(options.seed), m[p + "batch_size"] == String(options.batchSize) else {
            throw TrainingError.badCheckpoint(path: name, reason: "it was written with seed \(m[p + "seed"] ?? "?") and batch size \(m[p + "batch_size"] ?? "?"); resume with the same settings, or start afresh without --resume")
        }
        let ranks = ddp?.communicator.size ?? 1
        guard (m[p + "ranks"] ?? "1") == String(ranks) else {
            throw TrainingError.badCheckpoint(path: name, reason: "it was written by a job of \(m[p + "ranks"] ?? "?") processes, this one has \(ranks) (the global batch would differ); resume with the same -np")
        }
        let all = try file.floatTensors()
        try TrainingCheckpoint.restoreModelState(model, optimizer, from: file, tensors: all, name: name)
        batchGenerator.state = try words("batch_generator")
        evaluationGenerator.state = try words("evaluation_generator")
        var evaluations: [(iteration: Int, trainLoss: Float, validationLoss: Float)] = []
        for item in (m[p + "evaluations"] ?? "").split(separator: ",") {
            let parts = item.split(separator: ":").compactMap { UInt32($0) }
            guard parts.count == 3 else { throw TrainingError.badCheckpoint(path: name, reason: "its evaluations do not parse") }
            evaluations.append((Int(parts[0]), Float(bitPattern: parts[1]), Float(bitPattern: parts[2])))
        }
        return (start, evaluations, m[p + "train_seconds"].flatMap(Double.init) ?? 0)
    }
}
