import Foundation

/// Data parallelism across processes, as PyTorch's `DistributedDataParallel` does it: every rank holds the whole
/// model, computes the gradient of its own share of the global batch, and the gradients are summed over the ranks
/// (each weighted by its share of the rows, so the result is the gradient of the global batch's mean loss) before
/// the same optimizer step runs everywhere.
///
/// The gradients travel in buckets of about 25 MB, filled in reverse parameter order — the order in which backward
/// completes them. As soon as a bucket's last gradient is complete it is handed to a non-blocking allreduce
/// (`MPI_Iallreduce`), so the transfer of the last layers overlaps the backward pass through the first. Buckets are
/// started strictly in order, the same on every rank, as MPI's collectives require.
///
/// ```swift
/// let ddp = DistributedDataParallel(parameters: model.parameters(), communicator: world)
/// try ddp.broadcastState(of: model)                          // rank 0's weights everywhere
/// optimizer.zeroGrad()
/// let sums = try ddp.backward(weight: Float(rows) / Float(globalRows)) {
///     let loss = model.loss(share)
///     loss.backward()
///     return [loss.item * Float(rows)]                       // summed over the ranks with the last bucket
/// }                                                          // grads now hold the global batch's gradient
/// optimizer.step()
/// ```
public final class DistributedDataParallel {
    /// PyTorch's default bucket size (`bucket_cap_mb=25`).
    public static let defaultBucketBytes = 25 << 20

    public let communicator: Communicator
    public let parameters: [Tensor]
    /// Seconds spent blocked waiting for the reductions to finish, summed over all `backward` calls: the part of the
    /// communication the backward pass did not hide.
    public private(set) var waitSeconds = 0.0
    /// The number of `backward` calls.
    public private(set) var steps = 0

    /// One bucket: a run of consecutive parameters (in reverse order) and their gradients side by side.
    struct Bucket {
        var parameters: [Int]
        var offsets: [Int]
        var count: Int
    }
    let buckets: [Bucket]
    /// For each parameter, its bucket and offset in it.
    private let slots: [(bucket: Int, offset: Int)]
    private let slotByNode: [ObjectIdentifier: Int]
    /// One buffer per bucket; the last bucket (holding the first parameters, completed last) has room for the extras.
    private var storage: [UnsafeMutableBufferPointer<Float>]
    private let extraCapacity: Int

    /// - Parameters:
    ///   - parameters: the parameters in the model's order (`model.parameters()`), the same list on every rank.
    ///   - bucketBytes: a bucket is closed once it holds this many bytes of gradients (a single larger parameter
    ///     gets a bucket of its own).
    ///   - extraCapacity: scalars `backward` can add to the last reduction (loss sums, counts, flags).
    public init(parameters: [Tensor], communicator: Communicator, bucketBytes: Int = defaultBucketBytes,
                extraCapacity: Int = 8) {
        precondition(bucketBytes > 0, "DistributedDataParallel: bucketBytes must be positive, got \(bucketBytes)")
        for (i, p) in parameters.enumerated() {
            precondition(p.requiresGrad, "DistributedDataParallel: parameter \(i) of shape \(p.shape) does not require grad")
        }
        self.communicator = communicator
        self.parameters = parameters
        self.extraCapacity = extraCapacity
        var buckets: [Bucket] = []
        var current = Bucket(parameters: [], offsets: [], count: 0)
        let limit = Swift.max(1, bucketBytes / MemoryLayout<Float>.stride)
        for index in parameters.indices.reversed() {
            if current.count > 0 && current.count + parameters[index].count > limit {
                buckets.append(current)
                current = Bucket(parameters: [], offsets: [], count: 0)
            }
            current.parameters.append(index)
            current.offsets.append(current.count)
            current.count += parameters[index].count
        }
        buckets.append(current)
        self.buckets = buckets
        var slots = [(bucket: Int, offset: Int)](repeating: (0, 0), count: parameters.count)
        for (b, bucket) in buckets.enumerated() {
            for (p, offset) in zip(bucket.parameters, bucket.offsets) { slots[p] = (b, offset) }
        }
        self.slots = slots
        var byNode: [ObjectIdentifier: Int] = [:]
        for (i, p) in parameters.enumerated() { byNode[ObjectIdentifier(p.node!)] = i }
        slotByNode = byNode
        storage = buckets.enumerated().map { b, bucket in
            let count = bucket.count + (b == buckets.count - 1 ? extraCapacity : 0)
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            buffer.initialize(repeating: 0)
            return buffer
        }
    }

