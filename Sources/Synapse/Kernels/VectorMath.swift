import CSynapseKernels

/// Vectorised transcendental functions over contiguous `Float` buffers.
///
/// Every function works on blocks of 16 floats (`SIMD16<Float>`, four SSE registers at the default x86_64 target)
/// with the same recipe: reduce the argument to a small interval where a short polynomial is accurate, evaluate the
/// polynomial with plain multiplies and adds, then undo the reduction with integer bit manipulation. Special cases
/// (overflow, NaN, infinities, zero) are patched with `.replacing(with:where:)`, which compiles to branch-free masks.
///
/// The leftover `count % 16` elements are copied into a zero-padded block and go through the very same block
/// function, so a value's result never depends on its position in the buffer.
///
/// On CPUs with AVX-512 the buffer forms of `exp`, `tanh`, `erf` and the exact GELU (forward and backward) run the same
/// reductions and polynomials as C kernels with fused multiply-adds, 16 floats per instruction (CSynapseKernels,
/// `CPUFeatures`); at the default SSE2 target the Swift blocks take four instructions for each of those. Results may
/// differ from the Swift blocks by the roundings FMA skips (tested in AVX512KernelTests).
///
/// All buffer functions are single-threaded; callers split large buffers across cores themselves:
///
///     Parallel.forRanges(count) { range in
///         VectorMath.exp(x + range.lowerBound, y + range.lowerBound, range.count)
///     }
///
/// `x` and `y` may be the same buffer (in-place), but must not otherwise overlap.
///
/// The block functions (`exp(_: SIMD16<Float>)`, `log`, `tanh`, `sigmoid`, `erf`, the activations and their
/// backward forms) are `@inline(__always)` and can be used directly inside fused loops, e.g. a softmax that
/// exponentiates and sums in one pass.
///
/// Code-generation rules followed here (see the performance notes): no `addProduct` (it becomes an `fmaf` call per
/// lane without FMA in the target), no `pointwiseMin`/`pointwiseMax` (per-lane scalar loops), no `Float` <-> `Int`
/// vector conversions (they may scalarise; the "magic number" trick below does the rounding with one add).
///
/// The polynomial coefficients are minimax-style fits (iteratively reweighted least squares in double precision,
/// rounded to `Float`) of the reduced functions on the stated intervals; `scripts/fit_vectormath.py` regenerates them.
enum VectorMath {
    /// The block type every kernel works on.
    typealias Vector = SIMD16<Float>
    typealias IntVector = SIMD16<Int32>
    typealias BitVector = SIMD16<UInt32>

    // MARK: - Buffer functions

