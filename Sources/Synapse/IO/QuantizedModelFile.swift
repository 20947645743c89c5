/// The on-disk form of a quantized `Sequential`: a safetensors file with PyTorch's keys plus a few extra tensors.
///
/// Metadata:
/// - `synapse.quantization`: `fp16`, `bf16`, `int8-absmax` or `int8-zeropoint` (the weights' format);
/// - `synapse.quantization.granularity`: `per-tensor` or `per-channel` (int8 only);
/// - `synapse.quantization.activations`: `float32` (FP16/BF16), `dynamic`, `static-absmax` or `static-zeropoint`.
///
/// Tensors, for the Linear or Conv2d layer at index `i` (a Conv2d weight is [out, in, kh, kw]):
/// - FP16/BF16: `i.weight` and `i.bias` as F16/BF16 (PyTorch loads them as they are);
/// - int8: `i.weight` as I8 [out, in]; `i.weight.scale` F32 ([1] or [out]); `i.weight.zero_point` I32 (same shape,
///   int8-zeropoint only); `i.bias` F32; with static activations, `i.input.scale` F32 [1] and `i.input.zero_point`
///   I32 [1]. A weight is `(i.weight − i.weight.zero_point) × i.weight.scale`.
///
/// ```swift
/// let file = QuantizedModelFile.file(for: quantized, metadata: ["synapse.architecture": "mlp"])
/// let model = try QuantizedModelFile.model(from: file, template: MNISTArchitecture.mlp.makeModel(generator: &rng))
/// ```
public enum QuantizedModelFile {
    public static let methodKey = "synapse.quantization"
    public static let granularityKey = "synapse.quantization.granularity"
    public static let activationsKey = "synapse.quantization.activations"

    /// Why a quantized file cannot be rebuilt.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case unknownValue(file: String, key: String, value: String, known: [String])
        case badShape(file: String, tensor: String, shape: [Int], expected: String)

