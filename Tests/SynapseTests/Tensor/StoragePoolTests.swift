import Testing
@testable import Synapse

/// The storage pool's reuse rules, on sizes no other test allocates (around 90 MB, so concurrent tests do not take
/// the blocks in between).
@Suite(.synapseRuntime) struct StoragePoolTests {
    static let base = 90 << 20 + 12_345

    @Test func aMissingClassTakesACachedBlockAnEighthLargerAtMost() {
        let block = StoragePool.allocate(byteCount: Self.base)
        StoragePool.release(block, byteCount: Self.base)
        // 5% smaller: another size class, served from the cached block.
        let smaller = Self.base - Self.base / 20
        let reused = StoragePool.allocate(byteCount: smaller)
        #expect(reused == block)
        // Released under its own (larger) class, so the original size finds it again.
        StoragePool.release(reused, byteCount: smaller)
        let again = StoragePool.allocate(byteCount: Self.base)
        #expect(again == block)
        StoragePool.release(again, byteCount: Self.base)
        // Past an eighth smaller, a request does not take it.
        let tooSmall = Self.base - Self.base / 5
        let fresh = StoragePool.allocate(byteCount: tooSmall)
        #expect(fresh != block)
        StoragePool.release(fresh, byteCount: tooSmall)
        // A larger request never takes a smaller block.
        let larger = StoragePool.allocate(byteCount: Self.base + (1 << 20))
        #expect(larger != block && larger != fresh)
        StoragePool.release(larger, byteCount: Self.base + (1 << 20))
    }
}
