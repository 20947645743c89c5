#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// The heap buffer behind a `Tensor`: a 64-byte aligned block of `Float`s.
///
/// Tensors share a storage until one of them mutates it (copy-on-write, checked with
/// `isKnownUniquelyReferenced`). Kernels read and write it through raw pointers only.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats without initialising them; the caller writes every element.
    init(uninitializedCount count: Int) {
        self.count = count
        pointer = StoragePool.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(from: source, count: count)
    }

    deinit { StoragePool.release(UnsafeMutableRawPointer(pointer), byteCount: max(count, 1) * MemoryLayout<Float>.stride) }
}

/// Allocation for tensor storage.
///
/// Small blocks come from malloc, which already recycles them. Large blocks (≥ 1 MiB) would otherwise be fresh
/// `mmap`s whose every 4 KiB page faults on first touch; they are 2 MiB aligned, marked for transparent huge pages,
/// and a few freed ones are kept for reuse, so a training step or a benchmark loop does not pay the faults again.
enum StoragePool {
    static let largeThreshold = 1 << 20
    static let hugePage = 2 << 20
    /// At most this many bytes sit unused in the cache.
    static let cacheLimit = 256 << 20

    nonisolated(unsafe) private static var mutex = pthread_mutex_t()
    nonisolated(unsafe) private static var cache: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0
    private static let initialised: Bool = {
        pthread_mutex_init(&mutex, nil)
        return true
    }()

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= largeThreshold else {
            return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        }
        let rounded = (byteCount + hugePage - 1) / hugePage * hugePage
        _ = initialised
        pthread_mutex_lock(&mutex)
        if let block = cache[rounded]?.popLast() {
            cachedBytes -= rounded
            pthread_mutex_unlock(&mutex)
            return block
        }
        pthread_mutex_unlock(&mutex)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, hugePage, rounded) == 0, let block = raw else {
            fatalError("TensorStorage: out of memory allocating \(byteCount) bytes")
        }
        #if os(Linux)
        _ = madvise(block, rounded, 14)  // MADV_HUGEPAGE: fewer page faults and TLB misses on big tensors
        #endif
        return block
    }

    static func release(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= largeThreshold else {
            block.deallocate()
            return
        }
        let rounded = (byteCount + hugePage - 1) / hugePage * hugePage
        _ = initialised
        pthread_mutex_lock(&mutex)
        if cachedBytes + rounded <= cacheLimit {
            cache[rounded, default: []].append(block)
            cachedBytes += rounded
            pthread_mutex_unlock(&mutex)
            return
        }
        pthread_mutex_unlock(&mutex)
        free(block)
    }
}
