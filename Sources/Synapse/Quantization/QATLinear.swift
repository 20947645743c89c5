/// A `Linear` layer trained for int8 (see `QATLayer`: weights fake-quantized per output channel, inputs per tensor
/// from a running range, gradients straight through). `quantized()` exports the int8 layer.
///
/// ```swift
/// let model = QATLinear.prepare(Sequential(Linear(784, 128), ReLU(), Linear(128, 10)))   // train as usual
/// let int8 = QATLinear.convert(model)                                                      // QuantizedLinear layers
/// ```
public final class QATLinear: QATLayer {
    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// Wraps a layer's parameters (shared, not copied: the original `Linear` trains too).
    public init(_ linear: Linear, momentum: Float = 0.01) {
        super.init(weight: linear.weight, bias: linear.bias, momentum: momentum)
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        observedAndFakeQuantized(input).linear(weight: fakeQuantizedWeight, bias: bias)
    }

    /// The int8 layer: per-channel absmax weights and the static input quantization learned in training.
    public func quantized() -> QuantizedLinear {
        QuantizedLinear(weight: quantizedWeight, bias: bias, activations: inputQuantization)
    }

    override func exported(name: String) -> (layer: Module, report: QuantizedModel.LayerReport) {
        let q = quantized()
        return (q, .init(name: name, shape: weight.shape, error: q.weightError(against: weight.detached()),
                         activations: q.activations))
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
            if let qat = layer as? QATLayer {
                let (quantized, report) = qat.exported(name: "\(index)")
                layers.append(quantized)
                reports.append(report)
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
