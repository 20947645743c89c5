import Dispatch
import Foundation

/// Mini-batches over in-memory samples, reshuffled every epoch and assembled one batch ahead on a background thread.
///
/// `inputs` has shape `[N, ...]`; each batch takes whole rows. Give `labels` (class indices), `targets` (a tensor
/// `[N, ...]`, e.g. regression values) or both. Every `for` loop over the loader is one epoch: with `shuffle` the
/// order is a permutation drawn from `seed` and the epoch number, so runs are reproducible and epochs differ.
///
/// ```swift
/// let mnist = try MNIST()
/// let loader = DataLoader(inputs: mnist.train.images, labels: mnist.train.labels, batchSize: 64, shuffle: true, seed: 1)
/// for epoch in 1...5 {
///     for batch in loader {               // batch.inputs: [64, 784], batch.labels: 64 class indices
///         let loss = model(batch.inputs).crossEntropy(batch.labels)
///         ...
///     }
/// }
/// ```
public final class DataLoader: Sequence {
    /// One mini-batch. The last batch of an epoch is smaller unless `dropLast` is set. `Trainer` hands the same type
    /// to its loss as `TrainingBatch`.
    public struct Batch: Sendable {
        /// Rows of `inputs`, shape `[B, ...]`.
        public let inputs: Tensor
        /// Class labels of those rows; empty when the loader has no labels.
        public let labels: [Int]
        /// Rows of `targets`, shape `[B, ...]`; `nil` when the loader has no targets.
        public let targets: Tensor?
        /// Which samples (row numbers in the full data) this batch holds.
        public let indices: [Int]
        /// The number of samples in the batch.
        public var count: Int { indices.count }
    }

    public let inputs: Tensor
    public let labels: [Int]?
    public let targets: Tensor?
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    /// Whether the next batch is assembled on a background thread while the current one is used.
    public let prefetch: Bool
    /// Distributed training: this process takes only its share of each batch (`DistributedDataParallel.share`), so
    /// `batchSize` is the global batch and every rank walks the same order.
    public let shard: (index: Int, count: Int)?
    /// The epoch the next `for` loop (`makeIterator()`) will produce; it advances by one per loop.
    public var epoch: Int = 0
    private let makeGenerator: @Sendable (UInt64) -> any RandomNumberGenerator

    /// - Parameters:
    ///   - makeGenerator: builds the shuffling generator from a per-epoch seed; defaults to the library's
    ///     `RandomGenerator`, the same generator the tensor ops use.
    public init(inputs: Tensor, labels: [Int]? = nil, targets: Tensor? = nil, batchSize: Int,
                shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false, prefetch: Bool = true,
                shard: (index: Int, count: Int)? = nil,
                makeGenerator: @escaping @Sendable (UInt64) -> any RandomNumberGenerator = { RandomGenerator(seed: $0) }) {
        precondition(inputs.rank >= 1, "DataLoader: inputs must have a leading sample dimension, got shape \(inputs.shape)")
        precondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        let n = inputs.shape[0]
        if let labels {
            precondition(labels.count == n, "DataLoader: \(labels.count) labels for \(n) input rows")
        }
        if let targets {
            precondition(targets.rank >= 1 && targets.shape[0] == n,
                         "DataLoader: targets of shape \(targets.shape) do not have \(n) rows")
        }
        self.inputs = inputs
        self.labels = labels
        self.targets = targets
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.prefetch = prefetch
        if let shard {
            precondition(shard.count > 0 && (0..<shard.count).contains(shard.index),
                         "DataLoader: shard \(shard.index) of \(shard.count)")
        }
        self.shard = shard
        self.makeGenerator = makeGenerator
    }

    /// A loader over an MNIST split.
    public convenience init(_ samples: MNIST.Samples, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                            dropLast: Bool = false, prefetch: Bool = true) {
        self.init(inputs: samples.images, labels: samples.labels, batchSize: batchSize, shuffle: shuffle, seed: seed,
                  dropLast: dropLast, prefetch: prefetch)
    }

    /// The number of samples.
    public var sampleCount: Int { inputs.shape[0] }

    /// The number of batches in one epoch.
    public var batchCount: Int {
        dropLast ? sampleCount / batchSize : (sampleCount == 0 ? 0 : (sampleCount - 1) / batchSize + 1)
    }

