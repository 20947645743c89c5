import Dispatch

/// Data parallelism over the CPU cores: a batch is cut into one shard per core, every core runs the forward and
/// backward pass of its shard with serial kernels and single-threaded BLAS, and the shards' parameter gradients are
/// summed into `grad`, as if the whole batch had gone through at once.
///
/// Why: a small model's matrices ([768, 128] activations for char-gpt) are too small for two BLAS threads to share
/// one product without waiting on each other, and most elementwise ops are below the size worth splitting, so one
/// core idled through them. Two shards keep both cores busy on whole passes and synchronise once per step.
///
/// The model's forward pass must not mutate shared state (no dropout generator, no batch-norm running statistics);
/// `LanguageModel.supportsDataParallelTraining` says so for the language models. Each shard's loss must be the mean
/// over its rows: the shards are weighted by their share of rows, so the result is the mean over the batch.
///
/// ```swift
/// optimizer.zeroGrad()
/// let loss = DataParallel.backward(rows: batch) { rows in     // one call per shard, on its own core
///     model.loss(inputs: inputs(rows), targets: targets(rows), batch: rows.count)
/// }
/// optimizer.step()
/// ```
public enum DataParallel {
    /// How many shards `backward(rows:)` makes of `rows` rows: one per core, at most one per row.
    public static func shardCount(rows: Int) -> Int { Parallel.perCoreChunks(rows) }

    /// Computes `shardLoss` on contiguous shares of `0..<rows` (one per core, concurrently), back-propagates each
    /// weighted by its share of the rows, adds the gradients into the leaves' `grad`, and returns the weighted mean
    /// loss. With one core (or one row) it is a plain forward and backward.
    public static func backward(rows: Int, _ shardLoss: (Range<Int>) -> Tensor) -> Float {
        backward(rows: rows, weighting: .byRows, shardLoss)
    }

    /// How the shards' losses combine.
    public enum Weighting: Sendable {
        /// Each shard's loss is a mean over its rows: weighted by its share of the rows (the batch's mean).
        case byRows
        /// Each shard's loss is already its part of the whole (a sum divided by a count over the whole batch): added.
        case summed
    }

    /// `backward(rows:_:)` with the shards' losses combined as `weighting` says.
    public static func backward(rows: Int, weighting: Weighting, _ shardLoss: (Range<Int>) -> Tensor) -> Float {
        precondition(rows > 0, "DataParallel.backward: no rows")
        let shards = shardCount(rows: rows)
        if shards == 1 {
            let loss = shardLoss(0..<rows)
            loss.backward()
            return loss.item
        }
        let tables = (0..<shards).map { _ in LeafGradients() }
        var losses = [Float](repeating: 0, count: shards)
        losses.withUnsafeMutableBufferPointer { losses in
            let shared = UncheckedSendable((losses.baseAddress!, tables))
            withoutActuallyEscaping(shardLoss) { shardLoss in
                // Each shard builds its own graph and writes only its own table and loss slot.
                let body = UncheckedSendable(shardLoss)
                Parallel.perCore(rows) { shard, range in
                    let (losses, tables) = shared.value
                    LeafGradientHook.$sink.withValue(tables[shard]) {
                        let loss = body.value(range)
                        precondition(loss.count == 1, "DataParallel.backward: shard loss has shape \(loss.shape), not a scalar")
                        let weight = weighting == .summed ? 1 : Float(range.count) / Float(rows)
                        loss.backward(Tensor(shape: loss.shape, scalars: [weight]))
                        losses[shard] = weight * loss.item
                    }
                }
            }
        }
        // Every leaf's sum is formed in shard order, so the result (and a seeded run) is reproducible; different
        // leaves are summed on different cores.
        var shardGradients: [ObjectIdentifier: [Tensor]] = [:]
        var leaves: [AutogradNode] = []
        for table in tables {
            for (leaf, grad) in table.entries {
                if shardGradients[ObjectIdentifier(leaf)] == nil { leaves.append(leaf) }
                shardGradients[ObjectIdentifier(leaf), default: []].append(grad)
            }
        }
        let sums = leaves.map { shardGradients[ObjectIdentifier($0)]! }
        Parallel.forEachItem(sizes: leaves.map { $0.shape.reduce(1, *) }) { i in
            noGrad {
                var total = leaves[i].grad
                for grad in sums[i] { total = total.map { $0 + grad } ?? grad }
                leaves[i].grad = total
            }
        }
        return losses.reduce(0, +)
    }
}

/// One shard's leaf gradients while `DataParallel` runs several backward passes over the same parameters at once:
/// installed as the `LeafGradientHook` sink, so no two threads write the same leaf. Interior nodes are private to
/// the pass that built them and keep their gradients as usual.
final class LeafGradients: LeafGradientSink, @unchecked Sendable {
    /// Leaves in the order they first received a gradient, with their sums.
    private(set) var entries: [(leaf: AutogradNode, grad: Tensor)] = []
    private var index: [ObjectIdentifier: Int] = [:]

    func add(_ gradient: Tensor, to leaf: AutogradNode) {
        if let i = index[ObjectIdentifier(leaf)] {
            entries[i].grad = entries[i].grad + gradient
        } else {
            index[ObjectIdentifier(leaf)] = entries.count
            entries.append((leaf, gradient))
        }
    }
}
