import Foundation
import Testing
@testable import Synapse

/// Ranks as threads of one process, for testing the distributed training logic without MPI (the real backend is
/// tested on real jobs by scripts/test_distributed.sh). Collectives rendezvous at a barrier; sums are formed in rank
/// order, so every rank gets the same bits. Non-blocking starts run at once (as MPI may), so ordering bugs show.
final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var slots: [UnsafeMutableRawPointer?]
    private var counts: [Int]
    /// What each rank has started, in order (for checking that every rank starts the same collectives).
    private(set) var log: [[String]]

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
        counts = Array(repeating: 0, count: size)
        log = Array(repeating: [], count: size)
    }

    func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    /// Deposits a rank's buffer, runs `combine` on rank 0 once all have, then releases everyone.
    func collective(rank: Int, name: String, pointer: UnsafeMutableRawPointer?, count: Int,
                    combine: ([UnsafeMutableRawPointer?], [Int]) -> Void) {
        condition.lock()
        log[rank].append("\(name)(\(count))")
        slots[rank] = pointer
        counts[rank] = count
        condition.unlock()
        barrier()
        if rank == 0 {
            precondition(Set(counts).count == 1, "ThreadGroup: ranks disagree on the size of \(name): \(counts)")
            combine(slots, counts)
        }
        barrier()
    }

    /// Runs `body(rank)` on `size` threads and waits for all.
    func run(_ body: @escaping @Sendable (ThreadGroupCommunicator) -> Void) {
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                body(ThreadGroupCommunicator(group: self, rank: rank))
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
    }
}

final class ThreadGroupCommunicator: Communicator, @unchecked Sendable {
    let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }
    init(group: ThreadGroup, rank: Int) { (self.group, self.rank) = (group, rank) }

    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {
        group.collective(rank: rank, name: "allreduce", pointer: UnsafeMutableRawPointer(values.baseAddress), count: values.count) { slots, counts in
            let buffers = slots.map { $0!.assumingMemoryBound(to: Float.self) }
            for i in 0..<counts[0] {
                var sum: Float = 0
                for b in buffers { sum += b[i] }
                for b in buffers { b[i] = sum }
            }
        }
    }
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DistributedError) {
        group.collective(rank: rank, name: "allreduce64", pointer: UnsafeMutableRawPointer(values.baseAddress), count: values.count) { slots, counts in
            let buffers = slots.map { $0!.assumingMemoryBound(to: Double.self) }
            for i in 0..<counts[0] {
                var sum = 0.0
                for b in buffers { sum += b[i] }
                for b in buffers { b[i] = sum }
            }
        }
    }
    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) { try allreduceSum(values) }
    func progress() throws(DistributedError) {}
    func waitAll() throws(DistributedError) {}
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws(DistributedError) {
        group.collective(rank: rank, name: "broadcast", pointer: UnsafeMutableRawPointer(values.baseAddress), count: values.count) { slots, counts in
            let buffers = slots.map { $0!.assumingMemoryBound(to: Float.self) }
            for b in buffers.indices where b != root { buffers[b].update(from: buffers[root], count: counts[0]) }
        }
    }
    func allgather(_ value: UInt64) throws(DistributedError) -> [UInt64] {
        var all = [UInt64](repeating: 0, count: size)
        var mine = value
        try withUnsafeMutablePointer(to: &mine) { (pointer) throws(DistributedError) in
            group.collective(rank: rank, name: "allgather", pointer: UnsafeMutableRawPointer(pointer), count: 1) { _, _ in }
        }
        // Each rank reads the others' values between the two barriers of a second collective.
        let values = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size)
        defer { values.deallocate() }
        values[rank] = value
        group.collective(rank: rank, name: "allgather-read", pointer: UnsafeMutableRawPointer(values.baseAddress), count: size) { slots, _ in
            let buffers = slots.map { $0!.assumingMemoryBound(to: UInt64.self) }
            for (r, b) in buffers.enumerated() { for target in buffers { target[r] = b[r] } }
        }
        for r in 0..<size { all[r] = values[r] }
        return all
    }
    func barrier() throws(DistributedError) { group.barrier() }
    func abort(code: Int32) -> Never { fatalError("ThreadGroupCommunicator.abort(\(code))") }
}

