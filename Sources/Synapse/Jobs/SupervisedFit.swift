/// What the supervised jobs (MNIST classification, autoencoders) share: the standard callbacks — progress, a cosine
/// decay of the learning rate per step, the best epoch on the validation set kept — around `Trainer.fit`, timed.
struct SupervisedFit {
    var epochs: Int
    var batchSize: Int
    var seed: UInt64
    var cosineSchedule = true
    /// The metric whose best epoch the model returns to; nothing is kept without validation data.
    var keepBest: TrainingMetric
    var progress: ProgressBar.Mode
    /// Keep a checkpoint (and resume from it), see `Checkpointing`.
    var checkpoint: Checkpointing? = nil
    /// Distributed data parallelism over these ranks (`Trainer.communicator`); `batchSize` is per rank.
    var communicator: Communicator? = nil

    /// Trains `model` on `train`, choosing the best epoch on `validation`; returns the history and the seconds spent.
    func run(model: Module, optimizer: Optimizer, loss: TrainingLoss, train: TrainingData,
             validation: TrainingData?) throws -> (history: TrainingHistory, seconds: Double) {
        try runTrainer(model: model, optimizer: optimizer, loss: loss, train: train, validation: validation).result
    }

    /// `run`, also returning the trainer (its distributed checksum and communication time).
    func runTrainer(model: Module, optimizer: Optimizer, loss: TrainingLoss, train: TrainingData, validation: TrainingData?)
        throws -> (result: (history: TrainingHistory, seconds: Double), trainer: Trainer) {
        precondition(epochs >= 0 && batchSize > 0, "SupervisedFit: \(epochs) epochs of batches of \(batchSize)")
        var callbacks: [TrainingCallback] = [ProgressBarCallback(mode: progress)]
        if cosineSchedule && epochs > 0 {
            let globalBatch = batchSize * (communicator?.size ?? 1)
            let stepsPerEpoch = (train.count - 1) / globalBatch + 1          // no overflow near Int.max
            let (totalSteps, overflow) = stepsPerEpoch.multipliedReportingOverflow(by: epochs)
            callbacks.append(LearningRateScheduleCallback(CosineAnnealingSchedule(totalSteps: overflow ? Int.max : totalSteps),
                                                          interval: .step))
        }
        if validation != nil { callbacks.append(KeepBestCheckpoint(monitor: keepBest)) }
        let trainer = Trainer(model: model, optimizer: optimizer, loss: loss, callbacks: callbacks)
        trainer.communicator = communicator
        let started = Stopwatch.now()
        let history = try trainer.fit(train, validation: validation, epochs: epochs, batchSize: batchSize, seed: seed,
                                      checkpoint: checkpoint)
        return ((history, Stopwatch.now() - started), trainer)
    }

    /// The training set less its last `validationCount` images (at most a tenth), and that tail as validation data
    /// (nil when empty), each made into `TrainingData` by `prepare`.
    static func split(_ samples: MNIST.Samples, validationCount: Int,
                      _ prepare: (MNIST.Samples) -> TrainingData) -> (train: TrainingData, validation: TrainingData?) {
        let (train, validation) = samples.holdingOut(validationCount)
        return (prepare(train), validation.count > 0 ? prepare(validation) : nil)
    }
}
