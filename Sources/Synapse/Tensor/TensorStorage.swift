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
/// Small blocks come from malloc, which already recycles them. From 128 KiB up, glibc hands out fresh `mmap`s (or
/// trims its heap after them), whose every 4 KiB page faults on first touch, so those blocks are pooled here: sizes
/// round up to 64 KiB, and from 1 MiB blocks start on a 2 MiB boundary and are marked for transparent huge pages, so
/// every whole 2 MiB inside them is one huge page and the tail stays in small pages. (Rounding such blocks up to
/// whole huge pages cost up to 70% more memory: a 2.4 MB activation of a Llama layer took 4 MB.) Freed blocks are
/// kept for reuse, so a training step or a benchmark loop does not pay the faults again. (The per-image column
/// buffers of a convolution, 140 KB each, faulted ~50 pages per cnn training step before they were pooled.)
///
/// A request whose size class is not cached takes the smallest cached block up to an eighth larger: batches of
/// sentences of varying length (MiniLM embeddings) ask for a slightly different size every time, and exact classes
/// alone missed, paid fresh page faults (2–3% of the time) and filled the cache with near-duplicates. Each pooled
/// block's real class is remembered while it is out, so it goes back under that class.
enum StoragePool {
    static let pooledThreshold = 128 << 10
    static let largeThreshold = 1 << 20
    static let hugePage = 2 << 20
    static let mediumGranule = 64 << 10

    /// The pooled size class of a block of `byteCount` bytes.
    @inline(__always)
    static func sizeClass(_ byteCount: Int) -> Int {
        (byteCount + mediumGranule - 1) / mediumGranule * mediumGranule
    }
    /// At most this many bytes sit unused in the cache (`Runtime.storagePoolLimit`).
    static var cacheLimit: Int { Runtime.storagePoolLimit }

    nonisolated(unsafe) private static var mutex = pthread_mutex_t()
    nonisolated(unsafe) private static var cache: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0
    /// The size class of every pooled block handed out and not yet released, by address.
    nonisolated(unsafe) private static var outstanding: [Int: Int] = [:]
    private static let initialised: Bool = {
        pthread_mutex_init(&mutex, nil)
        return true
    }()

    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= pooledThreshold else {
            return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        }
        let rounded = sizeClass(byteCount)
        _ = initialised
        pthread_mutex_lock(&mutex)
        // Its own class in one lookup; only a miss scans the other cached classes.
        let size = cache[rounded]?.isEmpty == false
            ? rounded : cachedClass(fitting: rounded, available: cache.lazy.filter { !$0.value.isEmpty }.map(\.key))
        if let size, let block = cache[size]?.popLast() {
            cachedBytes -= size
            outstanding[Int(bitPattern: block)] = size
            pthread_mutex_unlock(&mutex)
            return block
        }
        pthread_mutex_unlock(&mutex)
        var raw: UnsafeMutableRawPointer?
        let huge = rounded >= largeThreshold
        guard posix_memalign(&raw, huge ? hugePage : 4096, rounded) == 0, let block = raw else {
            fatalError("TensorStorage: out of memory allocating \(byteCount) bytes")
        }
        #if os(Linux)
        if huge { _ = madvise(block, rounded, 14) }  // MADV_HUGEPAGE: fewer page faults and TLB misses on big tensors
        #endif
        pthread_mutex_lock(&mutex)
        outstanding[Int(bitPattern: block)] = rounded
        pthread_mutex_unlock(&mutex)
        return block
    }

    /// The cached size class to serve a request of class `rounded` from, among the classes that have a block
    /// `available`: its own, or else the smallest one up to an eighth larger.
    static func cachedClass(fitting rounded: Int, available: some Sequence<Int>) -> Int? {
        let limit = rounded + rounded / 8
        var best: Int? = nil
        for size in available where size >= rounded && size <= limit && size < (best ?? .max) {
            best = size
        }
        return best
    }

    static func release(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        guard byteCount >= pooledThreshold else {
            block.deallocate()
            return
        }
        _ = initialised
        pthread_mutex_lock(&mutex)
        let rounded = outstanding.removeValue(forKey: Int(bitPattern: block)) ?? sizeClass(byteCount)
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
