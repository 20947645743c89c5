/// A `Linear` layer trained for int8: in the forward pass its weight is fake-quantized per output channel (absmax) and
/// its input per tensor (zero point, from a running min/max), so training sees the rounding the int8 layer will do;
/// gradients go straight through (`Tensor.fakeQuantized`). `quantized()` exports the int8 layer.
///
/// The state dict has `weight` and `bias` as in `Linear`, plus the observed input range as buffers `input_min` and
/// `input_max` ([1] each).
///
/// ```swift
/// let model = QATLinear.prepare(Sequential(Linear(784, 128), ReLU(), Linear(128, 10)))   // train as usual
/// let int8 = QATLinear.convert(model)                                                      // QuantizedLinear layers
/// ```
public final class QATLinear: Module {
    public var weight: Tensor
    public var bias: Tensor?
    /// The running input range ([1] each), updated in training mode.
    public var inputMinimum: Tensor
    public var inputMaximum: Tensor
    public var momentum: Float

    public override class var stateKeyOverrides: [String: String] { ["inputMinimum": "input_min", "inputMaximum": "input_max"] }

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// Wraps a layer's parameters (shared, not copied: the original `Linear` trains too).
    public init(_ linear: Linear, momentum: Float = 0.01) {
        weight = linear.weight
        bias = linear.bias
        inputMinimum = Tensor([Float.infinity])
        inputMaximum = Tensor([-Float.infinity])
        self.momentum = momentum
        super.init()
    }

    public override func members() -> ModuleMembers {
        var tensors: [(name: String, tensor: Tensor)] = [("weight", weight)]
        if let bias { tensors.append(("bias", bias)) }
        tensors += [("input_min", inputMinimum), ("input_max", inputMaximum)]
        return ModuleMembers(tensors: tensors)
    }

    /// The observed input range (nil before the first training batch).
    public var observedRange: (minimum: Float, maximum: Float)? { Self.range(inputMinimum, inputMaximum) }

    /// The static input quantization the exported layer will use.
    public var inputQuantization: ActivationQuantization { Self.inputQuantization(inputMinimum, inputMaximum) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let x = Self.observeAndFakeQuantize(input, training: isTraining, minimum: inputMinimum, maximum: inputMaximum,
                                            momentum: momentum)
        return x.linear(weight: Self.fakeQuantizedWeight(weight), bias: bias)
    }

    // MARK: Shared with QATConv2d

    static func range(_ minimum: Tensor, _ maximum: Tensor) -> (minimum: Float, maximum: Float)? {
        let (low, high) = (minimum.scalars[0], maximum.scalars[0])
        return low <= high ? (low, high) : nil
    }

    static func inputQuantization(_ minimum: Tensor, _ maximum: Tensor) -> ActivationQuantization {
        guard let (low, high) = range(minimum, maximum) else { return .dynamic }
        let (scale, zeroPoint) = Int8Scheme.zeroPoint.parameters(minimum: low, maximum: high)
        return .static(scale: scale, zeroPoint: zeroPoint, scheme: .zeroPoint)
    }

    /// Updates the running range in training mode (in place, in the buffers), then fake-quantizes the input with it.
    static func observeAndFakeQuantize(_ input: Tensor, training: Bool, minimum: Tensor, maximum: Tensor,
                                       momentum: Float) -> Tensor {
        if training && input.count > 0 {
            let (low, high) = input.withUnsafeBufferPointer { Int8Kernels.range($0.baseAddress!, count: $0.count) }
            var observer = MovingMinMax(momentum: momentum)
            if let (oldLow, oldHigh) = range(minimum, maximum) { observer.set(minimum: oldLow, maximum: oldHigh) }
            observer.update(minimum: low, maximum: high)
            minimum.withSharedMutableStorage { $0[0] = observer.minimum }
            maximum.withSharedMutableStorage { $0[0] = observer.maximum }
        }
        guard case let .static(scale, zeroPoint, scheme) = inputQuantization(minimum, maximum) else { return input }
        return input.fakeQuantized(scales: [scale], zeroPoints: [zeroPoint], scheme: scheme)
    }

