/// The storage formats `synapse quantize` produces, named as in the file metadata (`synapse.quantization`).
///
/// ```swift
/// QuantizationMethod(rawValue: "int8-absmax")     // .int8Absmax
/// QuantizationMethod.bf16.storageDType            // .bf16
/// ```
public enum QuantizationMethod: String, CaseIterable, Sendable, CustomStringConvertible {
    /// IEEE half precision (1-5-10 bits): fine steps, small range (±65504).
    case fp16
    /// bfloat16 (1-8-7): Float32's range, coarse steps.
    case bf16
    /// int8, symmetric (scale = max|w| / 127).
    case int8Absmax = "int8-absmax"
    /// int8, asymmetric (scale = (max − min) / 255 and a zero point).
    case int8ZeroPoint = "int8-zeropoint"

    public var description: String { rawValue }

    /// The int8 scheme, nil for the 16-bit float formats.
    public var int8Scheme: Int8Scheme? {
        switch self {
        case .fp16, .bf16: nil
        case .int8Absmax: .absmax
        case .int8ZeroPoint: .zeroPoint
        }
    }

    /// The dtype weights are stored in.
    public var storageDType: SafeTensorsDType {
        switch self {
        case .fp16: .f16
        case .bf16: .bf16
        case .int8Absmax, .int8ZeroPoint: .i8
        }
    }
}

/// Post-training quantization of a trained `Sequential`: every `Linear` becomes a `QuantizedLinear` and every ungrouped
/// `Conv2d` a `QuantizedConv2d` (int8), or they keep Float32 arithmetic with weights rounded to FP16/BF16; other
/// layers (normalization, pooling, activations) are unchanged.
///
/// Activations are quantized per row at run time (`dynamic`) unless calibration inputs are given: then the model runs
/// on them in Float32, an `ActivationObserver` records each Linear layer's input, and the layer gets a fixed
/// (`static`) input range with the weights' scheme.
///
/// ```swift
/// let ptq = PostTrainingQuantization(method: .int8Absmax, granularity: .perChannel)
/// let result = ptq.quantize(model)                               // dynamic activations
/// let calibrated = ptq.quantize(model, calibration: batches, observer: .percentile(99.99))
/// try result.save(to: url, architecture: .mlp, dataset: .digits)
/// ```
public struct PostTrainingQuantization: Sendable {
    public var method: QuantizationMethod
    public var granularity: QuantizationGranularity

    public init(method: QuantizationMethod, granularity: QuantizationGranularity = .perChannel) {
        self.method = method
        self.granularity = granularity
    }

    /// Whether `layer` is replaced: every `Linear`, and `Conv2d` without groups.
    static func isQuantizable(_ layer: Module) -> Bool {
        if layer is Linear { return true }
        if let conv = layer as? Conv2d { return conv.groups == 1 }
        return false
    }

