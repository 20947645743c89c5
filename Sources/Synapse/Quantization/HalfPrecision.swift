/// Conversions between `Float` and the two 16-bit floating-point formats used to store weights, over `UInt16`
/// bit patterns.
///
/// - **Float16** (IEEE 754 binary16: 1 sign, 5 exponent, 10 fraction bits) — PyTorch's `torch.float16`, `.half()`.
/// - **BFloat16** (1 sign, 8 exponent, 7 fraction bits: the top half of a `Float`) — PyTorch's `torch.bfloat16`.
///
/// Narrowing rounds to nearest, ties to even; values too large become ±infinity, tiny ones become subnormals or ±0,
/// exactly like IEEE 754 and PyTorch. Widening is exact. NaNs follow PyTorch's CPU conversions:
/// - Float → Float16 keeps the sign and the top 10 payload bits and sets the quiet bit (F16C `vcvtps2ph`).
/// - Float → BFloat16 gives the canonical `0x7FC0` for every NaN, as `c10::BFloat16(float)` does. (PyTorch's AVX2 and
///   AVX-512 kernels for `.bfloat16()` write `0xFFFF` instead; both are NaN, so no arithmetic can tell them apart.)
/// - Float16 → Float keeps sign and payload and sets the quiet bit; BFloat16 → Float just appends 16 zero bits.
///
/// The implementation works on integers only, so it behaves the same on every platform (Swift's `Float16` type is
/// missing on Intel Macs).
///
/// ```swift
/// let bits = Float(1.5).float16Bits             // 0x3E00
/// let back = Float(float16Bits: bits)           // 1.5
/// let packed = HalfPrecision.bfloat16Bits(from: weights)      // [Float] → [UInt16]
/// let unpacked = HalfPrecision.floats(fromBFloat16Bits: packed)
/// ```
public enum HalfPrecision {
    // MARK: Scalars