    deinit { for buffer in storage { buffer.deallocate() } }

    /// Copies rank 0's parameters and buffers (`model.stateDict()`, in the module's order) to every rank, so all
    /// start from the same weights whatever their own initialisation drew.
    public func broadcastState(of model: Module) throws(DistributedError) {
        try Self.broadcastState(of: model, communicator: communicator)
    }

    /// `broadcastState(of:)` without an instance.
    public static func broadcastState(of model: Module, communicator: Communicator) throws(DistributedError) {
        guard communicator.size > 1 else { return }
        let tensors = model.orderedStateDict().map(\.tensor)
        let total = tensors.reduce(0) { $0 + $1.count }
        var flat = [Float](repeating: 0, count: total)
        var offset = 0
        for tensor in tensors {
            tensor.withUnsafeBufferPointer { source in
                flat.withUnsafeMutableBufferPointer { (destination: inout UnsafeMutableBufferPointer<Float>) in
                    if source.count > 0 { (destination.baseAddress! + offset).update(from: source.baseAddress!, count: source.count) }
                }
            }
            offset += tensor.count
        }
        try flat.withUnsafeMutableBufferPointer { (buffer) throws(DistributedError) in try communicator.broadcast(buffer, from: 0) }
        offset = 0
        for tensor in tensors {
            flat.withUnsafeBufferPointer { source in
                tensor.withSharedMutableStorage { destination in
                    if destination.count > 0 { destination.baseAddress!.update(from: source.baseAddress! + offset, count: destination.count) }
                }
            }
            offset += tensor.count
        }
    }

    /// Runs `body` — this rank's forward and backward pass — and leaves in every parameter's `grad` the sum over
    /// ranks of `weight × grad`. Buckets are reduced while `body` runs, as their gradients complete; parameters
    /// that got no gradient on this rank count as zeros. The scalars `body` returns (at most `extraCapacity`, e.g.
    /// this rank's loss sum) are summed over the ranks along with the last bucket and returned.
    ///
    /// Every rank must call it once per step, even one whose share of the batch is empty (its `body` does nothing).
    @discardableResult
    public func backward(weight: Float, _ body: () throws -> [Float]) throws -> [Float] {
        steps += 1
        let round = Round(ddp: self, weight: weight)
        let extras = try LeafGradientHook.$completion.withValue(round) { try body() }
        precondition(extras.count <= extraCapacity,
                     "DistributedDataParallel.backward: \(extras.count) extras, capacity \(extraCapacity)")
        if let error = round.error { throw error }
        // Whatever backward did not complete (unused parameters, or every gradient when a multi-core pass summed
        // its shards after the fact) is copied now, and the remaining buckets started in order.
        for index in parameters.indices where !round.copied[index] { round.copy(parameter: index) }
        let last = buckets.count - 1
        let lastBuffer = storage[last]
        for (i, value) in extras.enumerated() { lastBuffer[buckets[last].count + i] = value }
        for i in extras.count..<extraCapacity { lastBuffer[buckets[last].count + i] = 0 }
        try round.launchReady(upTo: buckets.count)
        let started = Stopwatch.now()
        try communicator.waitAll()
        waitSeconds += Stopwatch.now() - started
        for (index, parameter) in parameters.enumerated() {
            let (b, offset) = slots[index]
            // Into the gradient backward left (taken out first, so it is uniquely held and written in place; storage
            // shared with another tensor is copied on write as usual), or a new one where there was none.
            var grad = parameter.grad ?? Tensor(uninitializedShape: parameter.shape)
            parameter.grad = nil
            grad.withUnsafeMutableBufferPointer { destination in
                if destination.count > 0 { destination.baseAddress!.update(from: storage[b].baseAddress! + offset, count: destination.count) }
            }
            parameter.grad = grad
        }
        return (0..<extras.count).map { lastBuffer[buckets[last].count + $0] }
    }

