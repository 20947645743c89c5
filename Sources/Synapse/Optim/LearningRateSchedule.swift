#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// A learning rate as a function of the step (or epoch) count and the group's base rate.
///
/// Schedules are pure functions of the counter, so resuming from a checkpoint only needs the counter. Each
/// parameter group is scheduled from its own base rate, as PyTorch's schedulers do.
///
/// ```swift
/// let schedule = WarmupCosineSchedule(warmupSteps: 100, totalSteps: 2000, minimumLearningRate: 1e-4)
/// let lr = schedule.learningRate(at: 150, baseLearningRate: 1e-3)
/// ```
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for step (or epoch) `step`, counted from 0, for a group whose base rate is `base`.
    func learningRate(at step: Int, baseLearningRate base: Float) -> Float
}

/// Multiplies the rate by `gamma` every `stepSize` steps (`torch.optim.lr_scheduler.StepLR`).
///
/// ```swift
/// let schedule = StepDecaySchedule(stepSize: 30, gamma: 0.1)   // ÷10 every 30 epochs
/// ```
public struct StepDecaySchedule: LearningRateSchedule {
    public var stepSize: Int
    public var gamma: Float
    public init(stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepDecaySchedule: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
    }
    public func learningRate(at step: Int, baseLearningRate base: Float) -> Float {
        Float(Double(base) * _pow(Double(gamma), Double(step / stepSize)))
    }
}

/// Multiplies the rate by `gamma` every step: base·γᵗ (`ExponentialLR`).
///
/// ```swift
/// let schedule = ExponentialSchedule(gamma: 0.95)
/// ```
public struct ExponentialSchedule: LearningRateSchedule {
    public var gamma: Float
    public init(gamma: Float) { self.gamma = gamma }
    public func learningRate(at step: Int, baseLearningRate base: Float) -> Float {
        Float(Double(base) * _pow(Double(gamma), Double(step)))
    }
}

/// Half a cosine from the base rate down to `minimumLearningRate` over `totalSteps`, then constant at the minimum:
/// min + (base − min)·(1 + cos(π·t/T))/2 (`CosineAnnealingLR`'s closed form, without restarts).
///
/// ```swift
/// let schedule = CosineAnnealingSchedule(totalSteps: 50, minimumLearningRate: 1e-5)
/// ```
public struct CosineAnnealingSchedule: LearningRateSchedule {
    public var totalSteps: Int
    public var minimumLearningRate: Float
    public init(totalSteps: Int, minimumLearningRate: Float = 0) {
        precondition(totalSteps > 0, "CosineAnnealingSchedule: totalSteps must be positive, got \(totalSteps)")
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
    }
    public func learningRate(at step: Int, baseLearningRate base: Float) -> Float {
        let progress = Double(Swift.min(step, totalSteps)) / Double(totalSteps)
        let minimum = Double(minimumLearningRate)
        return Float(minimum + (Double(base) - minimum) * (1 + cos(Double.pi * progress)) / 2)
    }
}

/// Linear warmup from base/warmup to the base rate over `warmupSteps`, then a cosine down to `minimumLearningRate` at
/// `totalSteps` — the nanoGPT recipe, identical to `lr_at` in the PyTorch char-GPT benchmark:
///
///     t < W:   base·(t + 1)/W
///     else:    min + ½(1 + cos(π·min(1, (t − W)/max(1, T − W))))·(base − min)
///
/// ```swift
/// let schedule = WarmupCosineSchedule(warmupSteps: 100, totalSteps: 2000, minimumLearningRate: 1e-4)
/// ```
public struct WarmupCosineSchedule: LearningRateSchedule {
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumLearningRate: Float
    public init(warmupSteps: Int, totalSteps: Int, minimumLearningRate: Float = 0) {
        precondition(warmupSteps >= 0 && totalSteps >= 0, "WarmupCosineSchedule: negative step counts \(warmupSteps), \(totalSteps)")
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
    }
    public func learningRate(at step: Int, baseLearningRate base: Float) -> Float {
        let peak = Double(base)
        if step < warmupSteps { return Float(peak * Double(step + 1) / Double(warmupSteps)) }
        let ratio = Double(step - warmupSteps) / Double(Swift.max(1, totalSteps - warmupSteps))
        let minimum = Double(minimumLearningRate)
        return Float(minimum + 0.5 * (1 + cos(Double.pi * Swift.min(ratio, 1))) * (peak - minimum))
    }
}

/// The base rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    public init() {}
    public func learningRate(at step: Int, baseLearningRate base: Float) -> Float { base }
}

/// Whether a schedule's counter advances once per optimizer step (batch) or once per epoch.
public enum ScheduleInterval: String, Sendable, Codable {
    case step
    case epoch
}

/// Drives an optimizer's learning rates from a schedule, PyTorch-scheduler style.
///
/// It remembers each group's base rate when created; `apply(at:)` sets every group's rate for a given counter value,
/// and `advance()` moves the counter on by one and applies it. Call it once per batch or once per epoch — the
/// trainer does so for you according to `interval`.
///
/// ```swift
/// let scheduler = LearningRateScheduler(optimizer: optimizer,
///                                       schedule: WarmupCosineSchedule(warmupSteps: 100, totalSteps: 2000, minimumLearningRate: 1e-4))
/// for it in 0..<2000 {
///     scheduler.apply(at: it)          // lr for this iteration
///     …forward, backward, optimizer.step()…
/// }
/// ```
public final class LearningRateScheduler {
    public let optimizer: Optimizer
    public let schedule: any LearningRateSchedule
    public let interval: ScheduleInterval
    /// Each group's rate when the scheduler was made.
    public let baseLearningRates: [Float]
    /// The counter value last applied.
    public private(set) var counter: Int

    /// Applies the schedule's value for counter 0 immediately (so warmup starts at base/W, as in PyTorch).
    public init(optimizer: Optimizer, schedule: any LearningRateSchedule, interval: ScheduleInterval = .step) {
        self.optimizer = optimizer
        self.schedule = schedule
        self.interval = interval
        self.baseLearningRates = optimizer.parameterGroups.map(\.learningRate)
        self.counter = 0
        apply(at: 0)
    }

    /// Sets every group's rate to the schedule's value at `counter`.
    public func apply(at counter: Int) {
        self.counter = counter
        for g in optimizer.parameterGroups.indices {
            let base = g < baseLearningRates.count ? baseLearningRates[g] : optimizer.parameterGroups[g].learningRate
            optimizer.parameterGroups[g].learningRate = schedule.learningRate(at: counter, baseLearningRate: base)
        }
    }

    /// Moves to the next counter value and applies it (PyTorch's `scheduler.step()`).
    public func advance() { apply(at: counter + 1) }
}
