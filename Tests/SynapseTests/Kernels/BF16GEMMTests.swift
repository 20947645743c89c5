import CSynapseKernels
import Testing
@testable import Synapse

/// The BF16 products (`vdpbf16ps`) against their definition: the operands rounded to bfloat16 (round to nearest
/// even), the products summed in double precision. Only the order of the Float32 sums may differ, so the error must
/// stay at Float32's level relative to the terms' magnitudes — a wrong pair, a lost odd k or a mis-packed panel
/// shows as an error of order 1. Shapes cross the tile edges (12 rows, 16 and 32 columns) and odd k.
@Suite(.synapseRuntime) struct BF16GEMMTests {
    /// Float32 → bfloat16 → Float32 with round-to-nearest-even: the value the kernel multiplies.
    static func bf16(_ x: Float) -> Float {
        let u = x.bitPattern
        let rounded = (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    static let shapes = [(1, 1, 1), (4, 8, 8), (5, 17, 9), (12, 32, 64), (13, 33, 31), (25, 65, 130), (64, 96, 257), (100, 40, 3)]

    @Test(arguments: DirectGEMMTests.transposes)
    func matchesTheDefinitionWithRoundedOperands(transposeA: Bool, transposeB: Bool) {
        guard CPUFeatures.avx512BF16 else {
            print("BF16GEMMTests: this CPU has no AVX512_BF16; the dispatch rule is tested below")
            return
        }
        DirectGEMMTests.expectMatchesDefinition(transposeA: transposeA, transposeB: transposeB, shapes: Self.shapes,
                                                operand: Self.bf16, tolerance: 2e-6) {
            Kernels.bf16gemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
    }

    /// Taller than one packed row block (`synapse_bf16_block_rows`: 120 rows at k = 1000), so op(A) is packed in
    /// several blocks and each panel of op(B) packed again for each; on one thread and split by rows over the cores.
    static let blockedShapes = [(250, 40, 1000), (133, 70, 999)]

    @Test(arguments: DirectGEMMTests.transposes)
    func rowBlocksMatchTheDefinition(transposeA: Bool, transposeB: Bool) {
        guard CPUFeatures.avx512BF16 else { return }
        #expect(synapse_bf16_block_rows(1000) == 120 && synapse_bf16_block_rows(999) == 120)
        DirectGEMMTests.expectMatchesDefinition(transposeA: transposeA, transposeB: transposeB,
                                                shapes: Self.blockedShapes, operand: Self.bf16, tolerance: 2e-6) {
            synapse_bf16_gemm($0 ? 1 : 0, $1 ? 1 : 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
        DirectGEMMTests.expectMatchesDefinition(transposeA: transposeA, transposeB: transposeB,
                                                shapes: Self.blockedShapes, operand: Self.bf16, tolerance: 2e-6) {
            Kernels.bf16gemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
    }

    /// Every element sums its k products in the same order whatever the blocks, tiles or threads, so the row-split,
    /// column-split and one-thread products agree bit for bit.
    @Test(arguments: [(250, 200, 1000), (100, 200, 128)])
    func splitsMatchOneThread(shape: (Int, Int, Int)) {
        guard CPUFeatures.avx512BF16 else { return }
        let (m, n, k) = shape
        let a = Tensor.randn([k, m], generator: &Self.rng), b = Tensor.randn([n, k], generator: &Self.rng)
        var one = [Float](repeating: 0, count: m * n), split = one
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                one.withUnsafeMutableBufferPointer { c in
                    synapse_bf16_gemm(1, 1, m, n, k, 1, a.baseAddress!, m, b.baseAddress!, k, 0, c.baseAddress!, n)
                }
                split.withUnsafeMutableBufferPointer { c in
                    Kernels.bf16gemm(true, true, m, n, k, 1, a.baseAddress!, m, b.baseAddress!, k, 0, c.baseAddress!, n)
                }
            }
        }
        #expect(one == split)
    }

    /// Split over the cores or not, the columns come out the same (each thread packs its own panels).
    @Test func threadedColumnsMatchOneThread() {
        guard CPUFeatures.avx512BF16 else { return }
        let (m, n, k) = (96, 200, 128)
        let a = Tensor.randn([m, k], generator: &Self.rng), b = Tensor.randn([k, n], generator: &Self.rng)
        var whole = [Float](repeating: 0, count: m * n), split = whole
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                whole.withUnsafeMutableBufferPointer { c in
                    let pairs = synapse_bf16_pairs(k)
                    let packed = UnsafeMutablePointer<UInt32>.allocate(capacity: m * pairs)
                    defer { packed.deallocate() }
                    synapse_bf16_pack_a(0, m, k, a.baseAddress!, k, packed)
                    synapse_bf16_gemm_columns(0, m, n, k, 1, packed, b.baseAddress!, n, 0, c.baseAddress!, n, 0, n)
                }
                split.withUnsafeMutableBufferPointer { c in
                    Kernels.bf16gemm(false, false, m, n, k, 1, a.baseAddress!, k, b.baseAddress!, n, 0, c.baseAddress!, n)
                }
            }
        }
        #expect(whole == split)
    }

    /// BF16 goes to the kernel only where the CPU has it (elsewhere, or with the C kernels off, the products stay on
    /// the Float32 path) and only for products big enough to repay the packing.
    @Test func choosesTheKernelOnlyWhereItRuns() {
        #expect(Kernels.goesToBF16(precision: .bfloat16, accelerated: true, m: 64, n: 64, k: 64))
        #expect(!Kernels.goesToBF16(precision: .bfloat16, accelerated: false, m: 64, n: 64, k: 64))
        #expect(!Kernels.goesToBF16(precision: .float32, accelerated: true, m: 64, n: 64, k: 64))
        #expect(!Kernels.goesToBF16(precision: .bfloat16, accelerated: true, m: 1, n: 64, k: 64))
        #expect(!Kernels.goesToBF16(precision: .bfloat16, accelerated: true, m: 64, n: 64, k: 4))
    }

    /// A scoped precision reaches the product — also inside per-core workers — and leaves the rest of the process
    /// alone: the same product is Float32 outside the scope, close to it but rounded inside.
    @Test func scopedPrecisionReachesTheProductsAndTheWorkers() {
        guard CPUFeatures.avx512BF16 else { return }
        let a = Tensor.randn([40, 70], generator: &Self.rng), b = Tensor.randn([70, 50], generator: &Self.rng)
        let reference = a.matmul(b)
        let mixed = Runtime.withMatmulPrecision(.bfloat16) { a.matmul(b) }
        #expect(mixed.scalars != reference.scalars, "bf16 products must round their operands")
        expectClose(mixed, reference, rtol: 0.05, atol: 0.1, "bf16 against float32")
        #expect(a.matmul(b).scalars == reference.scalars, "outside the scope the product is Float32 again")
        var inWorkers = [[Float]](repeating: [], count: 2)
        Runtime.withMatmulPrecision(.bfloat16) {
            inWorkers.withUnsafeMutableBufferPointer { slots in
                let shared = UncheckedSendable(slots)
                Parallel.perCore(2) { chunk, _ in shared.value[chunk] = a.matmul(b).scalars }
            }
        }
        for result in inWorkers where !result.isEmpty { #expect(result == mixed.scalars) }
    }

    nonisolated(unsafe) static var rng = RandomGenerator(seed: 3)
}
