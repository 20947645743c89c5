import Dispatch
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct ParallelTests {
    /// Every item is visited exactly once, whatever the mix of sizes (shares split by total size, serial fallbacks).
    @Test(arguments: [[Int](repeating: 5_000, count: 60), [1, 1, 100_000, 50_000, 1, 90_000], [200_000, 1, 1],
                      [3], [], (0..<40).map { 1_000 * ($0 % 7 + 1) }])
    func forEachItemVisitsEveryItemOnce(sizes: [Int]) {
        var visits = [Int](repeating: 0, count: sizes.count)
        visits.withUnsafeMutableBufferPointer { v in
            let counts = v.baseAddress
            Parallel.forEachItem(sizes: sizes) { i in counts![i] += 1 }
        }
        #expect(visits == [Int](repeating: 1, count: sizes.count))
    }

    /// Parameters updated on different cores (`forEachParameterWithGradientConcurrently`) get exactly the update
    /// each would get alone: Adam, AdamW with decay, SGD with momentum and RMSProp over 48 tensors of 4,096.
    @Test func concurrentOptimizerStepsEqualOneParameterAtATime() {
        var rng = RandomGenerator(seed: 8)
        let values = (0..<48).map { _ in Tensor.normal([64, 64], generator: &rng) }
        let gradients = (0..<48).map { _ in Tensor.normal([64, 64], generator: &rng) }
        let makers: [(String, ([Tensor]) -> Optimizer)] = [
            ("Adam", { Adam(parameters: $0, learningRate: 1e-2) }),
            ("AdamW", { AdamW(parameters: $0, learningRate: 1e-2, weightDecay: 0.1) }),
            ("SGD", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9) }),
            ("RMSProp", { RMSProp(parameters: $0, learningRate: 1e-2) }),
        ]
        for (name, make) in makers {
            let together = values.map { $0.detached().requiringGrad() }
            let alone = values.map { $0.detached().requiringGrad() }
            let shared = make(together)
            let separate = alone.map { make([$0]) }
            for _ in 0..<3 {
                for (p, g) in zip(together, gradients) { p.grad = g }
                for (p, g) in zip(alone, gradients) { p.grad = g }
                shared.step()
                separate.forEach { $0.step() }
            }
            let same = zip(together, alone).allSatisfy { $0.scalars == $1.scalars }
            #expect(same, "\(name): concurrent step differs from per-parameter steps")
        }
    }

    /// OpenBLAS's thread count is one per process: while any thread is inside a `BLASThreads.single` block it stays 1,
    /// even after another block that started earlier has ended. (Each block used to restore the count it had read
    /// on entry, so the first to leave gave OpenBLAS its threads back under the second one's per-core workers.)
    @Test func overlappingSingleBlocksKeepOneBLASThreadUntilTheLastLeaves() {
        guard BLASThreads.current != nil else { return }
        let (aEntered, bEntered, aLeft, bLeft) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0),
                                                  DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        final class Seen: @unchecked Sendable { var threads = -1 }
        let seenByB = Seen()
        DispatchQueue.global().async {
            BLASThreads.single {
                aEntered.signal()
                bEntered.wait()
            }
            aLeft.signal()
        }
        DispatchQueue.global().async {
            aEntered.wait()
            BLASThreads.single {
                bEntered.signal()
                aLeft.wait()
                seenByB.threads = BLASThreads.current ?? -1
            }
            bLeft.signal()
        }
        bLeft.wait()
        #expect(seenByB.threads == 1, "OpenBLAS threads inside the later block after the earlier one ended")
    }
}
