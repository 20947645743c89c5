import CSynapseKernels
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Integer kernels of int8 inference: quantize activations to codes, multiply codes by int8 weights with Int32
/// accumulation, rescale each output once.
///
/// Why the shapes of these loops: at the default SSE2 target the compiler turns a plain `Int8 × Int8 → Int32` sum
/// into byte loads of 4 and two multiplies per 8 products. SSE2's `pmaddwd` multiplies eight Int16 pairs and adds
/// neighbours into four Int32 in one instruction, so activations are kept as Int16 codes (widened once per row) and
/// weights stay Int8 in memory (a quarter of Float32's bytes, which is what makes batch 1 faster) and are widened in
/// registers. Every product of two codes fits in Int16 (|q| ≤ 128), and sums of pairs are formed in Int32, so nothing
/// overflows for any K below 2^31 / 2^14 = 131072.
enum Int8Kernels {
    /// 1.5 × 2^23: adding it rounds a Float of magnitude below 2^22 to an integer (ties to even, the rounding of
    /// PyTorch's `quantize_per_tensor`) and leaves the integer in the low mantissa bits. Avoids `rounded()`, which is
    /// a libm call per element at the default target.
    @usableFromInline static let roundingMagic: Float = 12_582_912
    @usableFromInline static let roundingMagicBits: Int32 = 0x4B40_0000

    // MARK: Quantizing

    /// q = clamp(round(x / scale) + zeroPoint) for `count` values. NaN becomes the lowest code.
    @inline(__always)
    static func quantize<Code: FixedWidthInteger>(_ x: UnsafePointer<Float>, count: Int, inverseScale: Float,
                                                    zeroPoint: Int32, range: ClosedRange<Int32>,
                                                    into q: UnsafeMutablePointer<Code>) {
        let offset = Float(zeroPoint), low = Float(range.lowerBound), high = Float(range.upperBound)
        for i in 0..<count {
            var v = x[i] * inverseScale + offset
            v = v > low ? v : low           // also sends NaN to `low`
            v = v < high ? v : high
            let rounded = v + roundingMagic
            q[i] = Code(truncatingIfNeeded: Int32(bitPattern: rounded.bitPattern) &- roundingMagicBits)
        }
    }

    /// The smallest and largest of `count` floats (NaNs ignored; (0, 0) for no values).
    @inline(__always)
    static func range(_ x: UnsafePointer<Float>, count: Int) -> (minimum: Float, maximum: Float) {
        guard count > 0 else { return (0, 0) }
        if CPUFeatures.avx512 {
            var (low, high) = (Float(0), Float(0))
            synapse_range_avx512(x, count, &low, &high)
            return low <= high ? (low, high) : (0, 0)
        }
        return portableRange(x, count: count)
    }