/// Results handed back from the rank threads.
final class RankResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: T] = [:]
    func set(_ rank: Int, _ value: T) { lock.withLock { values[rank] = value } }
    subscript(rank: Int) -> T? { lock.withLock { values[rank] } }
}

@Suite(.synapseRuntime) struct DistributedDataParallelTests {
    /// Buckets fill in reverse parameter order, close at the byte limit, and give a larger parameter its own bucket.
    @Test func bucketsFollowReverseParameterOrder() {
        let parameters = [Tensor.zeros([10]), Tensor.zeros([300]), Tensor.zeros([5]), Tensor.zeros([20])].map { $0.requiringGrad() }
        let ddp = DistributedDataParallel(parameters: parameters, communicator: SingleProcessCommunicator(), bucketBytes: 100 * 4)
        #expect(ddp.buckets.map(\.parameters) == [[3, 2], [1], [0]])
        #expect(ddp.buckets.map(\.count) == [25, 300, 10])
        #expect(ddp.buckets.map(\.offsets) == [[0, 20], [0], [0]])
    }

    /// The completion hook fires once per leaf, after its last contribution — also for a leaf used twice (a tied
    /// matrix) and one that gets no gradient at all.
    @Test func leavesAreReportedCompleteAfterTheirLastUse() {
        final class Recorder: LeafGradientCompletion, @unchecked Sendable {
            var seen: [(ObjectIdentifier, Tensor?)] = []
            let watch: [Tensor]
            init(_ watch: [Tensor]) { self.watch = watch }
            func gradientIsComplete(_ leaf: AutogradNode) {
                let tensor = watch.first { $0.node === leaf }
                seen.append((ObjectIdentifier(leaf), tensor?.grad))
            }
        }
        let w = Tensor(shape: [3, 3], scalars: (0..<9).map { Float($0) / 9 }).requiringGrad()
        let b = Tensor([0.1, 0.2, 0.3]).requiringGrad()
        let unused = Tensor([1, 2]).requiringGrad()
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let recorder = Recorder([w, b])
        LeafGradientHook.$completion.withValue(recorder) {
            let h = (x.matmul(w) + b).tanh()
            let y = h.matmul(w.transposed())       // w used a second time
            y.sum().backward()
            _ = unused
        }
        #expect(recorder.seen.count == 2)
        #expect(Set(recorder.seen.map(\.0)) == Set([ObjectIdentifier(w.node!), ObjectIdentifier(b.node!)]))
        // The gradient seen at completion is the final one.
        for (id, grad) in recorder.seen {
            let final = id == ObjectIdentifier(w.node!) ? w.grad! : b.grad!
            expectClose(grad!, final, rtol: 0, atol: 0, "gradient at completion")
        }
    }

    /// With one rank, `backward(weight:)` leaves weight × the plain gradient and returns the extras.
    @Test func singleRankScalesAndReturnsExtras() throws {
        let model = Sequential(Linear(4, 8, generator: &Self.rng), ReLU(), Linear(8, 3, generator: &Self.rng))
        let x = Tensor.randn([5, 4], generator: &Self.rng)
        model.zeroGrad()
        (model(x) * model(x)).mean().backward()
        let plain = model.parameters().map { $0.grad! }
        model.zeroGrad()
        let ddp = DistributedDataParallel(parameters: model.parameters(), communicator: SingleProcessCommunicator(), bucketBytes: 64)
        let extras = try ddp.backward(weight: 0.5) {
            (model(x) * model(x)).mean().backward()
            return [7, 8]
        }
        #expect(extras == [7, 8])
        for (got, want) in zip(model.parameters().map { $0.grad! }, plain) { expectClose(got, want * 0.5, rtol: 1e-6, atol: 0, "scaled") }
    }