    /// The state of one `backward` call, told by the autograd engine as leaves complete.
    final class Round: LeafGradientCompletion, @unchecked Sendable {
        unowned let ddp: DistributedDataParallel
        let weight: Float
        var copied: [Bool]
        var pending: [Int]
        var launched = 0
        var error: DistributedError?

        init(ddp: DistributedDataParallel, weight: Float) {
            self.ddp = ddp
            self.weight = weight
            copied = [Bool](repeating: false, count: ddp.parameters.count)
            pending = ddp.buckets.map(\.parameters.count)
        }

        func gradientIsComplete(_ leaf: AutogradNode) {
            guard let index = ddp.slotByNode[ObjectIdentifier(leaf)], !copied[index], error == nil else { return }
            copy(parameter: index)
            do {
                try launchReady(upTo: ddp.buckets.count - 1)   // the last bucket waits for the extras
                try ddp.communicator.progress()
            } catch let failure {
                error = failure
            }
        }

        /// Writes `weight × grad` (zeros without a gradient) into the parameter's slot.
        func copy(parameter index: Int) {
            copied[index] = true
            let (b, offset) = ddp.slots[index]
            pending[b] -= 1
            let destination = ddp.storage[b].baseAddress! + offset
            let count = ddp.parameters[index].count
            guard let grad = ddp.parameters[index].grad else {
                destination.update(repeating: 0, count: count)
                return
            }
            let w = weight
            grad.withUnsafeBufferPointer { source in
                if w == 1 {
                    destination.update(from: source.baseAddress!, count: count)
                } else {
                    for i in 0..<count { destination[i] = w * source[i] }
                }
            }
        }

        /// Starts, in order, every complete bucket below `limit` not yet started.
        func launchReady(upTo limit: Int) throws(DistributedError) {
            while launched < limit && pending[launched] == 0 {
                let b = launched
                let count = ddp.buckets[b].count + (b == ddp.buckets.count - 1 ? ddp.extraCapacity : 0)
                try ddp.communicator.startAllreduceSum(UnsafeMutableBufferPointer(rebasing: ddp.storage[b][0..<count]))
                launched += 1
            }
        }
    }
}

extension DistributedDataParallel {
    /// A checksum of the parameters' bits (FNV-1a over every Float, in order): equal on every rank when the weights
    /// are bit-identical.
    public static func checksum(_ tensors: [Tensor]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for tensor in tensors {
            tensor.withUnsafeBufferPointer { values in
                for value in values {
                    hash ^= UInt64(value.bitPattern)
                    hash = hash &* 0x0000_0100_0000_01B3
                }
            }
        }
        return hash
    }

    /// Throws unless every rank holds bit-identical parameters (compared by checksum through an allgather); returns
    /// the checksum.
    @discardableResult
    public func verifyIdenticalParameters() throws(DistributedError) -> UInt64 {
        let sum = Self.checksum(parameters)
        try communicator.requireAgreement(on: sum, "the parameters' checksum") { String($0, radix: 16) }
        return sum
    }

    /// The rows of a global batch of `rows` that rank `rank` of `size` takes: contiguous, as even as can be.
    public static func share(of rows: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(size > 0 && (0..<size).contains(rank), "DistributedDataParallel.share: rank \(rank) of \(size)")
        return rows * rank / size..<rows * (rank + 1) / size
    }
}