    /// `y[i] = e^x[i]`. Overflows to `+inf` above ~88.72, gives subnormals down to ~-103.3 and 0 below.
    static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        if CPUFeatures.avx512 { return synapse_exp_avx512(x, y, count) }
        map(x, y, count) { exp($0) }
    }

    /// `y[i] = ln x[i]`: `-inf` at ±0, NaN for negatives, `+inf` at `+inf`, correct for subnormals.
    static func log(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        map(x, y, count) { log($0) }
    }

    /// `y[i] = tanh x[i]`, exactly ±1 once the true value rounds to ±1.
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        if CPUFeatures.avx512 { return synapse_tanh_avx512(x, y, count) }
        map(x, y, count) { tanh($0) }
    }

    /// `y[i] = 1 / (1 + e^-x[i])`, accurate in relative terms on both tails (tiny values for very negative `x`).
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        if CPUFeatures.avx512 { return synapse_sigmoid_avx512(x, y, count) }
        map(x, y, count) { sigmoid($0) }
    }

    /// `y[i] = erf x[i]`, exactly ±1 once the true value rounds to ±1.
    static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        if CPUFeatures.avx512 { return synapse_erf_avx512(x, y, count) }
        map(x, y, count) { erf($0) }
    }

    /// Exact GELU, in PyTorch's float formula: `0.5 · x · (1 + erf(x / √2))`.
    static func geluExact(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        if CPUFeatures.avx512 { return synapse_gelu_exact_avx512(x, y, nil, count) }
        map(x, y, count) { geluExact($0) }
    }

    /// Exact GELU that also writes Φ(x) = 0.5 · (1 + erf(x / √2)) to `cdf`, so the backward needs no second erf.
    /// `y` is bit-identical to `geluExact` (x·(Φ) and (x/2)·(1 + erf) round the same product).
    static func geluExact(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cdf: UnsafeMutablePointer<Float>,
                          _ count: Int) {
        if CPUFeatures.avx512 { return synapse_gelu_exact_avx512(x, y, cdf, count) }
        FusedLoop.blocks(0..<count) { i, lanes in
            let v = FusedLoop.load(x, i, lanes)
            let c = 0.5 * (1 + erf(v * sqrtHalf))
            FusedLoop.store(v * c, y, i, lanes)
            FusedLoop.store(c, cdf, i, lanes)
        }
    }

    /// The exact GELU's gradient from a kept Φ(x), PyTorch's formula `g · (Φ(x) + x · φ(x))` with
    /// `φ(x) = e^(-x²/2) / √(2π)` (one exp).
    /// `gradInput` may alias any input.
    static func geluExactBackward(x: UnsafePointer<Float>, cdf: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                  gradInput: UnsafeMutablePointer<Float>, count: Int) {
        if CPUFeatures.avx512 { return synapse_gelu_exact_backward_avx512(x, cdf, gradOutput, gradInput, count) }
        FusedLoop.blocks(0..<count) { i, lanes in
            let v = FusedLoop.load(x, i, lanes)
            let pdf = exp(-0.5 * (v * v)) * inverseSqrtTwoPi
            let g = FusedLoop.load(gradOutput, i, lanes)
            FusedLoop.store(g * (FusedLoop.load(cdf, i, lanes) + v * pdf), gradInput, i, lanes)
        }
    }

    /// Tanh-approximated GELU, in PyTorch's float formula: `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`.
    static func geluTanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        map(x, y, count) { geluTanh($0) }
    }

    /// SiLU (swish): `x · sigmoid(x)`.
    static func silu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        map(x, y, count) { silu($0) }
    }

    /// `gradInput[i] = gradOutput[i] · d geluTanh / dx (x[i])`, PyTorch's formula (see the block version).
    /// `gradInput` may alias `x` or `gradOutput`.
    static func geluTanhBackward(x: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                 gradInput: UnsafeMutablePointer<Float>, count: Int) {
        map(x, gradOutput, gradInput, count) { geluTanhBackward($0, $1) }
    }

    /// `gradInput[i] = gradOutput[i] · sigmoid(x) · (1 + x · (1 - sigmoid(x)))`, the SiLU derivative.
    /// `gradInput` may alias `x` or `gradOutput`.
    static func siluBackward(x: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                             gradInput: UnsafeMutablePointer<Float>, count: Int) {
        map(x, gradOutput, gradInput, count) { siluBackward($0, $1) }
    }

    /// `gradInput[i] = gradOutput[i] · (1 - y[i]²)` from the forward output `y = tanh x` (no transcendental needed).
    /// `gradInput` may alias `output` or `gradOutput`.
    static func tanhBackward(output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                             gradInput: UnsafeMutablePointer<Float>, count: Int) {
        map(output, gradOutput, gradInput, count) { y, g in g * (1 - y * y) }
    }

    /// `gradInput[i] = gradOutput[i] · y[i] · (1 - y[i])` from the forward output `y = sigmoid x`.
    /// `gradInput` may alias `output` or `gradOutput`.
    static func sigmoidBackward(output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                gradInput: UnsafeMutablePointer<Float>, count: Int) {
        map(output, gradOutput, gradInput, count) { y, g in g * (y * (1 - y)) }
    }

    // MARK: - Block drivers

    /// Applies `kernel` to full 16-float blocks, then to the zero-padded tail block.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                    _ kernel: (Vector) -> Vector) {
        precondition(count >= 0, "VectorMath: negative element count \(count)")
        var i = 0
        while i + Vector.scalarCount <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: kernel(v), as: Vector.self)
            i += Vector.scalarCount
        }
        let rest = count - i
        if rest > 0 {
            var v = Vector(repeating: 0)
            for j in 0..<rest { v[j] = x[i + j] }
            let r = kernel(v)
            for j in 0..<rest { y[i + j] = r[j] }
        }
    }

    /// Two-input version of `map` for backward kernels.
    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    _ count: Int, _ kernel: (Vector, Vector) -> Vector) {
        precondition(count >= 0, "VectorMath: negative element count \(count)")
        var i = 0
        while i + Vector.scalarCount <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            let w = UnsafeRawPointer(g + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: kernel(v, w), as: Vector.self)
            i += Vector.scalarCount
        }
        let rest = count - i
        if rest > 0 {
            var v = Vector(repeating: 0)
            var w = Vector(repeating: 0)
            for j in 0..<rest {
                v[j] = x[i + j]
                w[j] = g[i + j]
            }
            let r = kernel(v, w)
            for j in 0..<rest { y[i + j] = r[j] }
        }
    }

    // MARK: - Bit helpers

    @inline(__always) static func bits(_ v: Vector) -> BitVector { unsafeBitCast(v, to: BitVector.self) }
    @inline(__always) static func float(_ b: BitVector) -> Vector { unsafeBitCast(b, to: Vector.self) }
    @inline(__always) static func abs(_ v: Vector) -> Vector { float(bits(v) & 0x7FFF_FFFF) }
    /// `magnitude` with the sign bit of `sign` (magnitude must be non-negative).
    @inline(__always) static func withSign(of sign: Vector, _ magnitude: Vector) -> Vector {
        float(bits(magnitude) | (bits(sign) & 0x8000_0000))
    }

    /// Adding 1.5·2²³ to a float of magnitude below 2²² pushes all its fraction bits out of the significand, so the
    /// sum is rounded to the nearest integer n (ties to even) and its low mantissa bits hold n in two's complement.
    /// Subtracting the constant again gives n as a float. One add instead of a vector Float -> Int conversion.
    static let roundingMagic: Float = 12_582_912

    // MARK: - exp

    /// e^x for one block.
    ///
    /// Write x = n·ln2 + r with n = round(x / ln2) and |r| ≤ ln2/2, so e^x = 2^n · e^r. The product n·ln2 is
    /// subtracted in two parts (Cody–Waite): `ln2Hi` has only 9 significant bits, so n·ln2Hi is exact for
    /// |n| ≤ 2¹⁵ and x - n·ln2Hi loses nothing; `ln2Lo` = ln2 - ln2Hi carries the rest.
    /// e^r = 1 + r + r²·P(r), with P of degree 4 (fit error 3e-9 relative on [-ln2/2, ln2/2], a twentieth of an ulp).
    /// 2^n is built directly as exponent bits. n ranges over [-150, 128] after clamping, beyond a single normal
    /// float's exponent, so the scale is applied as two factors 2^(n/2) · 2^(n - n/2): this yields +inf on overflow
    /// and correctly rounded-from-p subnormals (a single rounding, in the last multiply) on underflow.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Outside [-104, 88.8] the result is 0 or +inf anyway; clamping keeps n in range. NaN fails both
        // comparisons and flows through (NaN · scale = NaN).
        var x = x.replacing(with: 88.8, where: x .> 88.8)
        x = x.replacing(with: -104, where: x .< -104)
        let (er, n) = expReduced(x)
        let n1 = n &>> 1
        let n2 = n &- n1
        return (er * exponentScale(n1)) * exponentScale(n2)
    }

    /// e^x for arguments the caller has already limited to about [-87, 88], where e^x is a normal float:
    /// a single exponent scale suffices.
    @inline(__always)
    static func expNormalRange(_ x: Vector) -> Vector {
        let (er, n) = expReduced(x)
        return er * exponentScale(n)
    }

    /// The shared part of `exp`: n = round(x / ln2) as an integer vector and e^r for r = x - n·ln2.
    @inline(__always)
    static func expReduced(_ x: Vector) -> (expR: Vector, n: IntVector) {
        let log2e: Float = 1.442_695_0
        let ln2Hi: Float = 0.693_359_375
        let ln2Lo: Float = -2.121_944_4e-4
        let shifted = x * log2e + roundingMagic
        let n = shifted - roundingMagic
        let r = (x - n * ln2Hi) - n * ln2Lo

        var p: Vector = r * 1.381_418_9e-3 + 8.368_914e-3
        p = p * r + 4.166_840_8e-2
        p = p * r + 0.166_665_2
        p = p * r + 0.499_999_94
        let er = (p * (r * r) + r) + 1
        // Integer n from the low bits of `shifted` (see `roundingMagic`).
        let ni = unsafeBitCast(bits(shifted) &- bits(Vector(repeating: roundingMagic)), to: IntVector.self)
        return (er, ni)
    }

    /// 2^n for n in [-126, 127], written straight into the exponent field.
    @inline(__always)
    static func exponentScale(_ n: IntVector) -> Vector {
        float(unsafeBitCast((n &+ 127) &<< 23, to: BitVector.self))
    }

    // MARK: - log

    /// ln x for one block.
    ///
    /// Write x = 2^e · m with m in [√½, √2), so ln x = e·ln2 + ln(1 + f) with f = m - 1 in [-0.29, 0.41] computed
    /// exactly. e and m come straight from the bit pattern: subtracting the bits of √½ from the bits of x makes the
    /// exponent field of the difference equal to e (the mantissa part borrows exactly when m would fall below √½),
    /// and removing those exponent bits from x leaves m. No compare-and-select is needed (a select on m made LLVM
    /// scalarise the whole polynomial).
    /// ln(1 + f) = f - f²/2 + f³·P(f), P of degree 7 (fit error 6e-9 relative, a tenth of an ulp).
    /// e·ln2 is added in the same Cody–Waite halves as in `exp`, the small half first, so the result stays accurate
    /// near x = 1 (e = 0).
    /// Subnormal inputs are first scaled by 2²³ into the normal range.
    @inline(__always)
    static func log(_ x: Vector) -> Vector {
        let ln2Hi: Float = 0.693_359_375
        let ln2Lo: Float = -2.121_944_4e-4
        let isSubnormal = x .< Float.leastNormalMagnitude
        let scaled = x.replacing(with: x * 8_388_608, where: isSubnormal)
        let sqrtHalfBits: UInt32 = 0x3F35_04F3
        let offset = bits(scaled) &- sqrtHalfBits
        // Arithmetic shift: e is negative for x < √½. Converted to float with the rounding-magic trick.
        let exponent = unsafeBitCast(offset, to: IntVector.self) &>> 23
        var e = float(unsafeBitCast(exponent &+ 0x4B40_0000, to: BitVector.self)) - roundingMagic
        e = e.replacing(with: e - 23, where: isSubnormal)
        let m = float(bits(scaled) &- (offset & 0xFF80_0000))
        let f = m - 1

        var p: Vector = f * -7.634_429_6e-2 + 0.127_615_5
        p = p * f - 0.131_601_94
        p = p * f + 0.142_017_62
        p = p * f - 0.166_233_57
        p = p * f + 0.200_012_27
        p = p * f - 0.250_008_23
        p = p * f + 0.333_333_31
        let f2 = f * f
        let tail = (p * (f2 * f) - f2 * 0.5) + e * ln2Lo
        var y = (f + tail) + e * ln2Hi

        y = y.replacing(with: -.infinity, where: x .== 0)
        y = y.replacing(with: .infinity, where: x .== .infinity)
        // Negative inputs (including -inf) and NaN: the comparisons x < 0 and x ≠ x.
        y = y.replacing(with: .nan, where: (x .< 0) .| (x .!= x))
        return y
    }

    // MARK: - tanh

    /// tanh x for one block.
    ///
    /// tanh is odd, so work on a = |x| and copy the sign back.
    /// Below 0.625: tanh a = a + a³·P(a²), P of degree 4 (fit error 4e-9 relative); here the exp route would lose
    /// bits to cancellation. From 0.625 on: tanh a = 1 - 2 / (e^(2a) + 1), where the subtraction no longer cancels
    /// badly (the result is above 0.55). For a > 9.01 the quotient is below half an ulp of 1, so the result is
    /// exactly 1. Both branches are computed and the right one is selected.
    @inline(__always)
    static func tanh(_ x: Vector) -> Vector {
        let a = abs(x)
        let z = a * a
        var p: Vector = z * -5.704_990_6e-3 + 2.063_909e-2
        p = p * z - 5.373_971_5e-2
        p = p * z + 0.133_314_42
        p = p * z - 0.333_332_8
        let small = a + (a * z) * p
        // Past a = 10 the result is 1 anyway; the clamp keeps e^(2a) normal so the cheaper exp applies.
        let clamped = a.replacing(with: 10, where: a .> 10)
        let large = 1 - 2 / (expNormalRange(clamped + clamped) + 1)
        return withSign(of: x, large.replacing(with: small, where: a .< 0.625))
    }

    // MARK: - sigmoid

    /// sigmoid x for one block.
    ///
    /// With e = e^-|x| in [0, 1] (never overflows): sigmoid(|x|) = 1 / (1 + e) and sigmoid(-|x|) = e / (1 + e).
    /// The second form keeps full relative accuracy for very negative x, where 1 - sigmoid(|x|) would cancel to 0.
    /// sigmoid(-inf) = 0, sigmoid(+inf) = 1, NaN stays NaN.
    @inline(__always)
    static func sigmoid(_ x: Vector) -> Vector {
        let e = exp(-abs(x))
        let numerator = Vector(repeating: 1).replacing(with: e, where: x .< 0)
        return numerator / (1 + e)
    }

    // MARK: - erf

    /// erf x for one block.
    ///
    /// erf is odd, so work on a = |x| and copy the sign back. Two polynomial pieces:
    /// a < 1: erf a = a·P(a²), P of degree 6 (fit error 1.2e-9 relative on [0, 1]);
    /// 1 ≤ a < 3.92: erf a = Q(a - 2.4), Q of degree 14 in the shifted variable (fit error 8e-9 absolute on
    /// [0.95, 3.92], under a quarter ulp of the result, which is above 0.84 there).
    /// From a = 3.92 on, 1 - erf a < 2⁻²⁵, so the float result is exactly 1.
    @inline(__always)
    static func erf(_ x: Vector) -> Vector {
        let a = abs(x)
        let z = a * a
        var p: Vector = z * 7.854_025e-5 - 8.010_247_3e-4
        p = p * z + 5.188_334_3e-3
        p = p * z - 2.685_381_7e-2
        p = p * z + 0.112_835_854
        p = p * z - 0.376_126_26
        p = p * z + 1.128_379_1
        let small = a * p

        let t = a - 2.4
        var q: Vector = t * 1.197_921_2e-6 - 9.683_988e-7
        q = q * t - 1.769_964e-5
        q = q * t + 3.799_73e-5
        q = q * t + 5.701_085_7e-5
        q = q * t - 3.414_109_8e-4
        q = q * t + 5.270_605_3e-4
        q = q * t + 2.500_271_4e-4
        q = q * t - 3.087_409_5e-3
        q = q * t + 7.885_684_3e-3
        q = q * t - 1.211_611_2e-2
        q = q * t + 1.246_978_2e-2
        q = q * t - 8.533_738_6e-3
        q = q * t + 3.555_574_5e-3
        q = q * t + 0.999_311_5

        var r = q.replacing(with: small, where: a .< 1)
        // Saturate (also guards against the polynomial rounding just above 1); NaN fails every comparison.
        r = r.replacing(with: 1, where: (a .>= 3.92) .| (r .> 1))
        return withSign(of: x, r)
    }

    // MARK: - Activations built on the above

    static let sqrtHalf: Float = 0.707_106_77           // 1/√2, PyTorch's M_SQRT1_2 in float
    static let sqrtTwoOverPi: Float = 0.797_884_6       // √(2/π), PyTorch's kBeta = M_SQRT2 · M_2_SQRTPI · 0.5
    static let geluTanhCubic: Float = 0.044_715         // PyTorch's kKappa
    static let inverseSqrtTwoPi: Float = 0.398_942_3    // 1/√(2π), PyTorch's kAlpha = M_2_SQRTPI · M_SQRT1_2 · 0.5

    /// `0.5 · x · (1 + erf(x · (1/√2)))`, the same float operations as PyTorch's CPU kernel.
    @inline(__always)
    static func geluExact(_ x: Vector) -> Vector {
        (x * 0.5) * (1 + erf(x * sqrtHalf))
    }

    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, the same float operations as PyTorch's CPU kernel.
    @inline(__always)
    static func geluTanh(_ x: Vector) -> Vector {
        let inner = sqrtTwoOverPi * (x + geluTanhCubic * (x * x * x))
        return (x * 0.5) * (1 + tanh(inner))
    }

    /// `x · sigmoid(x)`.
    @inline(__always)
    static func silu(_ x: Vector) -> Vector {
        x * sigmoid(x)
    }

    /// With u = √(2/π)·(x + κx³) and t = tanh u, GELU = ½x(1 + t), so
    /// d/dx = ½(1 + t) + ½x · (1 - t²) · √(2/π)·(1 + 3κx²).
    @inline(__always)
    static func geluTanhBackward(_ x: Vector, _ g: Vector) -> Vector {
        let x2 = x * x
        let inner = sqrtTwoOverPi * (x + geluTanhCubic * (x2 * x))
        let t = tanh(inner)
        let left = 0.5 * x
        let right = 1 + t
        let leftDerivative = 0.5 * right
        let innerDerivative = sqrtTwoOverPi * (1 + (3 * geluTanhCubic) * x2)
        let rightDerivative = left * ((1 - t * t) * innerDerivative)
        return g * (leftDerivative + rightDerivative)
    }

    /// d/dx (x·s) = s + x·s·(1 - s) = s · (1 + x·(1 - s)) with s = sigmoid x.
    @inline(__always)
    static func siluBackward(_ x: Vector, _ g: Vector) -> Vector {
        let s = sigmoid(x)
        return g * (s * (1 + x * (1 - s)))
    }
}
