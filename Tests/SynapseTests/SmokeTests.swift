import Testing
@testable import Synapse

@Test(.synapseRuntime) func versionIsSet() {
    #expect(!Synapse.version.isEmpty)
}
