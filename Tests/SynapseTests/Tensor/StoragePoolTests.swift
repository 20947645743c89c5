import Testing
@testable import Synapse

/// The storage pool's reuse rule. (The pool itself is process-wide and shared by tests running in parallel, so the
/// rule is checked on its own.)
@Suite(.synapseRuntime) struct StoragePoolTests {
    @Test func aMissingClassTakesTheSmallestCachedBlockAnEighthLargerAtMost() {
        let mb = 1 << 20
        // Its own class first, even when a slightly larger one is cached.
        #expect(StoragePool.cachedClass(fitting: 8 * mb, available: [9 * mb, 8 * mb]) == 8 * mb)
        // Otherwise the smallest that fits within an eighth: 8 MiB serves requests down to 64/9 MiB.
        #expect(StoragePool.cachedClass(fitting: 7 * mb + mb / 2, available: [8 * mb + mb / 2, 8 * mb, 12 * mb]) == 8 * mb)
        #expect(StoragePool.cachedClass(fitting: 7 * mb, available: [8 * mb]) == nil)
        // Never a smaller block, and nothing when nothing is cached.
        #expect(StoragePool.cachedClass(fitting: 8 * mb, available: [7 * mb, 4 * mb]) == nil)
        #expect(StoragePool.cachedClass(fitting: 8 * mb, available: []) == nil)
        // The 64 KiB granule: a 2.6 MB activation's class and its neighbours one granule either side.
        let granule = StoragePool.mediumGranule
        let activation = StoragePool.sizeClass(432 * 1536 * 4)
        #expect(StoragePool.cachedClass(fitting: activation - granule, available: [activation, activation + granule]) == activation)
    }
}
