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
    /// One mini-batch. The last batch of an epoch is smaller unless `dropLast` is set.
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
    /// The epoch the next `for` loop (`makeIterator()`) will produce; it advances by one per loop.
    public var epoch: Int = 0
    private let makeGenerator: @Sendable (UInt64) -> any RandomNumberGenerator

    /// - Parameters:
    ///   - makeGenerator: builds the shuffling generator from a per-epoch seed; defaults to `ShuffleGenerator`.
    public init(inputs: Tensor, labels: [Int]? = nil, targets: Tensor? = nil, batchSize: Int,
                shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false, prefetch: Bool = true,
                makeGenerator: @escaping @Sendable (UInt64) -> any RandomNumberGenerator = { ShuffleGenerator(seed: $0) }) {
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
        dropLast ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize
    }

    /// The sample order of `epoch`: `0..<N` without shuffling, otherwise a permutation determined by seed and epoch.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<sampleCount)
        if shuffle {
            // Mixing the epoch into the seed (rather than continuing one stream) makes epoch k's order independent of
            // whether earlier epochs were iterated to the end.
            var generator = makeGenerator(seed &+ UInt64(truncatingIfNeeded: epoch) &* 0xD1B5_4A32_D192_ED03)
            ShuffleGenerator.shuffle(&order, using: &generator)
        }
        return order
    }

    /// The batches of a given epoch, without advancing `epoch`.
    public func batches(epoch: Int) -> Iterator {
        Iterator(loader: self, order: order(epoch: epoch))
    }

    /// Starts the next epoch.
    public func makeIterator() -> Iterator {
        defer { epoch += 1 }
        return batches(epoch: epoch)
    }

    /// Copies the rows `indices` of the data into a new batch (one `memcpy` per row).
    static func assemble(inputs: Tensor, labels: [Int]?, targets: Tensor?, indices: [Int]) -> Batch {
        func gather(_ source: Tensor) -> Tensor {
            let rowLength = source.shape[0] == 0 ? 0 : source.count / source.shape[0]
            var batch = Tensor(uninitializedShape: [indices.count] + source.shape.dropFirst())
            source.withUnsafeBufferPointer { src in
                batch.withUnsafeMutableBufferPointer { dst in
                    guard rowLength > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
                    for (row, index) in indices.enumerated() {
                        (d + row * rowLength).update(from: s + index * rowLength, count: rowLength)
                    }
                }
            }
            return batch
        }
        let batchLabels = labels.map { all in indices.map { all[$0] } } ?? []
        return Batch(inputs: gather(inputs), labels: batchLabels, targets: targets.map(gather), indices: indices)
    }

    /// Walks one epoch; holds at most one batch being assembled in the background.
    public struct Iterator: IteratorProtocol {
        private let inputs: Tensor
        private let labels: [Int]?
        private let targets: Tensor?
        private let order: [Int]
        private let batchSize: Int
        private let end: Int
        private let prefetch: Bool
        private var position = 0
        private var pending: PrefetchSlot?
        private let queue: DispatchQueue?

        init(loader: DataLoader, order: [Int]) {
            inputs = loader.inputs
            labels = loader.labels
            targets = loader.targets
            self.order = order
            batchSize = loader.batchSize
            end = loader.dropLast ? order.count - order.count % loader.batchSize : order.count
            prefetch = loader.prefetch
            queue = loader.prefetch ? DispatchQueue(label: "synapse.dataloader.prefetch", qos: .userInitiated) : nil
        }

        private func indices(at start: Int) -> [Int] { Array(order[start..<Swift.min(start + batchSize, end)]) }

        private func schedule(at start: Int) -> PrefetchSlot {
            let slot = PrefetchSlot()
            let (inputs, labels, targets, indices) = (self.inputs, self.labels, self.targets, indices(at: start))
            queue!.async {
                slot.batch = DataLoader.assemble(inputs: inputs, labels: labels, targets: targets, indices: indices)
                slot.ready.signal()
            }
            return slot
        }

        public mutating func next() -> Batch? {
            guard position < end else { return nil }
            guard prefetch else {
                defer { position += batchSize }
                return DataLoader.assemble(inputs: inputs, labels: labels, targets: targets, indices: indices(at: position))
            }
            let slot = pending ?? schedule(at: position)
            slot.ready.wait()
            position += batchSize
            // Start on the following batch now, so it is ready when the caller has used this one.
            pending = position < end ? schedule(at: position) : nil
            return slot.batch
        }
    }
}

/// A batch handed from the prefetch thread to the consumer.
///
/// `@unchecked Sendable`: `batch` is written once on the worker before `ready.signal()` and read by the consumer only
/// after `ready.wait()`, so the semaphore orders every access.
final class PrefetchSlot: @unchecked Sendable {
    var batch: DataLoader.Batch?
    let ready = DispatchSemaphore(value: 0)
}