    /// Two ranks (threads) with batches of 6 train an MLP to the weights of one process with batches of 12 — over
    /// an uneven last batch — and end bit-identical to each other; every rank issued the same collectives.
    @Test func trainerOnTwoRanksMatchesOneProcessWithTwiceTheBatch() throws {
        var rng = RandomGenerator(seed: 11)
        let inputs = Tensor.randn([50, 6], generator: &rng)
        let labels = (0..<50).map { _ in Int(rng.next() % 3) }
        let data = TrainingData(inputs: inputs, labels: labels)
        @Sendable func makeTrainer() -> Trainer {
            var init_ = RandomGenerator(seed: 3)
            let model = Sequential(Linear(6, 16, generator: &init_), ReLU(), Linear(16, 3, generator: &init_))
            return Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 1e-2), loss: .crossEntropy)
        }
        let single = makeTrainer()
        let expected = try single.fit(data, epochs: 3, batchSize: 12, seed: 9)

        let group = ThreadGroup(size: 2)
        let weights = RankResults<[Tensor]>()
        let histories = RankResults<TrainingHistory>()
        group.run { world in
            let trainer = makeTrainer()
            trainer.communicator = world
            trainer.bucketBytes = 256   // several buckets
            // A different initialisation on rank 1: the broadcast from rank 0 must undo it.
            if world.rank == 1 { for p in trainer.model.parameters() { p.withSharedMutableStorage { $0.update(repeating: 9) } } }
            let history = try! trainer.fit(data, epochs: 3, batchSize: 6, seed: 9)
            weights.set(world.rank, trainer.model.parameters().map { $0.detached() })
            histories.set(world.rank, history)
        }
        let reference = single.model.parameters()
        for rank in 0..<2 {
            for (got, want) in zip(weights[rank]!, reference) { expectClose(got, want, rtol: 1e-5, atol: 1e-6, "rank \(rank)") }
        }
        #expect(DistributedDataParallel.checksum(weights[0]!) == DistributedDataParallel.checksum(weights[1]!))
        #expect(group.log[0] == group.log[1])
        // The loss and accuracy are the global batch's: the same as one process's, on every rank.
        for rank in 0..<2 {
            let h = histories[rank]!
            for (a, b) in zip(h.records, expected.records) {
                #expect(abs(a.trainLoss - b.trainLoss) < 1e-4)
                #expect(a.trainAccuracy == b.trainAccuracy)
            }
        }
    }

    /// Ranks that would resume from different places refuse to start, naming both.
    @Test func ranksThatDisagreeOnTheResumePositionStop() throws {
        let group = ThreadGroup(size: 2)
        let errors = RankResults<String>()
        group.run { world in
            do {
                try world.requireAgreement(on: world.rank == 0 ? 5 : 0, "the resume position") { "step \($0)" }
                errors.set(world.rank, "none")
            } catch {
                errors.set(world.rank, "\(error)")
            }
        }
        for rank in 0..<2 {
            #expect(errors[rank] == "the resume position differs between ranks: rank 0 has step 5, rank 1 has step 0")
        }
    }

    /// Every rank's share of a batch: contiguous, disjoint, covering it, as even as can be (empty when there are
    /// more ranks than rows).
    @Test func sharesCoverTheBatch() {
        for rows in [0, 1, 5, 128, 129] {
            for size in 1...4 {
                let shares = (0..<size).map { DistributedDataParallel.share(of: rows, rank: $0, size: size) }
                #expect(shares.first!.lowerBound == 0 && shares.last!.upperBound == rows)
                for (a, b) in zip(shares, shares.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(shares.map(\.count).max()! - shares.map(\.count).min()! <= 1)
            }
        }
        let loader = DataLoader(inputs: Tensor.zeros([10, 2]), batchSize: 4, shard: (1, 2))
        #expect(loader.batches(epoch: 0).map(\.indices) == [[2, 3], [6, 7], [9]])
    }

    nonisolated(unsafe) static var rng = RandomGenerator(seed: 1)
}
