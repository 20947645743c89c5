import Foundation

/// The two ways of mapping floats to 8-bit integers.
///
/// - **absmax** (symmetric): the step is `max|x| / 127`, so values land in [−127, 127] and 0 stays 0 with no zero
///   point. The notes write the multiplier `127 / max|x|`; `scale` here is its inverse, the value of one step
///   (PyTorch's convention), so `x ≈ q × scale`.
/// - **zeroPoint** (asymmetric): the step is `(max − min) / 255` and an integer zero point shifts the range onto
///   [−128, 127], so `x ≈ (q − zeroPoint) × scale`. It spends all 256 levels on skewed data such as ReLU outputs.
///   The range is widened to contain 0 first, so that 0 (padding, dead ReLUs) is represented exactly.
///
/// ```swift
/// let q = QuantizedTensor(weights, scheme: .absmax, granularity: .perChannel)
/// q.values            // [Int8], one row per output channel
/// q.dequantized()     // back to Float32
/// ```
public enum Int8Scheme: String, CaseIterable, Sendable, CustomStringConvertible {
    case absmax
    case zeroPoint = "zeropoint"

    public var description: String { rawValue }

    /// The range of codes this scheme uses.
    public var codeRange: ClosedRange<Int32> { self == .absmax ? -127...127 : -128...127 }

    /// The step and zero point that map [minimum, maximum] onto the codes.
    ///
    /// A constant-zero range gets step 1 (any step represents 0 exactly), so dequantizing never divides by zero.
    public func parameters(minimum: Float, maximum: Float) -> (scale: Float, zeroPoint: Int32) {
        switch self {
        case .absmax:
            let bound = Swift.max(Swift.abs(minimum), Swift.abs(maximum))
            return (bound > 0 && bound.isFinite ? bound / 127 : 1, 0)
        case .zeroPoint:
            let low = Swift.min(minimum, 0), high = Swift.max(maximum, 0)
            guard high > low, (high - low).isFinite else { return (1, 0) }
            let scale = (high - low) / 255
            // low maps to −128: zeroPoint = −128 − low/scale, rounded and kept inside the code range.
            let zeroPoint = Int32((-128 - low / scale).rounded()).clamped(to: -128...127)
            return (scale, zeroPoint)
        }
    }
}

/// Whether one step size covers a whole tensor or each output channel (row of a [out, in] weight) has its own.
///
/// Per channel costs one Float32 per row and usually cuts the error a lot: a row of small weights no longer shares
/// its step with the largest weight of the layer.
public enum QuantizationGranularity: String, CaseIterable, Sendable, CustomStringConvertible {
    case perTensor = "per-tensor"
    case perChannel = "per-channel"
    public var description: String { rawValue }
}

/// How far a quantized tensor is from the original: maximum and mean absolute error, and the signal-to-quantization-
/// noise ratio `10·log10(Σx² / Σ(x − x̂)²)` in dB (each bit adds about 6 dB; +∞ when the round trip is exact).
///
/// ```swift
/// let error = QuantizationError(original: w, reconstructed: q.dequantized())
/// print(error)          // max 0.00213, mean 0.000541, SQNR 41.8 dB
/// ```
public struct QuantizationError: Sendable, Equatable, CustomStringConvertible {
    public var maxAbsolute: Float
    public var meanAbsolute: Float
    public var sqnrDecibels: Float

    public init(maxAbsolute: Float, meanAbsolute: Float, sqnrDecibels: Float) {
        self.maxAbsolute = maxAbsolute
        self.meanAbsolute = meanAbsolute
        self.sqnrDecibels = sqnrDecibels
    }

    /// Compares two tensors of the same shape (sums in Double so large tensors do not lose the small errors).
    public init(original: Tensor, reconstructed: Tensor) {
        precondition(original.shape == reconstructed.shape,
                     "QuantizationError: shapes \(original.shape) and \(reconstructed.shape) differ")
        var maxError: Float = 0
        var absoluteSum = 0.0, signal = 0.0, noise = 0.0
        original.withUnsafeBufferPointer { a in
            reconstructed.withUnsafeBufferPointer { b in
                guard let x = a.baseAddress, let y = b.baseAddress else { return }
                for i in 0..<a.count {
                    let difference = Swift.abs(x[i] - y[i])
                    maxError = Swift.max(maxError, difference)
                    absoluteSum += Double(difference)
                    signal += Double(x[i]) * Double(x[i])
                    noise += Double(difference) * Double(difference)
                }
            }
        }
        let count = Swift.max(original.count, 1)
        maxAbsolute = maxError
        meanAbsolute = Float(absoluteSum / Double(count))
        sqnrDecibels = noise == 0 ? .infinity : Float(10 * log10(signal / noise))
    }

    public var description: String {
        String(format: "max %.3g, mean %.3g, SQNR %.1f dB", maxAbsolute, meanAbsolute, sqnrDecibels)
    }
}

