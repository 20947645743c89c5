/// Fake quantization for quantization-aware training: the forward pass rounds values to the int8 grid and back, so
/// the network trains against the error it will have in int8; the backward pass is the straight-through estimator.
extension Tensor {
    /// `(clamp(round(x / scale) + zeroPoint) − zeroPoint) × scale`, with one (scale, zero point) for the whole tensor or
    /// one per row (axis 0, for per-channel weights).
    ///
    /// Rounding has zero derivative almost everywhere, which would stop learning, so the gradient passes straight
    /// through (∂y/∂x = 1) wherever x lies inside the representable range and is 0 where it was clipped (PyTorch's
    /// `fake_quantize_per_tensor_affine`). The scales are constants of the step, not learned.
    ///
    /// ```swift
    /// let w = weight.fakeQuantized(scales: [0.01], zeroPoints: [0], scheme: .absmax)
    /// ```
    public func fakeQuantized(scales: [Float], zeroPoints: [Int32], scheme: Int8Scheme) -> Tensor {
        precondition(scales.count == zeroPoints.count && (scales.count == 1 || scales.count == (shape.first ?? 1)),
                     "fakeQuantized: \(scales.count) scales and \(zeroPoints.count) zero points for shape \(shape)")
        let channels = scales.count, size = count / Swift.max(channels, 1)
        let out = Tensor(uninitializedShape: shape)
        // 1 where x was inside the range (gradient passes), 0 where it was clipped.
        let mask = Tensor(uninitializedShape: shape)
        let (x, y, m) = (storage.pointer, out.storage.pointer, mask.storage.pointer)
        let range = scheme.codeRange
        for c in 0..<channels {
            let scale = scales[c], zeroPoint = Float(zeroPoints[c])
            let inverse = 1 / scale
            let low = Float(range.lowerBound), high = Float(range.upperBound)
            let base = c * size
            for i in base..<(base + size) {
                let v = x[i] * inverse + zeroPoint
                let inside = v >= low - 0.5 && v <= high + 0.5
                var clamped = v > low ? v : low
                clamped = clamped < high ? clamped : high
                let rounded = (clamped + Int8Kernels.roundingMagic) - Int8Kernels.roundingMagic
                y[i] = (rounded - zeroPoint) * scale
                m[i] = inside ? 1 : 0
            }
        }
        return Tensor.record(out, op: "fakeQuantize", inputs: [self]) { g in [g * mask] }
    }
}

/// The running range of a layer's input during quantization-aware training, as PyTorch's
/// `MovingAverageMinMaxObserver`: the first batch sets it, later batches move it by `momentum` toward their own range.
///
/// ```swift
/// var observer = MovingMinMax(momentum: 0.01)
/// observer.update(minimum: -1, maximum: 3)
/// observer.range          // (-1, 3)
/// ```
public struct MovingMinMax: Sendable, Equatable {
    public var momentum: Float
    public private(set) var minimum = Float.infinity
    public private(set) var maximum = -Float.infinity

    public init(momentum: Float = 0.01) {
        precondition(momentum > 0 && momentum <= 1, "MovingMinMax: momentum must be in (0, 1], got \(momentum)")
        self.momentum = momentum
    }

    /// Whether any batch was seen.
    public var isInitialized: Bool { minimum <= maximum }

    public mutating func update(minimum low: Float, maximum high: Float) {
        if isInitialized {
            minimum += momentum * (low - minimum)
            maximum += momentum * (high - maximum)
        } else {
            (minimum, maximum) = (low, high)
        }
    }

    /// Restores a saved state (e.g. from a state dict).
    public mutating func set(minimum: Float, maximum: Float) { (self.minimum, self.maximum) = (minimum, maximum) }
}
