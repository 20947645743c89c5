import Foundation

/// Trains a model on in-memory data: the loop every framework writes, in one place.
///
/// Each epoch shuffles the examples (seeded, so runs repeat exactly), cuts them into batches of `batchSize`, and for
/// every batch runs forward → loss → backward → optional gradient clipping → optimizer step. After the epoch it
/// evaluates the validation data (evaluation mode, no graph) and records loss, accuracy, learning rate and time.
///
/// The batch size selects the flavour of gradient descent, as in the notes:
/// - `batchSize: data.count` — **batch** gradient descent: one step per epoch on the gradient of the whole set;
/// - `batchSize: 1` — **stochastic** gradient descent: one step per example;
/// - anything between — **mini-batch** gradient descent, the usual choice (32–256).
///
/// Everything else — early stopping, keeping the best weights, learning-rate schedules, progress displays — is a
/// `TrainingCallback`. The trainer itself prints nothing.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let model = Sequential(Linear(784, 128, generator: &rng), ReLU(), Linear(128, 10, generator: &rng))
/// let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-3)
/// let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy, callbacks: [
///     EarlyStopping(monitor: .validationLoss, patience: 3),
///     KeepBestCheckpoint(monitor: .validationAccuracy),
/// ])
/// let history = try trainer.fit(TrainingData(inputs: trainImages, labels: trainLabels),
///                               validation: TrainingData(inputs: testImages, labels: testLabels),
///                               epochs: 10, batchSize: 64, seed: 42)
/// try history.writeCSV(to: URL(fileURLWithPath: "history.csv"))
/// ```
public final class Trainer {
    public let model: Module
    public let optimizer: Optimizer
    public var loss: TrainingLoss
    public var callbacks: [TrainingCallback]
    /// When set, gradients are clipped to this global norm before every step (`GradientClipping.clipByGlobalNorm`),
    /// and a NaN or infinite norm stops training with `TrainingError.nonFiniteGradient` before the step.
    public var gradientClipNorm: Float?
    /// Distributed data parallelism: with a communicator of more than one rank, `batchSize` is each rank's share,
    /// every rank walks the same order of global batches of `batchSize × size` and takes its own rows, gradients
    /// are averaged over the ranks (`DistributedDataParallel`) and losses and accuracies are the global batch's.
    /// Only rank 0 writes checkpoints; each rank's callbacks run (give the others a quiet progress display).
    public var communicator: Communicator?
    /// Gradient bucket size for the distributed reduction.
    public var bucketBytes = DistributedDataParallel.defaultBucketBytes
    /// After a distributed `fit`: the parameters' checksum, verified equal on every rank.
    public private(set) var parameterChecksum: UInt64?
    /// After a distributed `fit`: seconds the steps spent waiting for gradient reductions to finish.
    public private(set) var communicationWaitSeconds = 0.0

    /// The optimizer should hold the model's parameters (`model.parameters()`); the trainer steps it as it is.
    public init(model: Module, optimizer: Optimizer, loss: TrainingLoss, callbacks: [TrainingCallback] = [],
                gradientClipNorm: Float? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.callbacks = callbacks
        self.gradientClipNorm = gradientClipNorm
    }

    /// The number of batches an epoch of `examples` examples has (as `DataLoader.batchCount` without `dropLast`).
    public func batchCount(examples: Int, batchSize: Int) -> Int { examples == 0 ? 0 : (examples - 1) / batchSize + 1 }