    /// `range` on any CPU.
    @inline(__always)
    static func portableRange(_ x: UnsafePointer<Float>, count: Int) -> (minimum: Float, maximum: Float) {
        guard count > 0 else { return (0, 0) }
        // Eight independent lanes: one running min/max would be a chain of dependent maxss (four cycles each), and it
        // was most of a batch-1 int8 forward pass. `.replacing(with:where:)`, not pointwiseMin/Max (scalar here).
        var lows = SIMD8<Float>(repeating: .infinity), highs = SIMD8<Float>(repeating: -.infinity)
        let raw = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            lows.replace(with: v, where: v .< lows)
            highs.replace(with: v, where: v .> highs)
            i += 8
        }
        var low = lows.min(), high = highs.max()
        for i in i..<count {
            let v = x[i]
            low = v < low ? v : low
            high = v > high ? v : high
        }
        return low <= high ? (low, high) : (0, 0)
    }

    /// The (scale, zero point, scheme) that quantize one activation row: the calibrated ones when `fixed` is given,
    /// else the row's own absmax step (dynamic quantization).
    @inline(__always)
    static func rowParameters(_ row: UnsafePointer<Float>, k: Int, fixed: (scale: Float, zeroPoint: Int32, scheme: Int8Scheme)?)
        -> (scale: Float, zeroPoint: Int32, scheme: Int8Scheme) {
        if let fixed { return fixed }
        let (low, high) = range(row, count: k)
        let (scale, zeroPoint) = Int8Scheme.absmax.parameters(minimum: low, maximum: high)
        return (scale, zeroPoint, .absmax)
    }

    /// Quantizes each row of `x` ([rows, k]) to Int16 codes, with its own absmax step (dynamic quantization) when
    /// `fixed` is nil, or the calibrated (scale, zero point) otherwise. Writes each row's step, zero point and the sum
    /// of its codes (needed to remove the weights' zero points).
    static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, k: Int, fixed: (scale: Float, zeroPoint: Int32, scheme: Int8Scheme)?,
                             codes: UnsafeMutablePointer<Int16>, scales: UnsafeMutablePointer<Float>,
                             zeroPoints: UnsafeMutablePointer<Int32>, sums: UnsafeMutablePointer<Int32>) {
        for r in 0..<rows {
            let row = x + r * k, out = codes + r * k
            let (scale, zeroPoint, scheme) = rowParameters(row, k: k, fixed: fixed)
            quantize(row, count: k, inverseScale: 1 / scale, zeroPoint: zeroPoint, range: scheme.codeRange, into: out)
            var sum: Int32 = 0
            for i in 0..<k { sum &+= Int32(out[i]) }
            scales[r] = scale
            zeroPoints[r] = zeroPoint
            sums[r] = sum
        }
    }

    // MARK: Products

    /// acc[r, o] = Σ_k x[r, k] · w[o, k] in Int32, for Int16 activation codes x ([rows, k]) and Int8 weights w
    /// ([n, k], PyTorch's layout). Output columns are split across the cores when the product is large.
    static func gemm(_ x: UnsafePointer<Int16>, rows: Int, _ w: UnsafePointer<Int8>, n: Int, k: Int,
                     into acc: UnsafeMutablePointer<Int32>) {
        let blocks = (n + 3) / 4
        let work = UncheckedSendable((x, w, acc))
        // One block of four output columns per task; parallel only when there are enough multiply-adds to pay for it.
        Parallel.forRanges(blocks, threshold: rows * n * k >= 1 << 20 ? 2 : blocks + 1) { range in
            let (x, w, acc) = work.value
            let first = range.lowerBound * 4, last = Swift.min(n, range.upperBound * 4)
            if rows < 4 {
                gemvColumns(x, rows: rows, w, columns: first..<last, n: n, k: k, into: acc)
            } else {
                gemmColumns(x, rows: rows, w, columns: first..<last, n: n, k: k, into: acc)
            }
        }
    }

    /// Few rows: each weight is loaded once per row and widened in registers (the memory-bound case, batch 1).
    private static func gemvColumns(_ x: UnsafePointer<Int16>, rows: Int, _ w: UnsafePointer<Int8>,
                                    columns: Range<Int>, n: Int, k: Int, into acc: UnsafeMutablePointer<Int32>) {
        let split = UnsafeMutablePointer<Int16>.allocate(capacity: Swift.max(k, 1))
        defer { split.deallocate() }
        for r in 0..<rows {
            let xr = x + r * k
            splitEvenOdd(xr, k: k, into: split)
            var o = columns.lowerBound
            while o + 4 <= columns.upperBound {
                dot4(xr, split, w + o * k, k: k, into: acc + r * n + o)
                o += 4
            }
            while o < columns.upperBound {
                acc[r * n + o] = dot(xr, w + o * k, k: k)
                o += 1
            }
        }
    }

    /// Reorders each block of 16 codes as its 8 even-indexed codes then its 8 odd-indexed ones, the order in which
    /// `dot4` sign-extends weight bytes with shifts (no shuffles); the tail past the last full block is not used.
    @inline(__always)
    static func splitEvenOdd(_ x: UnsafePointer<Int16>, k: Int, into split: UnsafeMutablePointer<Int16>) {
        var b = 0
        while b + 16 <= k {
            for j in 0..<8 {
                split[b + j] = x[b + 2 * j]
                split[b + 8 + j] = x[b + 2 * j + 1]
            }
            b += 16
        }
    }

    /// Many rows: four weight rows are widened to Int16 once into a small scratch tile that stays in L1, then
    /// multiplied against a block of 64 activation rows (which stays in L2 while every tile passes over it; streaming
    /// all rows per tile would reread a convolution's patch matrix from memory once per four output channels).
    private static func gemmColumns(_ x: UnsafePointer<Int16>, rows: Int, _ w: UnsafePointer<Int8>,
                                    columns: Range<Int>, n: Int, k: Int, into acc: UnsafeMutablePointer<Int32>) {
        let tile = UnsafeMutablePointer<Int16>.allocate(capacity: 4 * k)
        defer { tile.deallocate() }
        let rowBlock = 64
        var r0 = 0
        while r0 < rows {
            let r1 = Swift.min(rows, r0 + rowBlock)
            var o = columns.lowerBound
            while o + 4 <= columns.upperBound {
                let source = w + o * k
                for i in 0..<(4 * k) { tile[i] = Int16(source[i]) }
                for r in r0..<r1 { dot4Wide(x + r * k, tile, k: k, into: acc + r * n + o) }
                o += 4
            }
            while o < columns.upperBound {
                for r in r0..<r1 { acc[r * n + o] = dot(x + r * k, w + o * k, k: k) }
                o += 1
            }
            r0 = r1
        }
    }

    /// Σ x[i]·w[i] for one weight row (the tail path).
    @inline(__always)
    static func dot(_ x: UnsafePointer<Int16>, _ w: UnsafePointer<Int8>, k: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<k { sum &+= Int32(x[i]) &* Int32(w[i]) }
        return sum
    }

    /// The scalar tail of four dot products, from element `start` on.
    @inline(__always)
    private static func tail4<W: FixedWidthInteger>(_ x: UnsafePointer<Int16>, _ w: UnsafePointer<W>, from start: Int, k: Int,
                                                    into out: UnsafeMutablePointer<Int32>) {
        for i in start..<k {
            let xi = Int32(x[i])
            out[0] &+= xi &* Int32(w[i]); out[1] &+= xi &* Int32(w[k + i])
            out[2] &+= xi &* Int32(w[2 * k + i]); out[3] &+= xi &* Int32(w[3 * k + i])
        }
    }

    #if arch(x86_64)
    /// Four dot products of one activation row with four consecutive Int8 weight rows. Sixteen weight bytes load as
    /// eight Int16 lanes holding (even, odd) byte pairs: an arithmetic shift right by 8 sign-extends the odd bytes,
    /// a shift left then right the even ones, and `pmaddwd` multiplies them with the activations reordered the same
    /// way (`splitEvenOdd`). Shifts run on two ports; the byte unpacks they replace all compete for one.
    @inline(__always)
    static func dot4(_ x: UnsafePointer<Int16>, _ split: UnsafePointer<Int16>, _ w: UnsafePointer<Int8>, k: Int,
                     into out: UnsafeMutablePointer<Int32>) {
        var a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128(), a2 = _mm_setzero_si128(), a3 = _mm_setzero_si128()
        let w0 = UnsafeRawPointer(w), w1 = UnsafeRawPointer(w + k), w2 = UnsafeRawPointer(w + 2 * k), w3 = UnsafeRawPointer(w + 3 * k)
        let blocks = k / 16
        var b = 0
        while b < blocks {
            let xs = UnsafeRawPointer(split + 16 * b)
            let even = xs.loadUnaligned(as: __m128i.self), odd = xs.loadUnaligned(fromByteOffset: 16, as: __m128i.self)
            let offset = 16 * b
            a0 = multiplyAdd(w0.loadUnaligned(fromByteOffset: offset, as: __m128i.self), even, odd, a0)
            a1 = multiplyAdd(w1.loadUnaligned(fromByteOffset: offset, as: __m128i.self), even, odd, a1)
            a2 = multiplyAdd(w2.loadUnaligned(fromByteOffset: offset, as: __m128i.self), even, odd, a2)
            a3 = multiplyAdd(w3.loadUnaligned(fromByteOffset: offset, as: __m128i.self), even, odd, a3)
            b += 1
        }
        out[0] = horizontalSum(a0); out[1] = horizontalSum(a1); out[2] = horizontalSum(a2); out[3] = horizontalSum(a3)
        tail4(x, w, from: 16 * blocks, k: k, into: out)
    }

    @inline(__always)
    private static func multiplyAdd(_ bytes: __m128i, _ even: __m128i, _ odd: __m128i, _ acc: __m128i) -> __m128i {
        let oddWeights = _mm_srai_epi16(bytes, 8)
        let evenWeights = _mm_srai_epi16(_mm_slli_epi16(bytes, 8), 8)
        return _mm_add_epi32(acc, _mm_add_epi32(_mm_madd_epi16(evenWeights, even), _mm_madd_epi16(oddWeights, odd)))
    }

    /// Four dot products of one Int16 activation row with a tile of four Int16 weight rows.
    @inline(__always)
    static func dot4Wide(_ x: UnsafePointer<Int16>, _ w: UnsafePointer<Int16>, k: Int, into out: UnsafeMutablePointer<Int32>) {
        var a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128(), a2 = _mm_setzero_si128(), a3 = _mm_setzero_si128()
        let rx = UnsafeRawPointer(x)
        let w0 = UnsafeRawPointer(w), w1 = UnsafeRawPointer(w + k), w2 = UnsafeRawPointer(w + 2 * k), w3 = UnsafeRawPointer(w + 3 * k)
        let blocks = k / 8
        var b = 0
        while b < blocks {
            let offset = 16 * b
            let xv = rx.loadUnaligned(fromByteOffset: offset, as: __m128i.self)
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(xv, w0.loadUnaligned(fromByteOffset: offset, as: __m128i.self)))
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(xv, w1.loadUnaligned(fromByteOffset: offset, as: __m128i.self)))
            a2 = _mm_add_epi32(a2, _mm_madd_epi16(xv, w2.loadUnaligned(fromByteOffset: offset, as: __m128i.self)))
            a3 = _mm_add_epi32(a3, _mm_madd_epi16(xv, w3.loadUnaligned(fromByteOffset: offset, as: __m128i.self)))
            b += 1
        }
        out[0] = horizontalSum(a0); out[1] = horizontalSum(a1); out[2] = horizontalSum(a2); out[3] = horizontalSum(a3)
        tail4(x, w, from: 8 * blocks, k: k, into: out)
    }

    @inline(__always)
    private static func horizontalSum(_ v: __m128i) -> Int32 {
        unsafeBitCast(v, to: SIMD4<Int32>.self).wrappedSum()
    }
    #else
    /// Portable versions: the compiler vectorises these on NEON (smlal), where int8 dot products are cheap anyway.
    @inline(__always)
    static func dot4(_ x: UnsafePointer<Int16>, _ split: UnsafePointer<Int16>, _ w: UnsafePointer<Int8>, k: Int,
                     into out: UnsafeMutablePointer<Int32>) {
        for j in 0..<4 { out[j] = dot(x, w + j * k, k: k) }
    }

    @inline(__always)
    static func dot4Wide(_ x: UnsafePointer<Int16>, _ w: UnsafePointer<Int16>, k: Int, into out: UnsafeMutablePointer<Int32>) {
        for j in 0..<4 {
            var sum: Int32 = 0
            for i in 0..<k { sum &+= Int32(x[i]) &* Int32(w[j * k + i]) }
            out[j] = sum
        }
    }
    #endif

    // MARK: Rescaling

    /// y[r, o] = sx[r]·sw[o]·(acc − zw[o]·Σqx[r] − zx[r]·Σqw[o] + k·zx[r]·zw[o]) + b[o]: one conversion to Float per
    /// output. The correction terms expand Σ (qx − zx)(qw − zw); they vanish for absmax (zero points 0).
    static func rescale(_ acc: UnsafePointer<Int32>, rows: Int, n: Int, k: Int,
                        rowScales: UnsafePointer<Float>, rowZeroPoints: UnsafePointer<Int32>, rowSums: UnsafePointer<Int32>,
                        weightScales: UnsafePointer<Float>, weightScaleCount: Int,
                        weightZeroPoints: UnsafePointer<Int32>, weightSums: UnsafePointer<Int32>,
                        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let perChannel = weightScaleCount > 1
        for r in 0..<rows {
            let sx = rowScales[r], zx = rowZeroPoints[r], sumX = rowSums[r]
            let accRow = acc + r * n, out = y + r * n
            for o in 0..<n {
                let c = perChannel ? o : 0
                let zw = weightZeroPoints[c]
                let corrected = accRow[o] &- zw &* sumX &- zx &* weightSums[o] &+ Int32(k) &* zx &* zw
                out[o] = Float(corrected) * (sx * weightScales[c]) + (bias?[o] ?? 0)
            }
        }
    }
}
