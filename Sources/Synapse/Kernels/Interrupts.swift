import CSynapseKernels

/// The process's SIGINT/SIGTERM flag (CSynapseKernels/signals.c): set by the handler `Runtime` installs, read by the
/// training loops after each step.
enum Interrupts {
    static func install() { synapse_install_interrupt_handlers() }
    /// SIGINT (2) or SIGTERM (15) if one arrived, else nil.
    static var received: Int32? { let s = synapse_interrupt_signal(); return s == 0 ? nil : s }
    static func clear() { synapse_clear_interrupt() }
    static func simulate(_ signal: Int32) { synapse_simulate_interrupt(signal) }
}
