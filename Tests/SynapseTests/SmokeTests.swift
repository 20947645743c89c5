import Testing
@testable import Synapse

@Test func versionIsSet() {
    #expect(!Synapse.version.isEmpty)
}
