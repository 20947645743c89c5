/// Collects the values a layer sees on calibration batches and picks the range its static int8 input quantization
/// will cover.
///
/// - `minMax`: the extreme values seen; nothing is clipped, but one outlier stretches the step for everything else.
/// - `percentile(p)`: the (100 − p)-th and p-th percentiles (e.g. 99.99), clipping the rare outliers to get a finer
///   step for the bulk of the values.
///
/// ```swift
/// var observer = ActivationObserver(method: .percentile(99.99))
/// for batch in batches { observer.observe(batch) }
/// let (low, high) = observer.range
/// ```
public struct ActivationObserver: Sendable {
    public enum Method: Sendable, Equatable, CustomStringConvertible {
        case minMax
        case percentile(Float)

        public var description: String {
            switch self {
            case .minMax: "min/max"
            case .percentile(let p): "percentile \(p)"
            }
        }
    }

    public let method: Method
    private var minimum = Float.infinity
    private var maximum = -Float.infinity
    /// Every observed value, kept only for percentiles (calibration is a few batches).
    private var samples: [Float] = []

    public init(method: Method = .minMax) {
        if case .percentile(let p) = method {
            precondition(p > 50 && p <= 100, "ActivationObserver: percentile must be in (50, 100], got \(p)")
        }
        self.method = method
    }

    /// Adds a batch.
    public mutating func observe(_ values: Tensor) {
        values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
            let (low, high) = Int8Kernels.range(base, count: buffer.count)
            minimum = Swift.min(minimum, low)
            maximum = Swift.max(maximum, high)
            if case .percentile = method { samples.append(contentsOf: buffer) }
        }
    }

    /// Whether any value was observed.
    public var isEmpty: Bool { minimum > maximum }

    /// The range to quantize: (0, 0) before any observation.
    public var range: (minimum: Float, maximum: Float) {
        guard !isEmpty else { return (0, 0) }
        switch method {
        case .minMax:
            return (minimum, maximum)
        case .percentile(let p):
            let sorted = samples.filter { !$0.isNaN }.sorted()
            guard !sorted.isEmpty else { return (minimum, maximum) }
            let last = sorted.count - 1
            let upper = Int((Float(last) * p / 100).rounded())
            return (sorted[last - upper], sorted[upper])
        }
    }

    /// The static input quantization for this range under `scheme`.
    public func activationQuantization(scheme: Int8Scheme) -> ActivationQuantization {
        let (low, high) = range
        let (scale, zeroPoint) = scheme.parameters(minimum: low, maximum: high)
        return .static(scale: scale, zeroPoint: zeroPoint, scheme: scheme)
    }
}
