import Testing
@testable import Synapse

@Suite struct DataLoaderTests {
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
        ShuffleGenerator.shuffle(&expected, using: &generator)
        #expect(loader.order(epoch: 0) == expected)
    }

    @Test func shuffleGeneratorIsReproducible() {
        var g = ShuffleGenerator(seed: 0)
        // SplitMix64 reference outputs for seed 0.
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func iteratingEarlyStopIsSafe() {
        let loader = DataLoader(inputs: inputs, labels: labels, batchSize: 2, shuffle: true, seed: 9)
        for batch in loader { #expect(batch.count == 2); break }
        #expect(Array(loader).count == 5)
    }
}