    /// The weight rounded per output channel (rows of axis 0) on the absmax grid, gradient straight through.
    static func fakeQuantizedWeight(_ weight: Tensor) -> Tensor {
        let scales = channelScales(of: weight)
        return weight.fakeQuantized(scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), scheme: .absmax)
    }

    /// The int8 layer: per-channel absmax weights and the static input quantization learned in training.
    public func quantized() -> QuantizedLinear {
        let w = weight.detached()
        return QuantizedLinear(weight: QuantizedTensor(w, scales: Self.channelScales(of: w),
                                                       zeroPoints: [Int32](repeating: 0, count: outputFeatures), scheme: .absmax),
                               bias: bias, activations: inputQuantization)
    }

    static func channelScales(of weight: Tensor) -> [Float] {
        let n = weight.shape[0], k = weight.count / Swift.max(n, 1)
        return weight.withUnsafeBufferPointer { w in
            (0..<n).map { o in
                let (low, high) = Int8Kernels.range(w.baseAddress! + o * k, count: k)
                return Int8Scheme.absmax.parameters(minimum: low, maximum: high).scale
            }
        }
    }

    // MARK: Whole models

    /// The same network with every `Linear` replaced by a `QATLinear` and every ungrouped `Conv2d` by a `QATConv2d`,
    /// sharing their parameters.
    public static func prepare(_ model: Sequential) -> Sequential {
        Sequential(model.layers.map { layer in
            if let linear = layer as? Linear { return QATLinear(linear) }
            if let conv = layer as? Conv2d, conv.groups == 1 { return QATConv2d(conv) }
            return layer
        })
    }

    /// The int8 network: every `QATLinear` and `QATConv2d` replaced by its `quantized()` layer, in evaluation mode.
    public static func convert(_ model: Sequential) -> Sequential {
        export(model).model
    }

    /// The int8 network with its weight errors, ready for `ClassifierFile.save(_:architecture:dataset:to:)`.
    /// Layers that never saw a training batch have no input range and quantize their inputs dynamically.
    public static func export(_ model: Sequential) -> QuantizedModel {
        var reports: [QuantizedModel.LayerReport] = []
        var layers: [Module] = []
        for (index, layer) in model.layers.enumerated() {
            if let qat = layer as? QATLinear {
                let quantized = qat.quantized()
                layers.append(quantized)
                reports.append(.init(name: "\(index)", shape: qat.weight.shape, error: quantized.weightError(against: qat.weight.detached()),
                                     activations: quantized.activations))
            } else if let qat = layer as? QATConv2d {
                let quantized = qat.quantized()
                layers.append(quantized)
                reports.append(.init(name: "\(index)", shape: qat.weight.shape, error: quantized.weightError(against: qat.weight.detached()),
                                     activations: quantized.activations))
            } else {
                layers.append(layer)
            }
        }
        let allStatic = reports.allSatisfy { $0.activations != .dynamic }
        if !allStatic {
            // One file-wide activation mode: fall back to dynamic everywhere.
            layers = layers.map { layer in
                if let q = layer as? QuantizedLinear { return QuantizedLinear(weight: q.weight, bias: q.bias, activations: .dynamic) }
                if let q = layer as? QuantizedConv2d {
                    return QuantizedConv2d(weight: q.weight, bias: q.bias, kernelSize: q.kernelSize, stride: q.stride,
                                           padding: q.padding, dilation: q.dilation, activations: .dynamic)
                }
                return layer
            }
            for i in reports.indices { reports[i].activations = .dynamic }
        }
        return QuantizedModel(model: Sequential(layers).eval(), method: .int8Absmax, granularity: .perChannel,
                              activations: allStatic ? "static-zeropoint" : "dynamic", layers: reports)
    }
}