    /// Trains for `epochs` epochs (fewer if a callback stops it) and returns the per-epoch history.
    ///
    /// - Parameters:
    ///   - validation: evaluated after every epoch; needed by callbacks that monitor `val_loss` / `val_accuracy`.
    ///   - batchSize: examples per step (see the type's documentation); the last batch of an epoch may be smaller.
    ///   - shuffle: reorder the examples every epoch (with `seed` and the epoch number).
    ///   - validationBatchSize: batch size for evaluation only (memory, not results); defaults to `max(batchSize, 256)`.
    /// - Throws: `TrainingError.nonFiniteLoss` naming the epoch and batch where the loss became NaN or infinite (the
    ///   step is not applied; likewise `.nonFiniteGradient` with clipping on); configuration errors before the first step; errors thrown by callbacks.
    ///   - checkpoint: keep a checkpoint there (every `everyEpochs` epochs, and when SIGINT/SIGTERM stops the run
    ///     after `Runtime.stopTrainingOnInterrupt()`), and with `resume` continue from it: the run then ends with the
    ///     weights an uninterrupted one would have. An interrupt throws `TrainingError.interrupted`.
    @discardableResult
    public func fit(_ data: TrainingData, validation: TrainingData? = nil, epochs: Int, batchSize: Int,
                    shuffle: Bool = true, seed: UInt64 = 0, validationBatchSize: Int? = nil,
                    checkpoint: Checkpointing? = nil) throws -> TrainingHistory {
        precondition(epochs >= 0, "Trainer.fit: negative epoch count \(epochs)")
        precondition(batchSize > 0, "Trainer.fit: batchSize must be positive, got \(batchSize)")
        guard data.count > 0 else { throw TrainingError.emptyData }
        try check(data, role: "training")
        if let validation { try check(validation, role: "validation") }

        let n = data.count
        let world = communicator.flatMap { $0.size > 1 ? $0 : nil }
        let ddp = world.map { DistributedDataParallel(parameters: optimizer.parameters, communicator: $0, bucketBytes: bucketBytes) }
        let batchSize = Swift.min(batchSize * (world?.size ?? 1), n)
        let loader = DataLoader(inputs: data.inputs, labels: data.labels, targets: data.targets, batchSize: batchSize,
                                shuffle: shuffle, seed: seed, shard: world.map { ($0.rank, $0.size) })
        let context = TrainingContext(model: model, optimizer: optimizer, epochs: epochs,
                                      batchesPerEpoch: loader.batchCount, exampleCount: n)
        let hasLabels = data.labels != nil
        for callback in callbacks {
            try callback.trainingWillBegin(context, hasValidation: validation != nil, hasLabels: hasLabels)
        }
        let fingerprint = TrainingCheckpoint.Fingerprint(seed: seed, batchSize: batchSize, examples: n, shuffle: shuffle)
        // Resuming: after the callbacks began (the schedules took the base rates), restore everything and skip ahead.
        var resumed: TrainingPosition?
        if let checkpoint, checkpoint.resume, FileManager.default.fileExists(atPath: checkpoint.url.path) {
            resumed = try TrainingCheckpoint.read(from: checkpoint.url, fingerprint: fingerprint, model: model,
                                                  optimizer: optimizer, callbacks: callbacks)
            context.globalStep = resumed!.globalStep
            context.history = resumed!.history
        }
        if let ddp {
            // Every rank must continue from the same place (a checkpoint only some ranks can see would split them),
            // and from rank 0's weights.
            let position = UInt64(resumed?.epoch ?? 0) << 40 | UInt64(resumed?.batchesDone ?? 0) << 20 | UInt64(context.globalStep)
            try ddp.communicator.requireAgreement(on: position, "the resume position") { value in
                value == 0 ? "a fresh start" : "epoch \(value >> 40), batch \((value >> 20) & 0xFFFFF), step \(value & 0xFFFFF)"
            }
            try ddp.broadcastState(of: model)
        }
        let save = { (position: TrainingPosition) throws in
            guard let checkpoint, world?.isLead ?? true else { return }
            try TrainingCheckpoint.write(position, fingerprint: fingerprint, model: self.model, optimizer: self.optimizer,
                                         callbacks: self.callbacks, to: checkpoint.url)
        }
        for epoch in stride(from: resumed?.epoch ?? 1, through: epochs, by: 1) {
            let started = Stopwatch.now()
            context.epoch = epoch
            model.train()
            for callback in callbacks { callback.epochWillBegin(context) }
            // A checkpoint written mid-epoch continues that epoch after its last finished batch.
            var partial = (batches: 0, lossSum: 0.0, correct: 0, examples: 0)
            if let r = resumed, r.epoch == epoch { partial = (r.batchesDone, r.lossSum, r.correct, r.examplesSeen) }
            context.examplesSeen = partial.examples
            let (lossSum, correct) = try trainOneEpoch(loader, context: context, resuming: partial, ddp: ddp) { position in
                try save(position)
                throw TrainingError.interrupted(signal: Runtime.interruptSignal ?? 2,
                                                after: "epoch \(position.epoch), batch \(position.batchesDone)",
                                                checkpoint: checkpoint?.url.path)
            }
            var record = EpochRecord(epoch: epoch, trainLoss: Float(lossSum / Double(n)),
                                     trainAccuracy: hasLabels ? Float(correct) / Float(n) : nil,
                                     learningRate: optimizer.learningRate, seconds: 0)
            if let validation {
                let result = evaluate(validation, batchSize: validationBatchSize ?? Swift.max(batchSize, 256))
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
            }
            record.seconds = Stopwatch.now() - started
            context.history.records.append(record)
            var stop: String?
            for callback in callbacks {
                if case .stop(let reason) = try callback.epochDidEnd(context, record: record), stop == nil { stop = reason }
            }
            if let stop {
                context.history.stopReason = stop
                break
            }
            if let checkpoint, epoch % checkpoint.everyEpochs == 0 || epoch == epochs {
                try save(TrainingPosition(epoch: epoch + 1, batchesDone: 0, globalStep: context.globalStep, lossSum: 0,
                                          correct: 0, examplesSeen: 0, history: context.history))
            }
        }
        model.train()
        for callback in callbacks { try callback.trainingDidEnd(context) }
        if let ddp {
            parameterChecksum = try ddp.verifyIdenticalParameters()
            communicationWaitSeconds = ddp.waitSeconds
        }
        return context.history
    }

