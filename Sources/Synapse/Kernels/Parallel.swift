import Dispatch

/// Splits index ranges across the cores when the work is large enough to pay for the threads.
enum Parallel {
    /// The machine's active processors.
    static let processorCount = max(1, ProcessInfoShim.activeProcessorCount)

    /// Number of worker chunks used for large loops: the processors, or fewer (`SYNAPSE_THREADS`,
    /// `Runtime.limitThreads`). Written only at start-up, before the first op.
    nonisolated(unsafe) static var coreCount: Int = min(Runtime.threadsFromEnvironment ?? processorCount, processorCount)

    /// Below this many elements a memory-bound loop runs on the calling thread (`Runtime.elementwiseParallelThreshold`).
    static var elementwiseThreshold: Int { Runtime.elementwiseParallelThreshold }

    /// True on a thread that already has a core to itself (a `DataParallel` shard, a `perCore` chunk): kernels run
    /// serially there instead of splitting again, which would only queue work behind the other cores' shards.
    @TaskLocal static var isInsideWorker = false

    /// How many chunks a kernel may split `count` items into: the cores, or 1 inside a worker.
    static var availableCores: Int { isInsideWorker ? 1 : coreCount }

    /// Calls `body` on disjoint sub-ranges covering `0..<count`, in parallel when `count >= threshold`.
    /// The closure runs once per chunk, never per element.
    @inline(__always)
    static func forRanges(_ count: Int, threshold: Int = elementwiseThreshold, _ body: (Range<Int>) -> Void) {
        let chunks = count >= threshold ? min(availableCores, count / max(1, threshold / 2)) : 1
        if chunks <= 1 {
            body(0..<count)
            return
        }
        // Chunk boundaries are multiples of 16 so SIMD loops see aligned, full vectors except in the last chunk.
        let per = ((count + chunks - 1) / chunks + 15) & ~15
        withoutActuallyEscaping(body) { body in
            // Kernels hand raw pointers to their chunks; the chunks touch disjoint ranges, so this is race-free.
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = chunk * per
                let end = min(count, start + per)
                if start < end { work.value(start..<end) }
            }
        }
    }
}

extension Parallel {
    /// How many chunks `perCore` makes of `count` items.
    static func perCoreChunks(_ count: Int) -> Int { max(1, min(availableCores, count)) }

    /// Runs `body(chunk, range)` on contiguous shares of 0..<count, one per core, with BLAS single-threaded inside.
    ///
    /// For work made of many independent BLAS calls (the sequences of a recurrent batch, each running its whole time
    /// loop; the images of a convolution): each core runs its own small products back to back, with no hand-off to
    /// BLAS's threads per call and no synchronisation until the end. Threading each per-step product in OpenBLAS
    /// instead put half of a char-lstm profile into hand-offs and spinning. Chunk indices run over
    /// 0..<perCoreChunks(count).
    static func perCore(_ count: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let chunks = perCoreChunks(count)
        BLASThreads.single {
            if chunks <= 1 {
                body(0, 0..<count)
                return
            }
            // A scoped precision (`Runtime.withMatmulPrecision`) follows the work onto the workers.
            let precision = Runtime.matmulPrecisionOverride
            withoutActuallyEscaping(body) { body in
                // Chunks touch disjoint parts of the shared buffers, so handing the closure across threads is race-free.
                let work = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let start = chunk * count / chunks, end = (chunk + 1) * count / chunks
                    guard start < end else { return }
                    Runtime.$matmulPrecisionOverride.withValue(precision) {
                        $isInsideWorker.withValue(true) { work.value(chunk, start..<end) }
                    }
                }
            }
        }
    }
}

extension Parallel {
    /// Runs `body(i)` for every item of `sizes`, the items split over the cores in contiguous shares of about equal
    /// total size: for many independent updates that are each too small to split (an optimizer step over a model's
    /// parameters, one per tensor). Serial when the total is small, or when some item is big enough that its own
    /// loop splits it (`body` then parallelises inside, as before). `body` must only touch item `i`'s memory.
    static func forEachItem(sizes: [Int], _ body: (Int) -> Void) {
        let total = sizes.reduce(0, +), chunks = availableCores
        guard chunks > 1, sizes.count > 1, total >= elementwiseThreshold, (sizes.max() ?? 0) < elementwiseThreshold else {
            for i in sizes.indices { body(i) }
            return
        }
        // bounds[c] is the first item of share c: where the running size first reaches c/chunks of the total.
        var bounds = [Int](repeating: sizes.count, count: chunks + 1)
        bounds[0] = 0
        var running = 0, next = 1
        for (i, size) in sizes.enumerated() where next < chunks {
            running += size
            while next < chunks, running * chunks >= total * next {
                bounds[next] = i + 1
                next += 1
            }
        }
        let shares = bounds
        withoutActuallyEscaping(body) { body in
            // Each item is touched by exactly one share.
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                $isInsideWorker.withValue(true) {
                    for i in shares[chunk]..<shares[chunk + 1] { work.value(i) }
                }
            }
        }
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees the accesses do not race.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// The processor count without importing Foundation into the kernels.
enum ProcessInfoShim {
    static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
