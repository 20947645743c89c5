/// A `Conv2d` trained for int8, as `QATLinear` is for `Linear`: the weight is fake-quantized per output channel
/// (absmax), the input per tensor (zero point) from a running min/max kept in the buffers `input_min`/`input_max`, and
/// gradients go straight through. `quantized()` exports a `QuantizedConv2d`. Ungrouped convolutions only.
///
/// ```swift
/// let model = QATLinear.prepare(Sequential(Conv2d(1, 8, kernelSize: 3), ReLU(), Flatten(), Linear(8 * 26 * 26, 10)))
/// // … train …
/// let int8 = QATLinear.convert(model)        // QuantizedConv2d and QuantizedLinear layers
/// ```
public final class QATConv2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public var inputMinimum: Tensor
    public var inputMaximum: Tensor
    public var momentum: Float
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: ConvPadding
    public let dilation: Size2D

    /// Wraps a convolution's parameters (shared, not copied).
    public init(_ conv: Conv2d, momentum: Float = 0.01) {
        precondition(conv.groups == 1, "QATConv2d: grouped convolutions (groups \(conv.groups)) are not supported")
        weight = conv.weight
        bias = conv.bias
        kernelSize = conv.kernelSize
        stride = conv.stride
        padding = conv.padding
        dilation = conv.dilation
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
    public var observedRange: (minimum: Float, maximum: Float)? { QATLinear.range(inputMinimum, inputMaximum) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let x = QATLinear.observeAndFakeQuantize(input, training: isTraining, minimum: inputMinimum, maximum: inputMaximum,
                                                 momentum: momentum)
        return x.conv2d(weight: QATLinear.fakeQuantizedWeight(weight), bias: bias, stride: stride, padding: padding,
                        dilation: dilation)
    }

    /// The int8 layer: per-channel absmax weights and the static input quantization learned in training.
    public func quantized() -> QuantizedConv2d {
        let w = weight.detached()
        let scales = QATLinear.channelScales(of: w)
        return QuantizedConv2d(weight: QuantizedTensor(w, scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count),
                                                       scheme: .absmax),
                               bias: bias, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                               activations: QATLinear.inputQuantization(inputMinimum, inputMaximum))
    }
}