    /// One pass over the loader's batches for `context.epoch`: forward, loss, stop on a non-finite loss or gradient
    /// norm (before the step, so the parameters stay those from before the batch), backward, clipping, step.
    /// Returns the loss summed over examples and the correct predictions. `resuming` skips the batches a checkpoint
    /// already trained and starts from its sums; when SIGINT/SIGTERM arrived, `interrupted` gets the position after
    /// the step just finished (and throws).
    private func trainOneEpoch(_ loader: DataLoader, context: TrainingContext,
                               resuming: (batches: Int, lossSum: Double, correct: Int, examples: Int),
                               ddp: DistributedDataParallel? = nil,
                               interrupted: (TrainingPosition) throws -> Void) throws -> (lossSum: Double, correct: Int) {
        if let ddp {
            return try trainOneDistributedEpoch(loader, context: context, resuming: resuming, ddp: ddp, interrupted: interrupted)
        }
        let epoch = context.epoch
        let parameters = optimizer.parameters
        var lossSum = resuming.lossSum
        var correct = resuming.correct
        // The order depends only on (seed, epoch); the loader assembles the next batch in the background, into the
        // buffers of the previous one once this loop has dropped that batch and the graph built from it.
        for (b, batch) in loader.batches(epoch: epoch).enumerated() where b >= resuming.batches {
            context.batch = b + 1
            for callback in callbacks { callback.batchWillBegin(context) }
            optimizer.zeroGrad()
            let output = model(batch.inputs)
            let lossTensor = loss.compute(output, batch)
            let value = lossTensor.item
            guard value.isFinite else {
                throw TrainingError.nonFiniteLoss(epoch: epoch, batch: b + 1, step: context.globalStep, loss: value)
            }
            lossTensor.backward()
            if let gradientClipNorm {
                let norm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: gradientClipNorm)
                guard norm.isFinite else {
                    throw TrainingError.nonFiniteGradient(epoch: epoch, batch: b + 1, step: context.globalStep, norm: norm)
                }
            }
            optimizer.step()
            lossSum += Double(value) * Double(batch.count)
            if !batch.labels.isEmpty { correct += Self.correctPredictions(output, batch.labels) }
            context.globalStep += 1
            context.examplesSeen += batch.count
            for callback in callbacks { callback.batchDidEnd(context, loss: value) }
            if Runtime.interruptSignal != nil {
                try interrupted(TrainingPosition(epoch: epoch, batchesDone: b + 1, globalStep: context.globalStep,
                                                 lossSum: lossSum, correct: correct, examplesSeen: context.examplesSeen,
                                                 history: context.history))
            }
        }
        return (lossSum, correct)
    }

    /// `trainOneEpoch` for one rank of a distributed job: its share of each global batch, gradients averaged over
    /// the ranks, and the loss, accuracy, non-finite check and interrupt all decided on the global batch (summed
    /// with the last gradient bucket), so every rank takes the same decisions at the same step.
    private func trainOneDistributedEpoch(_ loader: DataLoader, context: TrainingContext,
                                          resuming: (batches: Int, lossSum: Double, correct: Int, examples: Int),
                                          ddp: DistributedDataParallel,
                                          interrupted: (TrainingPosition) throws -> Void) throws -> (lossSum: Double, correct: Int) {
        let epoch = context.epoch
        let parameters = optimizer.parameters
        var lossSum = resuming.lossSum
        var correct = resuming.correct
        let examples = loader.sampleCount
        for (b, batch) in loader.batches(epoch: epoch).enumerated() where b >= resuming.batches {
            context.batch = b + 1
            for callback in callbacks { callback.batchWillBegin(context) }
            optimizer.zeroGrad()
            let globalRows = Swift.min(loader.batchSize, examples - b * loader.batchSize)
            let sums = try ddp.backward(weight: Float(batch.count) / Float(globalRows)) {
                var local: [Float] = [0, 0, 0, Runtime.interruptSignal == nil ? 0 : 1]
                guard batch.count > 0 else { return local }
                let output = model(batch.inputs)
                let lossTensor = loss.compute(output, batch)
                let value = lossTensor.item
                local[0] = value * Float(batch.count)
                if value.isFinite { lossTensor.backward() } else { local[2] = 1 }
                if !batch.labels.isEmpty { local[1] = Float(Self.correctPredictions(output, batch.labels)) }
                return local
            }
            let value = sums[0] / Float(globalRows)
            guard sums[2] == 0, value.isFinite else {
                throw TrainingError.nonFiniteLoss(epoch: epoch, batch: b + 1, step: context.globalStep, loss: sums[2] == 0 ? value : .nan)
            }
            if let gradientClipNorm {
                let norm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: gradientClipNorm)
                guard norm.isFinite else {
                    throw TrainingError.nonFiniteGradient(epoch: epoch, batch: b + 1, step: context.globalStep, norm: norm)
                }
            }
            optimizer.step()
            lossSum += Double(sums[0])
            correct += Int(sums[1])
            context.globalStep += 1
            context.examplesSeen += globalRows
            for callback in callbacks { callback.batchDidEnd(context, loss: value) }
            if sums[3] > 0 {
                try interrupted(TrainingPosition(epoch: epoch, batchesDone: b + 1, globalStep: context.globalStep,
                                                 lossSum: lossSum, correct: correct, examplesSeen: context.examplesSeen,
                                                 history: context.history))
            }
        }
        return (lossSum, correct)
    }

    /// Mean loss and (with labels) accuracy of the model on `data`, in evaluation mode and without building a graph.
    /// The model is left in evaluation mode.
    public func evaluate(_ data: TrainingData, batchSize: Int = 256) -> (loss: Float, accuracy: Float?) {
        precondition(batchSize > 0, "Trainer.evaluate: batchSize must be positive, got \(batchSize)")
        let n = data.count
        guard n > 0 else { return (.nan, nil) }
        model.eval()
        let loader = DataLoader(inputs: data.inputs, labels: data.labels, targets: data.targets,
                                batchSize: Swift.min(batchSize, n))
        var lossSum = 0.0
        var correct = 0
        noGrad {
            for batch in loader.batches(epoch: 0) {
                let output = model(batch.inputs)
                lossSum += Double(loss.compute(output, batch).item) * Double(batch.count)
                if data.labels != nil { correct += Self.correctPredictions(output, batch.labels) }
            }
        }
        return (Float(lossSum / Double(n)), data.labels == nil ? nil : Float(correct) / Float(n))
    }

    // MARK: Helpers

    private func check(_ data: TrainingData, role: String) throws(TrainingError) {
        switch loss.requirement {
        case .labels where data.labels == nil:
            throw TrainingError.missingData("the \(loss.name) loss needs class labels, but the \(role) data has none")
        case .targets where data.targets == nil:
            throw TrainingError.missingData("the \(loss.name) loss needs targets, but the \(role) data has none")
        default: break
        }
    }

    /// Rows of `output` ([B, C], C ≥ 2) whose largest score is at the label. 0 for other output shapes.
    static func correctPredictions(_ output: Tensor, _ labels: [Int]) -> Int {
        guard output.rank == 2, output.shape[1] >= 2, output.shape[0] == labels.count else { return 0 }
        let (rows, classes) = (output.shape[0], output.shape[1])
        return output.withUnsafeBufferPointer { scores in
            var correct = 0
            for r in 0..<rows {
                let row = scores.baseAddress! + r * classes
                var best = 0
                for c in 1..<classes where row[c] > row[best] { best = c }
                if best == labels[r] { correct += 1 }
            }
            return correct
        }
    }
}
