import CSynapseKernels
import Dispatch

/// The AVX-512 VNNI path of int8 products: weights packed once into 16-output blocks, activations quantized to
/// unsigned codes (code + 128), and `vpdpbusd` doing 64 byte products per instruction (C kernels in CSynapseKernels).
///
/// Unsigned activations are what the instruction multiplies (u8 × s8). Shifting every activation code by 128 is the
/// same as shifting its zero point by 128, so `Int8Kernels.rescale` removes it with the correction it already makes
/// for zero-point activations; the arithmetic stays exact.
///
/// `SYNAPSE_KERNELS=portable` in the environment turns this path off (`CPUFeatures`).
enum Int8VNNI {
    /// Whether the CPU runs the kernels and the environment did not ask for the portable path.
    static var isAvailable: Bool { CPUFeatures.avx512VNNI }

    /// The largest input count whose sums of 255·128 products cannot overflow Int32.
    static let maximumInputs = 65_536

    /// Input rows are padded to this many bytes.
    static func paddedInputs(_ k: Int) -> Int { (k + 3) & ~3 }

    /// The packed form of an int8 weight [n, k], or nil when the path is unavailable for it.
    static func pack(_ weight: [Int8], n: Int, k: Int) -> [Int8]? {
        guard isAvailable, k <= maximumInputs, n > 0, k > 0 else { return nil }
        let bytes = synapse_int8_packed_bytes(n, k)
        return [Int8](unsafeUninitializedCapacity: bytes) { buffer, count in
            weight.withUnsafeBufferPointer { synapse_int8_pack($0.baseAddress!, n, k, buffer.baseAddress!) }
            count = bytes
        }
    }

    /// Quantizes `rows` rows of x ([rows, k] Float32) to unsigned codes and multiplies them by the packed weight:
    /// acc[r, o] = Σ u[r, i]·w[o, i]. Each row's (signed-code) scale goes to `scales`, its zero point plus 128 to
    /// `zeroPoints`, and the sum of its unsigned codes to `sums`, ready for `Int8Kernels.rescale`.
    static func product(_ x: UnsafePointer<Float>, rows: Int, k: Int,
                        fixed: (scale: Float, zeroPoint: Int32, scheme: Int8Scheme)?,
                        packed: UnsafePointer<Int8>, n: Int, into acc: UnsafeMutablePointer<Int32>,
                        scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>,
                        sums: UnsafeMutablePointer<Int32>) {
        let ldx = paddedInputs(k)
        let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * ldx)
        defer { codes.deallocate() }
        for r in 0..<rows {
            let row = x + r * k, out = codes + r * ldx
            let (scale, zeroPoint, scheme) = Int8Kernels.rowParameters(row, k: k, fixed: fixed)
            // 16 codes at a time, bit-identical to `Int8Kernels.quantize` plus 128 (a convolution quantizes every
            // patch row). The VNNI CPU check includes AVX-512 F/BW, so this kernel always runs where the path does.
            let sum = synapse_quantize_u8_avx512(row, k, 1 / scale, Float(zeroPoint), Float(scheme.codeRange.lowerBound),
                                                 Float(scheme.codeRange.upperBound), 128, out)
            for i in k..<ldx { out[i] = 0 }             // meets zero weights; any value would do
            scales[r] = scale
            zeroPoints[r] = zeroPoint &+ 128
            sums[r] = sum
        }
        // Tasks take groups of four blocks (64 outputs), the kernel's widest tile. A thread hand-off costs ~10–20 µs,
        // so only products of 2^23 multiply-adds or more (a few tens of µs of work) are split.
        let blocks = (n + 15) / 16, quads = (blocks + 3) / 4
        let tasks = rows * n * k >= 1 << 23 ? Swift.min(Parallel.availableCores, quads) : 1
        let work = UncheckedSendable((UnsafePointer(codes), packed, acc))
        let run: @Sendable (Int) -> Void = { task in
            let (codes, packed, acc) = work.value
            let first = task * quads / tasks * 4, last = Swift.min(blocks, (task + 1) * quads / tasks * 4)
            if first < last { synapse_int8_gemm_vnni(codes, rows, ldx, packed, n, k, first, last, acc) }
        }
        if tasks == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: tasks, execute: run) }
    }
}
