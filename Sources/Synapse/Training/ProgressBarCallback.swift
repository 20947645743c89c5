import Foundation

/// Shows `fit`'s progress with a `ProgressBar` per epoch, on standard error:
///
///     epoch 2/5 [██████████░░░░░░░░░░]  30720/60000  41230 samples/s  ETA 0:01  loss 0.2312
///     epoch 2/5  60000/60000  40875 samples/s  0:01  loss 0.2290  acc 0.9351  val_loss 0.2104  val_acc 0.9402
///
/// The running loss is refreshed at the bar's redraw rate, not every batch, so the display costs nothing measurable
/// per step. Use `mode: .plain` for log files and `.off` to silence it.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: optimizer, loss: .crossEntropy, callbacks: [ProgressBarCallback()])
/// ```
public final class ProgressBarCallback: TrainingCallback {
    public let mode: ProgressBar.Mode
    private let clock: () -> Double
    private let write: (String) -> Void
    private var bar: ProgressBar?
    private var lossSum = 0.0
    private var batches = 0
    private var lastFieldUpdate = -Double.infinity

    /// - Parameters:
    ///   - clock, write: as for `ProgressBar` (tests pass fakes).
    public init(mode: ProgressBar.Mode = .automatic,
                clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime },
                write: @escaping (String) -> Void = ProgressBar.writeToStandardError) {
        self.mode = mode
        self.clock = clock
        self.write = write
    }

    public func epochWillBegin(_ context: TrainingContext) {
        bar = ProgressBar(total: context.exampleCount, label: "epoch \(context.epoch)/\(context.epochs)", mode: mode,
                          unit: "samples", clock: clock, write: write)
        lossSum = 0
        batches = 0
        lastFieldUpdate = -.infinity
    }

    public func batchDidEnd(_ context: TrainingContext, loss: Float) {
        guard let bar else { return }
        lossSum += Double(loss)
        batches += 1
        let now = clock()
        if now - lastFieldUpdate >= 1 / bar.redrawsPerSecond {
            lastFieldUpdate = now
            bar.set("loss", lossSum / Double(batches))
        }
        bar.update(completed: context.examplesSeen)
    }

    public func epochDidEnd(_ context: TrainingContext, record: EpochRecord) throws -> TrainingAction {
        guard let bar else { return .continue }
        bar.set("loss", record.trainLoss)
        if let accuracy = record.trainAccuracy { bar.set("acc", accuracy) }
        if let loss = record.validationLoss { bar.set("val_loss", loss) }
        if let accuracy = record.validationAccuracy { bar.set("val_acc", accuracy) }
        bar.finish()
        self.bar = nil
        return .continue
    }
}