        public var description: String {
            switch self {
            case let .unknownValue(file, key, value, known):
                return "\(file): metadata '\(key)' is '\(value)' (known: \(known.joined(separator: ", "))); was it written by a newer Synapse?"
            case let .badShape(file, tensor, shape, expected):
                return "\(file): tensor '\(tensor)' has shape \(shape), expected \(expected); the file is damaged or not from `synapse quantize`"
            }
        }
    }

    /// Encodes a quantized model; `metadata` is added to the quantization keys.
    public static func file(for quantized: QuantizedModel, metadata: [String: String] = [:]) -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: metadata)
        file.metadata[methodKey] = quantized.method.rawValue
        file.metadata[activationsKey] = quantized.activations
        if let granularity = quantized.granularity { file.metadata[granularityKey] = granularity.rawValue }
        for (index, layer) in quantized.model.layers.enumerated() {
            let prefix = "\(index)."
            if layer is Linear || layer is Conv2d {
                for (key, tensor) in layer.orderedStateDict() {
                    file.setTensor(tensor.detached(), named: prefix + key, dtype: quantized.method.storageDType)
                }
            } else if let (w, bias, activations) = int8Parts(of: layer) {
                file.tensors[prefix + "weight"] = .init(shape: w.shape, values: w.values)
                file.tensors[prefix + "weight.scale"] = .init(shape: [w.scales.count], values: w.scales)
                if w.scheme == .zeroPoint {
                    file.tensors[prefix + "weight.zero_point"] = .init(shape: [w.zeroPoints.count], values: w.zeroPoints)
                }
                if let bias { file.setTensor(bias, named: prefix + "bias") }
                if case let .static(scale, zeroPoint, _) = activations {
                    file.tensors[prefix + "input.scale"] = .init(shape: [1], values: [scale])
                    file.tensors[prefix + "input.zero_point"] = .init(shape: [1], values: [zeroPoint])
                }
            } else {
                for (key, tensor) in layer.orderedStateDict() { file.setTensor(tensor.detached(), named: prefix + key) }
            }
        }
        return file
    }

    private static func int8Parts(of layer: Module) -> (QuantizedTensor, Tensor?, ActivationQuantization)? {
        if let linear = layer as? QuantizedLinear { return (linear.weight, linear.bias, linear.activations) }
        if let conv = layer as? QuantizedConv2d { return (conv.weight, conv.bias, conv.activations) }
        return nil
    }

    /// Whether the file holds int8 layers (FP16/BF16 files load like Float32 ones).
    public static func isInt8(_ file: SafeTensorsFile) -> Bool {
        file.metadata[methodKey].flatMap(QuantizationMethod.init(rawValue:))?.int8Scheme != nil
    }

    /// Rebuilds an int8 model: `template` is the Float32 architecture; each of its `Linear` layers is replaced by a
    /// `QuantizedLinear` and each ungrouped `Conv2d` by a `QuantizedConv2d` read from the file; other layers load their
    /// state as usual.
    public static func model(from file: SafeTensorsFile, template: Sequential) throws -> Sequential {
        let name = file.sourceName
        try ModelFile.requireFinite(file, name: name)
        let methodName = file.metadata[methodKey] ?? ""
        guard let method = QuantizationMethod(rawValue: methodName), let scheme = method.int8Scheme else {
            throw Error.unknownValue(file: name, key: methodKey, value: methodName,
                                     known: QuantizationMethod.allCases.filter { $0.int8Scheme != nil }.map(\.rawValue))
        }
        let activationName = file.metadata[activationsKey] ?? "dynamic"
        let activationScheme: Int8Scheme?
        switch activationName {
        case "dynamic": activationScheme = nil
        case "static-absmax": activationScheme = .absmax
        case "static-zeropoint": activationScheme = .zeroPoint
        default:
            throw Error.unknownValue(file: name, key: activationsKey, value: activationName,
                                     known: ["dynamic", "static-absmax", "static-zeropoint"])
        }
        var layers: [Module] = []
        for (index, layer) in template.layers.enumerated() {
            let prefix = "\(index)."
            let conv = (layer as? Conv2d).flatMap { $0.groups == 1 ? $0 : nil }
            guard layer is Linear || conv != nil, let templateWeight = layer.members().tensors.first(where: { $0.name == "weight" })?.tensor else {
                let own = Dictionary(uniqueKeysWithValues: layer.orderedStateDict().map { ($0.key, try? file.floatTensor(prefix + $0.key)) })
                    .compactMapValues { $0 }
                do {
                    try layer.load(stateDict: own)
                } catch var error {
                    error.file = name
                    throw error
                }
                layers.append(layer)
                continue
            }
            let weightShape = templateWeight.shape, n = weightShape[0]
            let hasBias = layer.members().tensors.contains { $0.name == "bias" }
            let weightName = prefix + "weight"
            guard let entry = file.tensors[weightName] else { throw SafeTensorsError.tensorNotFound(file: name, tensor: weightName) }
            guard entry.shape == weightShape else { throw Error.badShape(file: name, tensor: weightName, shape: entry.shape, expected: "\(weightShape)") }
            let codes = try file.values(weightName, as: Int8.self)
            let scales = try file.values(prefix + "weight.scale", as: Float.self)
            guard scales.count == 1 || scales.count == n, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw Error.badShape(file: name, tensor: prefix + "weight.scale", shape: [scales.count], expected: "[1] or [\(n)] positive scales")
            }
            var zeroPoints = [Int32](repeating: 0, count: scales.count)
            if scheme == .zeroPoint {
                zeroPoints = try file.values(prefix + "weight.zero_point", as: Int32.self)
                guard zeroPoints.count == scales.count, zeroPoints.allSatisfy({ scheme.codeRange.contains($0) }) else {
                    throw Error.badShape(file: name, tensor: prefix + "weight.zero_point", shape: [zeroPoints.count],
                                         expected: "[\(scales.count)] values in -128...127")
                }
            }
            var bias: Tensor?
            if hasBias {
                let b = try file.floatTensor(prefix + "bias")
                guard b.shape == [n] else { throw Error.badShape(file: name, tensor: prefix + "bias", shape: b.shape, expected: "[\(n)]") }
                bias = b
            }
            var activations = ActivationQuantization.dynamic
            if let activationScheme {
                let scale = try file.values(prefix + "input.scale", as: Float.self)
                let zeroPoint = try file.values(prefix + "input.zero_point", as: Int32.self)
                guard scale.count == 1, scale[0] > 0, scale[0].isFinite, zeroPoint.count == 1,
                      activationScheme.codeRange.contains(zeroPoint[0]) else {
                    throw Error.badShape(file: name, tensor: prefix + "input.scale", shape: [scale.count],
                                         expected: "[1] positive scale and a [1] zero point in range")
                }
                activations = .static(scale: scale[0], zeroPoint: zeroPoint[0], scheme: activationScheme)
            }
            let weight = QuantizedTensor(shape: weightShape, values: codes, scales: scales, zeroPoints: zeroPoints, scheme: scheme)
            if let conv {
                layers.append(QuantizedConv2d(weight: weight, bias: bias, kernelSize: conv.kernelSize, stride: conv.stride,
                                              padding: conv.padding, dilation: conv.dilation, activations: activations))
            } else {
                layers.append(QuantizedLinear(weight: weight, bias: bias, activations: activations))
            }
        }
        return Sequential(layers).eval()
    }
}
