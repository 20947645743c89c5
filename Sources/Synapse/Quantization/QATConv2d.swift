/// A `Conv2d` trained for int8, as `QATLinear` is for `Linear`: the weight is fake-quantized per output channel
/// (absmax), the input per tensor (zero point) from a running min/max kept in the buffers `input_min`/`input_max`, and
/// gradients go straight through. `quantized()` exports a `QuantizedConv2d`. Ungrouped convolutions only.
///
/// ```swift
/// let model = QATLinear.prepare(Sequential(Conv2d(1, 8, kernelSize: 3), ReLU(), Flatten(), Linear(8 * 26 * 26, 10)))
/// // … train …
/// let int8 = QATLinear.convert(model)        // QuantizedConv2d and QuantizedLinear layers
/// ```
public final class QATConv2d: QATLayer {
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: ConvPadding
    public let dilation: Size2D

    /// Wraps a convolution's parameters (shared, not copied).
    public init(_ conv: Conv2d, momentum: Float = 0.01) {
        precondition(conv.groups == 1, "QATConv2d: grouped convolutions (groups \(conv.groups)) are not supported")
        (kernelSize, stride, padding, dilation) = (conv.kernelSize, conv.stride, conv.padding, conv.dilation)
        super.init(weight: conv.weight, bias: conv.bias, momentum: momentum)
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        observedAndFakeQuantized(input).conv2d(weight: fakeQuantizedWeight, bias: bias, stride: stride, padding: padding,
                                               dilation: dilation)
    }

    /// The int8 layer: per-channel absmax weights and the static input quantization learned in training.
    public func quantized() -> QuantizedConv2d {
        QuantizedConv2d(weight: quantizedWeight, bias: bias, kernelSize: kernelSize, stride: stride, padding: padding,
                        dilation: dilation, activations: inputQuantization)
    }

    override func exported(name: String) -> (layer: Module, report: QuantizedModel.LayerReport) {
        let q = quantized()
        return (q, .init(name: name, shape: weight.shape, error: q.weightError(against: weight.detached()),
                         activations: q.activations))
    }
}