/// An int8 tensor with its step sizes and zero points: `x ≈ (values − zeroPoint) × scale`, with one (scale, zero
/// point) for the whole tensor or one per row (output channel, axis 0).
///
/// ```swift
/// let w = Tensor([[0.1, -3.2], [0.5, 0.25]])
/// let q = QuantizedTensor(w, scheme: .absmax, granularity: .perTensor)
/// q.values                 // [4, -127, 20, 10]
/// q.dequantized()[0, 0]    // 4 × 3.2/127 ≈ 0.1008
/// ```
public struct QuantizedTensor: Sendable, Equatable {
    public var shape: [Int]
    /// The codes, row-major.
    public var values: [Int8]
    /// One step per channel (rows of axis 0), or a single one.
    public var scales: [Float]
    /// One zero point per scale; all zero for `.absmax`.
    public var zeroPoints: [Int32]
    public var scheme: Int8Scheme

    /// `.perTensor` when there is a single scale (a one-row tensor is the same either way).
    public var granularity: QuantizationGranularity { scales.count == 1 ? .perTensor : .perChannel }

    /// Rows along axis 0 (1 for a scalar).
    public var channelCount: Int { shape.first ?? 1 }

    /// Elements per channel.
    public var channelSize: Int { shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *) }

    /// Wraps already quantized data; `scales` and `zeroPoints` have one entry, or one per row.
    public init(shape: [Int], values: [Int8], scales: [Float], zeroPoints: [Int32], scheme: Int8Scheme) {
        precondition(values.count == shape.reduce(1, *), "QuantizedTensor: \(values.count) values for shape \(shape)")
        precondition(scales.count == zeroPoints.count, "QuantizedTensor: \(scales.count) scales, \(zeroPoints.count) zero points")
        precondition(scales.count == 1 || scales.count == (shape.first ?? 1),
                     "QuantizedTensor: \(scales.count) scales for shape \(shape) (need 1 or one per row)")
        self.shape = shape
        self.values = values
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.scheme = scheme
    }

    /// Quantizes `tensor` with its own range (the range of each row for `.perChannel`).
    public init(_ tensor: Tensor, scheme: Int8Scheme, granularity: QuantizationGranularity) {
        let channels = granularity == .perChannel ? (tensor.shape.first ?? 1) : 1
        let size = tensor.count / Swift.max(channels, 1)
        var scales = [Float](repeating: 1, count: channels)
        var zeroPoints = [Int32](repeating: 0, count: channels)
        tensor.withUnsafeBufferPointer { buffer in
            guard let x = buffer.baseAddress else { return }
            for c in 0..<channels {
                var low = Float.infinity, high = -Float.infinity
                for i in (c * size)..<((c + 1) * size) {
                    low = Swift.min(low, x[i])
                    high = Swift.max(high, x[i])
                }
                if size == 0 { (low, high) = (0, 0) }
                (scales[c], zeroPoints[c]) = scheme.parameters(minimum: low, maximum: high)
            }
        }
        self.init(tensor, scales: scales, zeroPoints: zeroPoints, scheme: scheme)
    }

    /// Quantizes `tensor` with given step sizes and zero points (one, or one per row): round to nearest (ties to even,
    /// as PyTorch's `quantize_per_tensor`), then clamp to the scheme's code range. NaN becomes the lowest code.
    public init(_ tensor: Tensor, scales: [Float], zeroPoints: [Int32], scheme: Int8Scheme) {
        let channels = scales.count
        precondition(channels == 1 || channels == (tensor.shape.first ?? 1),
                     "QuantizedTensor: \(channels) scales for shape \(tensor.shape)")
        let size = tensor.count / Swift.max(channels, 1)
        let codes = [Int8](unsafeUninitializedCapacity: tensor.count) { output, initialized in
            tensor.withUnsafeBufferPointer { input in
                guard let x = input.baseAddress, let q = output.baseAddress else { return }
                for c in 0..<channels {
                    Int8Kernels.quantize(x + c * size, count: size, inverseScale: 1 / scales[c],
                                           zeroPoint: zeroPoints[c], range: scheme.codeRange, into: q + c * size)
                }
            }
            initialized = tensor.count
        }
        self.init(shape: tensor.shape, values: codes, scales: scales, zeroPoints: zeroPoints, scheme: scheme)
    }

    /// The float values the codes stand for: `(q − zeroPoint) × scale`.
    public func dequantized() -> Tensor {
        let channels = scales.count, size = values.count / Swift.max(channels, 1)
        var result = Tensor(uninitializedShape: shape)
        result.withUnsafeMutableBufferPointer { output in
            values.withUnsafeBufferPointer { input in
                guard let q = input.baseAddress, let y = output.baseAddress else { return }
                for c in 0..<channels {
                    let scale = scales[c], zeroPoint = Float(zeroPoints[c])
                    for i in (c * size)..<((c + 1) * size) { y[i] = (Float(q[i]) - zeroPoint) * scale }
                }
            }
        }
        return result
    }

    /// Bytes on disk: one per code plus four per scale (and per zero point for `.zeroPoint`).
    public var storageByteCount: Int { values.count + 4 * scales.count + (scheme == .zeroPoint ? 4 * zeroPoints.count : 0) }
}

extension Int32 {
    fileprivate func clamped(to range: ClosedRange<Int32>) -> Int32 { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
