import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct DataParallelTests {
    /// Shards on separate cores give the batch's mean loss and the same gradients as one pass over the whole batch,
    /// including the tied embedding/head matrix that receives gradients from two uses in every shard.
    @Test(arguments: [2, 5, 12])
    func shardsMatchOneFullBatchPass(batch: Int) {
        let config = GPTConfiguration(vocabularySize: 11, blockSize: 8, layers: 2, heads: 2, embedding: 16, bias: true)
        let model = GPT(config, seed: 5)
        var rng = RandomGenerator(seed: UInt64(batch))
        let length = 8
        let inputs = (0..<(batch * length)).map { _ in Int(rng.next() % 11) }
        let targets = (0..<(batch * length)).map { _ in Int(rng.next() % 11) }

        model.zeroGrad()
        let full = model.loss(inputs: inputs, targets: targets, batch: batch)
        full.backward()
        let expected = model.parameters().map { $0.grad! }

        model.zeroGrad()
        let loss = DataParallel.backward(rows: batch) { rows in
            let tokens = rows.lowerBound * length..<rows.upperBound * length
            return model.loss(inputs: Array(inputs[tokens]), targets: Array(targets[tokens]), batch: rows.count)
        }
        #expect(abs(loss - full.item) < 1e-5, "loss \(loss) vs \(full.item)")
        for ((name, parameter), want) in zip(model.namedParameters(), expected) {
            guard let got = parameter.grad else {
                Issue.record("\(name): no gradient after DataParallel.backward")
                continue
            }
            expectClose(got, want, rtol: 1e-4, atol: 1e-6, name)
        }
    }

    /// Gradients add to what is already there, as `backward()` does, and the shards really ran on separate cores
    /// (on a machine with more than one).
    @Test func accumulatesIntoExistingGradients() {
        let w = Tensor([1, 2, 3]).requiringGrad()
        let x = Tensor(shape: [4, 3], scalars: (0..<12).map(Float.init))
        w.grad = Tensor([10, 10, 10])
        let loss = DataParallel.backward(rows: 4) { rows in
            (x.slice(axis: 0, rows) * w).sum(axes: [1]).mean()
        }
        // d/dw of the mean over rows of Σ x·w is the column mean of x: (4.5, 5.5, 6.5).
        #expect(w.grad!.scalars == [14.5, 15.5, 16.5])
        #expect(abs(loss - 35) < 1e-5)   // row sums 8, 26, 44, 62
        if Parallel.coreCount > 1 { #expect(DataParallel.shardCount(rows: 4) > 1) }
    }
}
