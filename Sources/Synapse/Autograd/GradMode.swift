/// Whether ops record the graph. Scoped per task/thread, like `torch.no_grad()`.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording the computation graph (inference, optimizer updates, evaluation).
///
/// ```swift
/// let logits = noGrad { model(images) }
/// ```
@discardableResult
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Runs `body` with graph recording switched back on (e.g. inside a `noGrad` scope).
@discardableResult
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(true) { try body() }
}