    /// Rounds `value` to the nearest Float16 (ties to even) and returns its bit pattern.
    @inlinable
    public static func float16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {
            // Infinity, or NaN: keep the top payload bits and make it quiet.
            if magnitude == 0x7F80_0000 { return sign | 0x7C00 }
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: (magnitude >> 13) & 0x03FF)
        }
        if magnitude >= 0x4780_0000 {
            // ≥ 65536: beyond 65504 + half an ulp, so rounding overflows to infinity.
            return sign | 0x7C00
        }
        if magnitude < 0x3880_0000 {
            // Below 2^-14, the smallest normal Float16: the result is subnormal or zero.
            if magnitude < 0x3300_0000 { return sign }  // < 2^-25: rounds to zero (2^-25 itself ties to even 0)
            // Shift the 24-bit significand (with its implicit bit) right so that one unit is 2^-24.
            let exponent = magnitude >> 23                          // 102 ... 112
            let significand = (magnitude & 0x007F_FFFF) | 0x0080_0000
            let shift = 126 - exponent                              // 14 ... 24
            let half = UInt32(1) << (shift - 1)
            let remainder = significand & ((UInt32(1) << shift) - 1)
            var result = significand >> shift
            if remainder > half || (remainder == half && (result & 1) == 1) { result += 1 }
            return sign | UInt16(truncatingIfNeeded: result)
        }
        // Normal range: rebias the exponent (127 → 15) and round away the 13 low fraction bits. A carry out of the
        // fraction correctly bumps the exponent, up to infinity for values that round past 65504.
        let rebiased = magnitude - 0x3800_0000
        let roundingBias = 0x0FFF + ((rebiased >> 13) & 1)
        return sign | UInt16(truncatingIfNeeded: (rebiased + roundingBias) >> 13)
    }

    /// The exact `Float` value of a Float16 bit pattern.
    @inlinable
    public static func float(fromFloat16Bits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let fraction = UInt32(bits & 0x03FF)
        if exponent == 0x1F {
            // Infinity, or NaN with its payload moved to the top and the quiet bit set.
            let nanBits: UInt32 = fraction == 0 ? 0 : 0x0040_0000 | (fraction << 13)
            return Float(bitPattern: sign | 0x7F80_0000 | nanBits)
        }
        if exponent == 0 {
            // Zero or subnormal: fraction × 2^-24, exact in Float.
            let magnitude = Float(fraction) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (fraction << 13))
    }

    /// Rounds `value` to the nearest BFloat16 (ties to even) and returns its bit pattern; every NaN becomes `0x7FC0`.
    @inlinable
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return 0x7FC0 }
        // Adding 0x7FFF plus the lowest kept bit rounds ties to even; the carry propagates into the exponent, which
        // also turns values above the largest BFloat16 into infinity.
        let roundingBias = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }

    /// The exact `Float` value of a BFloat16 bit pattern.
    @inlinable
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    // MARK: Buffers

    /// Converts `source` to Float16 bit patterns in `destination` (same count).
    public static func convertToFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>) {
        precondition(source.count == destination.count,
                     "HalfPrecision.convertToFloat16: \(source.count) floats into \(destination.count) slots")
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        for i in 0..<source.count { output[i] = float16Bits(from: input[i]) }
    }

    /// Converts Float16 bit patterns in `source` to floats in `destination` (same count).
    public static func convertFromFloat16(_ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count == destination.count,
                     "HalfPrecision.convertFromFloat16: \(source.count) values into \(destination.count) slots")
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        for i in 0..<source.count { output[i] = float(fromFloat16Bits: input[i]) }
    }

    /// Converts `source` to BFloat16 bit patterns in `destination` (same count).
    public static func convertToBFloat16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<UInt16>) {
        precondition(source.count == destination.count,
                     "HalfPrecision.convertToBFloat16: \(source.count) floats into \(destination.count) slots")
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        for i in 0..<source.count { output[i] = bfloat16Bits(from: input[i]) }
    }

    /// Converts BFloat16 bit patterns in `source` to floats in `destination` (same count).
    public static func convertFromBFloat16(_ source: UnsafeBufferPointer<UInt16>, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count == destination.count,
                     "HalfPrecision.convertFromBFloat16: \(source.count) values into \(destination.count) slots")
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        for i in 0..<source.count { output[i] = float(fromBFloat16Bits: input[i]) }
    }

    // MARK: Arrays

    /// The Float16 bit patterns of `values`.
    public static func float16Bits(from values: [Float]) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            values.withUnsafeBufferPointer { convertToFloat16($0, into: buffer) }
            initialized = values.count
        }
    }

    /// The floats encoded by Float16 bit patterns.
    public static func floats(fromFloat16Bits bits: [UInt16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bits.count) { buffer, initialized in
            bits.withUnsafeBufferPointer { convertFromFloat16($0, into: buffer) }
            initialized = bits.count
        }
    }

    /// The BFloat16 bit patterns of `values`.
    public static func bfloat16Bits(from values: [Float]) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            values.withUnsafeBufferPointer { convertToBFloat16($0, into: buffer) }
            initialized = values.count
        }
    }

    /// The floats encoded by BFloat16 bit patterns.
    public static func floats(fromBFloat16Bits bits: [UInt16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bits.count) { buffer, initialized in
            bits.withUnsafeBufferPointer { convertFromBFloat16($0, into: buffer) }
            initialized = bits.count
        }
    }
}

extension Float {
    /// The value of a Float16 bit pattern (exact). See `HalfPrecision`.
    @inlinable public init(float16Bits: UInt16) { self = HalfPrecision.float(fromFloat16Bits: float16Bits) }

    /// The value of a BFloat16 bit pattern (exact). See `HalfPrecision`.
    @inlinable public init(bfloat16Bits: UInt16) { self = HalfPrecision.float(fromBFloat16Bits: bfloat16Bits) }

    /// This value rounded to the nearest Float16, as a bit pattern. See `HalfPrecision`.
    @inlinable public var float16Bits: UInt16 { HalfPrecision.float16Bits(from: self) }

    /// This value rounded to the nearest BFloat16, as a bit pattern. See `HalfPrecision`.
    @inlinable public var bfloat16Bits: UInt16 { HalfPrecision.bfloat16Bits(from: self) }
}