    /// The sample order of `epoch`: `0..<N` without shuffling, otherwise a permutation determined by seed and epoch.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<sampleCount)
        if shuffle {
            // Mixing the epoch into the seed (rather than continuing one stream) makes epoch k's order independent of
            // whether earlier epochs were iterated to the end.
            var generator = makeGenerator(seed &+ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03)
            Self.shuffle(&order, using: &generator)
        }
        return order
    }

    /// The batches of a given epoch, without advancing `epoch` (`for batch in loader.batches(epoch: 3) { ... }`).
    public func batches(epoch: Int) -> Iterator {
        Iterator(loader: self, order: order(epoch: epoch))
    }

    /// Starts the next epoch.
    public func makeIterator() -> Iterator {
        defer { epoch += 1 }
        return batches(epoch: epoch)
    }

    /// Fisher–Yates shuffle whose result depends only on the generator's outputs, not on the standard library's
    /// (unspecified) `shuffle` algorithm, so a seed gives the same order on every Swift version.
    public static func shuffle<G: RandomNumberGenerator>(_ values: inout [Int], using generator: inout G) {
        guard values.count > 1 else { return }
        values.withUnsafeMutableBufferPointer { v in
            for i in stride(from: v.count - 1, to: 0, by: -1) {
                // Multiply-high maps 64 random bits onto 0...i; the bias (< i / 2^64) is irrelevant here.
                let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
                v.swapAt(i, j)
            }
        }
    }

    /// The tensors of a batch that has been handed out, kept so a later batch can be written into them.
    struct Buffers {
        var inputs: Tensor?
        var targets: Tensor?

        /// True when nothing but these values references the storage any more (the caller has dropped the batch and
        /// the graph built from it is gone), so writing into it cannot change a tensor someone still holds.
        /// Must run on the thread that used the batch: it is the releases on that thread that make the storage unique.
        mutating func isUniquelyOwned() -> Bool {
            (inputs == nil || isKnownUniquelyReferenced(&inputs!.storage))
                && (targets == nil || isKnownUniquelyReferenced(&targets!.storage))
        }
    }

    /// Copies the rows `indices` of the data into a batch (one `memcpy` per row). The tensors in `reuse` are written
    /// in place when their shapes fit (and taken out of `reuse`); otherwise new storage is allocated.
    static func assemble(inputs: Tensor, labels: [Int]?, targets: Tensor?, indices: [Int], reuse: inout Buffers) -> Batch {
        // `buffer` is passed inout, never copied, so a recycled storage stays uniquely referenced and copy-on-write
        // writes into it instead of copying it first.
        func gather(_ source: Tensor, into buffer: inout Tensor?) -> Tensor {
            let rowLength = source.shape[0] == 0 ? 0 : source.count / source.shape[0]
            let shape = [indices.count] + source.shape.dropFirst()
            if buffer?.shape != shape { buffer = Tensor(uninitializedShape: shape) }
            source.withUnsafeBufferPointer { src in
                buffer!.withUnsafeMutableBufferPointer { dst in
                    guard rowLength > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
                    for (row, index) in indices.enumerated() {
                        (d + row * rowLength).update(from: s + index * rowLength, count: rowLength)
                    }
                }
            }
            defer { buffer = nil }
            return buffer!
        }
        let batchLabels = labels.map { all in indices.map { all[$0] } } ?? []
        return Batch(inputs: gather(inputs, into: &reuse.inputs), labels: batchLabels,
                     targets: targets.map { gather($0, into: &reuse.targets) }, indices: indices)
    }

    /// Walks one epoch; holds at most one batch being assembled in the background.
    ///
    /// Batch tensors are recycled: the buffers of the batch returned by the previous `next()` are written again by
    /// a later batch, but only once nothing else references them (checked on the caller's thread before the work is
    /// handed to the prefetch thread), so a batch the caller or an autograd graph still holds is never overwritten.
    /// With prefetch two sets of buffers alternate: one in use, one being filled.
    public struct Iterator: IteratorProtocol, Sequence {
        private let inputs: Tensor
        private let labels: [Int]?
        private let targets: Tensor?
        private let order: [Int]
        private let batchSize: Int
        private let end: Int
        private let prefetch: Bool
        private let shard: (index: Int, count: Int)?
        private var position = 0
        private var pending: PrefetchSlot?
        private var handedOut = Buffers()
        private let queue: DispatchQueue?

        init(loader: DataLoader, order: [Int]) {
            inputs = loader.inputs
            labels = loader.labels
            targets = loader.targets
            self.order = order
            batchSize = loader.batchSize
            end = loader.dropLast ? order.count - order.count % loader.batchSize : order.count
            prefetch = loader.prefetch
            shard = loader.shard
            queue = loader.prefetch ? DispatchQueue(label: "synapse.dataloader.prefetch", qos: .userInitiated) : nil
        }

        private func indices(at start: Int) -> [Int] {
            let rows = Swift.min(start + batchSize, end) - start
            guard let shard else { return Array(order[start..<start + rows]) }
            let share = DistributedDataParallel.share(of: rows, rank: shard.index, size: shard.count)
            return Array(order[start + share.lowerBound..<start + share.upperBound])
        }

        /// The previous batch's buffers if the caller has let go of them; empty otherwise (or on the first batch).
        private mutating func reusableBuffers() -> Buffers {
            defer { handedOut = Buffers() }
            return handedOut.isUniquelyOwned() ? handedOut : Buffers()
        }

        private mutating func schedule(at start: Int) -> PrefetchSlot {
            let slot = PrefetchSlot(inputs: inputs, labels: labels, targets: targets, indices: indices(at: start),
                                    reuse: reusableBuffers())
            queue!.async { slot.assembleUnlessClaimed() }
            return slot
        }

        public mutating func next() -> Batch? {
            guard position < end else { return nil }
            let batch: Batch
            if prefetch {
                batch = (pending ?? schedule(at: position)).take()
                position += batchSize
                // Start on the following batch now, so it is ready when the caller has used this one.
                pending = position < end ? schedule(at: position) : nil
            } else {
                var reuse = reusableBuffers()
                batch = DataLoader.assemble(inputs: inputs, labels: labels, targets: targets, indices: indices(at: position),
                                            reuse: &reuse)
                position += batchSize
            }
            handedOut = Buffers(inputs: batch.inputs, targets: batch.targets)
            return batch
        }
    }
}

