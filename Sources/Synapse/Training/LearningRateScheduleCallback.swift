/// Sets the optimizer's learning rates from a schedule before every step or every epoch of `fit`.
///
/// Each parameter group is scheduled from its rate when training begins. With `.step` the counter is the global step
/// (0, 1, 2, … across epochs), with `.epoch` it is the epoch index (0 for the first epoch).
///
/// ```swift
/// let steps = epochs * trainer.batchCount(examples: train.count, batchSize: 64)
/// let warmup = LearningRateScheduleCallback(
///     WarmupCosineSchedule(warmupSteps: 100, totalSteps: steps, minimumLearningRate: 1e-5), interval: .step)
/// let decay = LearningRateScheduleCallback(StepDecaySchedule(stepSize: 10, gamma: 0.5), interval: .epoch)
/// ```
public final class LearningRateScheduleCallback: TrainingCallback {
    public let schedule: any LearningRateSchedule
    public let interval: ScheduleInterval
    /// Created at the first `fit`; later runs continue from the same base rates.
    public private(set) var scheduler: LearningRateScheduler?

    public init(_ schedule: any LearningRateSchedule, interval: ScheduleInterval = .epoch) {
        self.schedule = schedule
        self.interval = interval
    }

    public func trainingWillBegin(_ context: TrainingContext, hasValidation: Bool, hasLabels: Bool) throws {
        if scheduler == nil || scheduler!.optimizer !== context.optimizer {
            scheduler = LearningRateScheduler(optimizer: context.optimizer, schedule: schedule, interval: interval)
        }
    }

    public func epochWillBegin(_ context: TrainingContext) {
        if interval == .epoch { scheduler?.apply(at: context.epoch - 1) }
    }

    public func batchWillBegin(_ context: TrainingContext) {
        if interval == .step { scheduler?.apply(at: context.globalStep) }
    }
}