    /// Quantizes `model` (left untouched). `calibration` batches (inputs only) switch int8 layers to static
    /// activation quantization.
    public func quantize(_ model: Sequential, calibration: [Tensor] = [],
                         observer method: ActivationObserver.Method = .minMax) -> QuantizedModel {
        model.eval()
        var observers: [Int: ActivationObserver] = [:]
        if self.method.int8Scheme != nil && !calibration.isEmpty {
            noGrad {
                for batch in calibration {
                    var x = batch
                    for (index, layer) in model.layers.enumerated() {
                        if Self.isQuantizable(layer) { observers[index, default: ActivationObserver(method: method)].observe(x) }
                        x = layer(x)
                    }
                }
            }
        }
        var layers: [Module] = []
        var reports: [QuantizedModel.LayerReport] = []
        for (index, layer) in model.layers.enumerated() {
            if let conv = layer as? Conv2d, Self.isQuantizable(conv) {
                let original = conv.weight.detached()
                if let scheme = self.method.int8Scheme {
                    let activations = observers[index]?.activationQuantization(scheme: scheme) ?? .dynamic
                    let quantized = QuantizedConv2d(conv, scheme: scheme, granularity: granularity, activations: activations)
                    layers.append(quantized)
                    reports.append(.init(name: "\(index)", shape: original.shape, error: quantized.weightError(against: original),
                                         activations: activations))
                } else {
                    var rng = RandomGenerator(seed: 0)
                    let copy = Conv2d(conv.inChannels, conv.outChannels, kernelSize: conv.kernelSize, stride: conv.stride,
                                      padding: conv.padding, dilation: conv.dilation, bias: conv.bias != nil, generator: &rng)
                    let rounded = conv.stateDict().mapValues { SafeTensorsFile.Entry($0.detached(), dtype: self.method.storageDType).floatTensor() }
                    try! copy.load(stateDict: rounded)   // same architecture by construction
                    layers.append(copy)
                    reports.append(.init(name: "\(index)", shape: original.shape,
                                         error: QuantizationError(original: original, reconstructed: copy.weight.detached()), activations: nil))
                }
                continue
            }
            guard let linear = layer as? Linear else {
                layers.append(layer)
                continue
            }
            let original = linear.weight.detached()
            if let scheme = self.method.int8Scheme {
                let activations = observers[index]?.activationQuantization(scheme: scheme) ?? .dynamic
                let quantized = QuantizedLinear(linear, scheme: scheme, granularity: granularity, activations: activations)
                layers.append(quantized)
                reports.append(.init(name: "\(index)", shape: original.shape, error: quantized.weightError(against: original),
                                     activations: activations))
            } else {
                let dtype = self.method.storageDType
                let rounded = SafeTensorsFile.Entry(original, dtype: dtype).floatTensor()
                // The bias is stored in the same dtype, so round it too: the model in memory is the one in the file.
                layers.append(Linear(weight: rounded, bias: linear.bias.map { SafeTensorsFile.Entry($0.detached(), dtype: dtype).floatTensor() }))
                reports.append(.init(name: "\(index)", shape: original.shape,
                                     error: QuantizationError(original: original, reconstructed: rounded), activations: nil))
            }
        }
        let activations: String
        if self.method.int8Scheme == nil {
            activations = "float32"
        } else if calibration.isEmpty {
            activations = "dynamic"
        } else {
            activations = "static-" + (self.method.int8Scheme ?? .absmax).rawValue
        }
        return QuantizedModel(model: Sequential(layers).eval(), method: self.method,
                              granularity: self.method.int8Scheme == nil ? nil : granularity,
                              activations: activations, layers: reports)
    }
}

/// A quantized network with what was done to it, ready to evaluate or save.
public struct QuantizedModel {
    /// The error one layer's weights picked up.
    public struct LayerReport: Sendable {
        public var name: String
        public var shape: [Int]
        public var error: QuantizationError
        /// The layer's input quantization (nil for FP16/BF16, which compute in Float32).
        public var activations: ActivationQuantization?
    }

    /// `Linear` layers replaced by `QuantizedLinear` (int8) or by `Linear` with half-precision-rounded weights.
    public var model: Sequential
    public var method: QuantizationMethod
    /// nil for FP16/BF16.
    public var granularity: QuantizationGranularity?
    /// `float32`, `dynamic`, `static-absmax` or `static-zeropoint` (the file's `synapse.quantization.activations`).
    public var activations: String
    public var layers: [LayerReport]

    public init(model: Sequential, method: QuantizationMethod, granularity: QuantizationGranularity?,
                activations: String, layers: [LayerReport]) {
        self.model = model
        self.method = method
        self.granularity = granularity
        self.activations = activations
        self.layers = layers
    }

    /// The safetensors file this model is stored as (see `QuantizedModelFile`).
    public func file(metadata: [String: String] = [:]) -> SafeTensorsFile {
        QuantizedModelFile.file(for: self, metadata: metadata)
    }
}