/// One batch to be assembled by whichever thread gets to it first: the prefetch thread, or the consumer when it
/// asks for the batch before the prefetch thread has started (on a busy machine the worker may not be scheduled for
/// a while, and waiting for it would make prefetching slower than not prefetching).
///
/// `@unchecked Sendable`: the fields other than `batch` are set before the work is queued; the claim, under a lock,
/// lets exactly one thread assemble; `batch` is written by that thread before `ready.signal()`, and read and cleared
/// under the lock only after `ready.wait()`.
final class PrefetchSlot: @unchecked Sendable {
    private let inputs: Tensor
    private let labels: [Int]?
    private let targets: Tensor?
    private let indices: [Int]
    private var reuse: DataLoader.Buffers
    private var batch: DataLoader.Batch?
    private var claimed = false
    private let claimLock = NSLock()
    private let ready = DispatchSemaphore(value: 0)

    init(inputs: Tensor, labels: [Int]?, targets: Tensor?, indices: [Int], reuse: DataLoader.Buffers) {
        (self.inputs, self.labels, self.targets, self.indices, self.reuse) = (inputs, labels, targets, indices, reuse)
    }

    /// Assembles the batch unless the other thread already has (or is doing so).
    func assembleUnlessClaimed() {
        let mine = claimLock.withLock {
            defer { claimed = true }
            return !claimed
        }
        guard mine else { return }
        batch = DataLoader.assemble(inputs: inputs, labels: labels, targets: targets, indices: indices, reuse: &reuse)
        ready.signal()
    }

    /// The batch, assembled on this thread if the prefetch thread has not started on it yet.
    func take() -> DataLoader.Batch {
        assembleUnlessClaimed()
        ready.wait()
        // Passed on, so that a copy of the iterator taking the same slot does not wait forever.
        ready.signal()
        // The slot lets go of the batch at once (a queued worker block may keep the slot alive a little longer), so
        // that its buffers can be recycled as soon as the caller drops it.
        let taken = claimLock.withLock {
            defer { batch = nil }
            return batch
        }
        if let taken { return taken }
        // A copy of the iterator took this batch first: assemble it again, into new storage.
        var fresh = DataLoader.Buffers()
        return DataLoader.assemble(inputs: inputs, labels: labels, targets: targets, indices: indices, reuse: &fresh)
    }
}
