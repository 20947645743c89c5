import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct DataLoaderTests {
    /// 10 samples of shape [2, 3]; every element of sample i equals i, its label is i and its target is 100 + i.
    let n = 10
    var inputs: Tensor { Tensor(shape: [n, 2, 3], scalars: (0..<n).flatMap { i in [Float](repeating: Float(i), count: 6) }) }
    var labels: [Int] { Array(0..<n) }
    var targets: Tensor { Tensor(shape: [n, 1], scalars: (0..<n).map { Float(100 + $0) }) }

    func epochIndices(_ loader: DataLoader) -> [[Int]] { loader.map(\.indices) }

    @Test func batchesInOrderWithPartialLastBatch() {
        let loader = DataLoader(inputs: inputs, labels: labels, targets: targets, batchSize: 4)
        let batches = Array(loader)
        #expect(loader.batchCount == 3)
        #expect(batches.map(\.count) == [4, 4, 2])
        #expect(batches.map(\.labels) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let last = batches[2]
        #expect(last.inputs.shape == [2, 2, 3])
        #expect(last.inputs.scalars == [Float](repeating: 8, count: 6) + [Float](repeating: 9, count: 6))
        #expect(last.targets?.shape == [2, 1])
        #expect(last.targets?.scalars == [108, 109])
    }

    @Test func rowsStayWithTheirLabelsWhenShuffled() {
        let loader = DataLoader(inputs: inputs, labels: labels, targets: targets, batchSize: 3, shuffle: true, seed: 7)
        for batch in loader {
            for (row, label) in batch.labels.enumerated() {
                #expect(batch.inputs[row, 1, 2] == Float(label))
                #expect(batch.targets![row, 0] == Float(100 + label))
                #expect(batch.indices[row] == label)
            }
        }
    }

    @Test func eachSampleExactlyOncePerEpoch() {
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 3, shuffle: true, seed: 3)
        for _ in 0..<3 {
            let seen = epochIndices(loader).flatMap { $0 }
            #expect(seen.count == n)
            #expect(Set(seen) == Set(0..<n))
        }
        #expect(loader.epoch == 3)
    }

    @Test func sameSeedSameOrderAndEpochsDiffer() {
        let a = DataLoader(inputs: inputs, labels: labels, batchSize: 4, shuffle: true, seed: 42)
        let b = DataLoader(inputs: inputs, labels: labels, batchSize: 4, shuffle: true, seed: 42, prefetch: false)
        let c = DataLoader(inputs: inputs, labels: labels, batchSize: 4, shuffle: true, seed: 43)
        let a0 = epochIndices(a), a1 = epochIndices(a)
        #expect(a0 == epochIndices(b))
        #expect(a1 == epochIndices(b))
        #expect(a0 != a1)
        #expect(a0 != epochIndices(c))
        #expect(a0.flatMap { $0 } != Array(0..<n))
        // An epoch's order does not depend on earlier epochs having been consumed.
        #expect(a.order(epoch: 1) == a1.flatMap { $0 })
    }

    @Test func dropLastSkipsThePartialBatch() {
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 4, shuffle: true, seed: 1, dropLast: true)
        let batches = Array(loader)
        #expect(loader.batchCount == 2)
        #expect(batches.map(\.count) == [4, 4])
        #expect(Set(batches.flatMap(\.labels)).count == 8)
        let exact = DataLoader(inputs: inputs, batchSize: 5, dropLast: true)
        #expect(Array(exact).count == 2)
        let tooBig = DataLoader(inputs: inputs, batchSize: 11, dropLast: true)
        #expect(Array(tooBig).isEmpty)
    }

    @Test func acceptsACustomGenerator() {
        struct Counter: RandomNumberGenerator { var x: UInt64; mutating func next() -> UInt64 { x &+= 0x1234_5678_9abc_def1; return x } }
        let loader = DataLoader(inputs: inputs, batchSize: 10, shuffle: true, seed: 5, makeGenerator: { Counter(x: $0) })
        var expected = Array(0..<n)
        var generator = Counter(x: 5)
        DataLoader.shuffle(&expected, using: &generator)
        #expect(loader.order(epoch: 0) == expected)
    }

    @Test func shufflesWithTheLibraryGeneratorByDefault() {
        let loader = DataLoader(inputs: inputs, batchSize: 10, shuffle: true, seed: 5)
        var expected = Array(0..<n)
        var generator = RandomGenerator(seed: 5)  // epoch 0 adds nothing to the seed
        DataLoader.shuffle(&expected, using: &generator)
        #expect(loader.order(epoch: 0) == expected)
        // Pinned, so a change to the generator or the shuffle (which would change every seeded run) is noticed.
        #expect(DataLoader(inputs: inputs, batchSize: 10, shuffle: true, seed: 0).order(epoch: 0) == [7, 8, 3, 1, 5, 4, 2, 0, 9, 6])
    }

    /// Keeps a storage's memory allocated (an unowned reference does not count as an owner for copy-on-write), so a
    /// storage identifier cannot be handed to a new allocation and fake a reuse.
    struct AddressPin { unowned let storage: TensorStorage }

    /// A batch is written into the buffers of an earlier batch only once nothing references them any more.
    @Test(arguments: [false, true]) func buffersAreReusedButNeverOverwrittenWhileHeld(prefetch: Bool) {
        let loader = DataLoader(inputs: inputs, labels: labels, targets: targets, batchSize: 2, prefetch: prefetch)
        var batches = loader.batches(epoch: 0)
        var firstInputs: ObjectIdentifier?, firstTargets: ObjectIdentifier?
        var pins: [AddressPin] = []
        do {
            let first = batches.next()!
            #expect(first.labels == [0, 1])
            pins += [AddressPin(storage: first.inputs.storage), AddressPin(storage: first.targets!.storage)]
            (firstInputs, firstTargets) = (first.inputs.storageIdentifier, first.targets!.storageIdentifier)
        }
        let second = batches.next()!
        let third = batches.next()!
        let fourth = batches.next()!
        // Without prefetch the second batch is assembled after the first is dropped; with prefetch the third is (the
        // second was already being assembled while the first was in use).
        let reuser = prefetch ? third : second
        #expect(reuser.inputs.storageIdentifier == firstInputs && reuser.targets!.storageIdentifier == firstTargets)
        #expect(fourth.inputs.storageIdentifier != second.inputs.storageIdentifier)
        #expect(fourth.inputs.storageIdentifier != third.inputs.storageIdentifier)
        for (batch, first) in [(second, 2), (third, 4), (fourth, 6)] {
            #expect(batch.labels == [first, first + 1])
            #expect(batch.inputs.scalars == [Float](repeating: Float(first), count: 6) + [Float](repeating: Float(first + 1), count: 6))
            #expect(batch.targets!.scalars == [Float(100 + first), Float(101 + first)])
        }
        withExtendedLifetime(pins) {}
    }

    /// In a training loop (a graph built on each batch and dropped at the end of the iteration) two sets of buffers
    /// alternate, plus one for the short last batch.
    @Test(arguments: [false, true]) func trainingLoopRecyclesBatchStorage(prefetch: Bool) {
        var weight = Tensor(shape: [6, 1], scalars: [Float](repeating: 1, count: 6))
        weight.requiresGrad = true
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 3, shuffle: true, seed: 2, prefetch: prefetch)
        var storages = Set<ObjectIdentifier>()
        var pins: [AddressPin] = []
        for _ in 0..<2 {
            for batch in loader {
                let loss = batch.inputs.reshaped([batch.count, 6]).matmul(weight).sum()
                loss.backward()
                #expect(loss.item == Float(6 * batch.indices.reduce(0, +)))
                storages.insert(batch.inputs.storageIdentifier)
                pins.append(AddressPin(storage: batch.inputs.storage))
            }
        }
        #expect(storages.count <= 2 * (prefetch ? 3 : 2))
        withExtendedLifetime(pins) {}
    }

    @Test func iteratingEarlyStopIsSafe() {
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 2, shuffle: true, seed: 9)
        for batch in loader { #expect(batch.count == 2); break }
        #expect(Array(loader).count == 5)
    }

    /// Copies share the slot of the batch being prefetched; the second copy must not wait forever for it.
    @Test(.timeLimit(.minutes(1))) func copiesOfAnIteratorEachSeeTheRestOfTheEpoch() {
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 3, shuffle: true, seed: 4)
        var iterator = loader.batches(epoch: 0)
        _ = iterator.next()
        let copy = iterator
        let rest = Array(loader.order(epoch: 0)[3...])
        #expect(Array(iterator).flatMap(\.labels) == rest)
        #expect(Array(copy).flatMap(\.labels) == rest)
    }
}
