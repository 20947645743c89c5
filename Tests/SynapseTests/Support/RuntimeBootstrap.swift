import Testing
import Synapse

/// The test bootstrap: what the `synapse` command does at start-up (`Runtime.configureBLAS()`), done before any test
/// of a suite runs. Every suite and free test carries it (`LayeringTests` checks): OpenBLAS's thread pool must not
/// restart under a product another test is running.
struct SynapseRuntime: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        Runtime.configureBLAS()
        try await function()
    }
}

extension Trait where Self == SynapseRuntime {
    /// Configures the process as the `synapse` command does.
    static var synapseRuntime: Self { Self() }
}
