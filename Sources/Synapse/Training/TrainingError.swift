/// Why training stopped with an error.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss of a batch was NaN or infinite; the parameters are those from before that batch.
    case nonFiniteLoss(epoch: Int, batch: Int, step: Int, loss: Float)
    /// With gradient clipping on, the gradients' global norm was NaN or infinite; the step was not applied.
    case nonFiniteGradient(epoch: Int, batch: Int, step: Int, norm: Float)
    /// The loss needs labels or targets that the data does not have.
    case missingData(String)
    /// There is nothing to train on.
    case emptyData
    /// A callback watches a metric that is not measured (e.g. validation loss without validation data).
    case metricNotMeasured(TrainingMetric)
    /// A history or checkpoint file could not be written.
    case cannotWrite(path: String, reason: String)
    /// SIGINT or SIGTERM arrived; the step in progress finished and, when `checkpoint` is set, was saved there.
    /// `after` says where, in the run's own terms ("epoch 3, batch 20", "iteration 1200", "update 28").
    case interrupted(signal: Int32, after: String, checkpoint: String?)
    /// A checkpoint to resume from does not fit this run or is damaged.
    case badCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let batch, let step, let loss):
            return "training: loss is \(loss) at epoch \(epoch), batch \(batch) (step \(step)); "
                + "lower the learning rate, clip gradients, or check the inputs for NaN"
        case .nonFiniteGradient(let epoch, let batch, let step, let norm):
            return "training: gradient norm is \(norm) at epoch \(epoch), batch \(batch) (step \(step)); "
                + "lower the learning rate or check the inputs for NaN and infinities"
        case .missingData(let what):
            return "training: \(what)"
        case .emptyData:
            return "training: the training data has no examples"
        case .metricNotMeasured(let metric):
            return "training: a callback monitors \(metric.rawValue), which is not measured; "
                + (metric == .validationLoss || metric == .validationAccuracy
                   ? "pass validation data to fit" : "train with labels to measure accuracy")
        case .cannotWrite(let path, let reason):
            return "training: cannot write \(path): \(reason)"
        case .interrupted(let signal, let after, let checkpoint):
            let name = signal == 15 ? "SIGTERM" : "SIGINT"
            return "training: stopped by \(name) after \(after); "
                + (checkpoint.map { "saved \($0): continue with --resume" } ?? "no checkpoint was kept")
        case .badCheckpoint(let path, let reason):
            return "training: cannot resume from \(path): \(reason)"
        }
    }
}
