import CSynapseKernels

/// The process's SIGINT/SIGTERM flag (CSynapseKernels/signals.c): set by the handler `Runtime` installs, read by the
/// training loops after each step.
enum Interrupts {
    static func install() { synapse_install_interrupt_handlers() }

    /// SIGINT (2) or SIGTERM (15) if one arrived (or a test's `InterruptProbe` says so), else nil.
    static var received: Int32? {
        let s = synapse_interrupt_signal()
        return s != 0 ? s : InterruptProbe.current?.signal
    }
}

/// A task's own interrupt, for tests: set `signal` inside `InterruptProbe.$current.withValue(probe) { … }` and only
/// the training loops of that task see it, never those of tests running beside it.
final class InterruptProbe: @unchecked Sendable {
    var signal: Int32?
    @TaskLocal static var current: InterruptProbe?
}
