/// How a quantized layer turns its Float32 input into int8 codes.
///
/// - `dynamic`: each input row gets its own absmax step at run time (nothing to calibrate; a pass over the row).
/// - `static`: one (scale, zero point) fixed ahead of time from calibration data (`ActivationObserver`) or from
///   quantization-aware training; values outside the calibrated range are clipped.
///
/// ```swift
/// let layer = QuantizedLinear(linear, scheme: .absmax, granularity: .perChannel,
///                             activations: .static(scale: 0.02, zeroPoint: -128, scheme: .zeroPoint))
/// ```
public enum ActivationQuantization: Sendable, Equatable {
    case dynamic
    case `static`(scale: Float, zeroPoint: Int32, scheme: Int8Scheme)
}

/// A fully connected layer that runs in integers: y = x·Wᵀ + b with W stored as int8 codes and the input quantized
/// to int8 codes, multiplied with Int32 accumulation, and each output rescaled once to Float32
/// (`Int8Kernels.rescale`). The weights are never expanded back to a Float32 matrix.
///
/// Inference only (no gradients); build it from a trained `Linear` or from a quantized classifier file.
///
/// ```swift
/// let q = QuantizedLinear(trained, scheme: .absmax, granularity: .perChannel)
/// let y = q(x)                         // [N, in] → [N, out], close to trained(x)
/// q.weightError(against: trained.weight)  // how much the weights moved
/// ```
public final class QuantizedLinear: Module {
    /// The int8 weight [out, in] with its scales and zero points.
    public let weight: QuantizedTensor
    /// Float32 bias [out] (it is added after rescaling, so it keeps full precision; it is tiny).
    public let bias: Tensor?
    public let activations: ActivationQuantization
    /// Σ_k q[o, k] per output, precomputed for the activation zero-point correction.
    private let weightSums: [Int32]
    /// The weight packed for the AVX-512 VNNI kernel, when the CPU has it (`Int8VNNI`).
    private let packedWeight: [Int8]?

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// A layer from already quantized weights (e.g. read from a file).
    public init(weight: QuantizedTensor, bias: Tensor?, activations: ActivationQuantization = .dynamic) {
        precondition(weight.shape.count == 2, "QuantizedLinear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "QuantizedLinear: bias \(bias.shape) for weight \(weight.shape)") }
        precondition(weight.shape[1] < 131_072, "QuantizedLinear: \(weight.shape[1]) inputs could overflow Int32 accumulators")
        self.weight = weight
        self.bias = bias?.detached()
        self.activations = activations
        let (n, k) = (weight.shape[0], weight.shape[1])
        weightSums = (0..<n).map { o in weight.values[(o * k)..<((o + 1) * k)].reduce(Int32(0)) { $0 &+ Int32($1) } }
        packedWeight = Int8VNNI.pack(weight.values, n: n, k: k)
        super.init()
    }

    /// Quantizes a trained layer's weights.
    public convenience init(_ linear: Linear, scheme: Int8Scheme, granularity: QuantizationGranularity,
                            activations: ActivationQuantization = .dynamic) {
        self.init(weight: QuantizedTensor(linear.weight.detached(), scheme: scheme, granularity: granularity),
                  bias: linear.bias, activations: activations)
    }

    /// The bias is the only Float tensor; it shows up as a buffer (the int8 weight is not a `Tensor`).
    public override func members() -> ModuleMembers {
        ModuleMembers(tensors: bias.map { [("bias", $0)] } ?? [])
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let (n, k) = (outputFeatures, inputFeatures)
        precondition(input.rank >= 1 && input.shape[input.rank - 1] == k,
                     "QuantizedLinear: input of shape \(input.shape) does not end in \(k) features")
        let rows = input.count / Swift.max(k, 1)
        var output = Tensor(uninitializedShape: Array(input.shape.dropLast()) + [n])
        let fixed: (scale: Float, zeroPoint: Int32, scheme: Int8Scheme)?
        switch activations {
        case .dynamic: fixed = nil
        case let .static(scale, zeroPoint, scheme): fixed = (scale, zeroPoint, scheme)
        }
        let accumulators = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(rows * n, 1))
        let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(rows, 1))
        let rowZeroPoints = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(rows, 1))
        let rowSums = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(rows, 1))
        defer { accumulators.deallocate(); rowScales.deallocate(); rowZeroPoints.deallocate(); rowSums.deallocate() }
        input.withUnsafeBufferPointer { x in
            guard let x = x.baseAddress, rows > 0 else { return }
            if let packedWeight {
                packedWeight.withUnsafeBufferPointer { w in
                    Int8VNNI.product(x, rows: rows, k: k, fixed: fixed, packed: w.baseAddress!, n: n, into: accumulators,
                                     scales: rowScales, zeroPoints: rowZeroPoints, sums: rowSums)
                }
                return
            }
            let codes = UnsafeMutablePointer<Int16>.allocate(capacity: rows * k)
            defer { codes.deallocate() }
            Int8Kernels.quantizeRows(x, rows: rows, k: k, fixed: fixed, codes: codes, scales: rowScales,
                                     zeroPoints: rowZeroPoints, sums: rowSums)
            weight.values.withUnsafeBufferPointer { w in
                Int8Kernels.gemm(codes, rows: rows, w.baseAddress!, n: n, k: k, into: accumulators)
            }
        }
        output.withUnsafeMutableBufferPointer { y in
            guard let y = y.baseAddress, rows > 0 else { return }
            weight.scales.withUnsafeBufferPointer { scales in
                weight.zeroPoints.withUnsafeBufferPointer { zeroPoints in
                    weightSums.withUnsafeBufferPointer { sums in
                        let rescale = { (bias: UnsafePointer<Float>?) in
                            Int8Kernels.rescale(accumulators, rows: rows, n: n, k: k, rowScales: rowScales,
                                                rowZeroPoints: rowZeroPoints, rowSums: rowSums,
                                                weightScales: scales.baseAddress!, weightScaleCount: scales.count,
                                                weightZeroPoints: zeroPoints.baseAddress!, weightSums: sums.baseAddress!,
                                                bias: bias, into: y)
                        }
                        if let bias { bias.withUnsafeBufferPointer { rescale($0.baseAddress) } } else { rescale(nil) }
                    }
                }
            }
        }
        return output
    }

    /// The weights' round-trip error against the Float32 weights they came from.
    public func weightError(against original: Tensor) -> QuantizationError {
        QuantizationError(original: original, reconstructed: weight.dequantized())
    }
}
