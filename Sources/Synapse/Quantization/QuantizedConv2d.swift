/// A 2-D convolution that runs in integers, like `QuantizedLinear`: the input is lowered to patches (im2col), each
/// patch row is quantized to int8 codes (its own absmax step, or the calibrated static range), multiplied by the
/// int8 weight [out, in·kh·kw] with Int32 accumulation, and each output is rescaled once. Zero padding quantizes to
/// the zero point, so it stays exactly zero.
///
/// Only ungrouped convolutions (`groups == 1`) are quantized; `PostTrainingQuantization` keeps grouped ones in Float32.
///
/// ```swift
/// let q = QuantizedConv2d(conv, scheme: .absmax, granularity: .perChannel)
/// let y = q(images)                 // [N, C, H, W] → [N, out, Ho, Wo], close to conv(images)
/// ```
public final class QuantizedConv2d: Module {
    /// The int8 weight [out, in, kh, kw] with one scale (and zero point) per tensor or per output channel.
    public let weight: QuantizedTensor
    public let bias: Tensor?
    public let activations: ActivationQuantization
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: ConvPadding
    public let dilation: Size2D
    /// The same product over patches: weight viewed as [out, in·kh·kw].
    private let product: QuantizedLinear

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }

    /// A layer from already quantized weights [out, in, kh, kw] and the geometry of the `Conv2d` it replaces.
    public init(weight: QuantizedTensor, bias: Tensor?, kernelSize: Size2D, stride: Size2D = 1, padding: ConvPadding = 0,
                dilation: Size2D = 1, activations: ActivationQuantization = .dynamic) {
        precondition(weight.shape.count == 4 && weight.shape[2] == kernelSize.height && weight.shape[3] == kernelSize.width,
                     "QuantizedConv2d: weight \(weight.shape) does not match kernel \(kernelSize)")
        self.weight = weight
        self.bias = bias?.detached()
        self.activations = activations
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        let (o, k) = (weight.shape[0], weight.shape[1] * weight.shape[2] * weight.shape[3])
        var flat = weight
        flat.shape = [o, k]
        product = QuantizedLinear(weight: flat, bias: bias, activations: activations)
        super.init()
    }

    /// Quantizes a trained, ungrouped `Conv2d`.
    public convenience init(_ conv: Conv2d, scheme: Int8Scheme, granularity: QuantizationGranularity,
                            activations: ActivationQuantization = .dynamic) {
        precondition(conv.groups == 1, "QuantizedConv2d: grouped convolutions (groups \(conv.groups)) are not quantized")
        self.init(weight: QuantizedTensor(conv.weight.detached(), scheme: scheme, granularity: granularity), bias: conv.bias,
                  kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
                  activations: activations)
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(tensors: bias.map { [("bias", $0)] } ?? [])
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "QuantizedConv2d: expected input [N, \(inChannels), H, W], got \(input.shape)")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (kh, kw) = (kernelSize.height, kernelSize.width)
        let (ekh, ekw) = (dilation.height * (kh - 1) + 1, dilation.width * (kw - 1) + 1)
        let pad = padding.resolved(dilatedKernelH: ekh, dilatedKernelW: ekw)
        let (paddedH, paddedW) = (h + pad.top + pad.bottom, w + pad.left + pad.right)
        precondition(paddedH >= ekh && paddedW >= ekw, "QuantizedConv2d: kernel \(kh)×\(kw) is bigger than the padded input \(input.shape)")
        let g = ConvGeometry(batch: n, channels: c, height: h, width: w, kernelH: kh, kernelW: kw,
                             strideH: stride.height, strideW: stride.width, padTop: pad.top, padLeft: pad.left,
                             dilationH: dilation.height, dilationW: dilation.width,
                             outH: (paddedH - ekh) / stride.height + 1, outW: (paddedW - ekw) / stride.width + 1)
        let k = c * kh * kw, plane = g.outPlane, o = outChannels
        var single = g
        single.batch = 1
        var output = Tensor(uninitializedShape: [n, o, g.outH, g.outW])
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                // Images are independent: each core lowers, multiplies and writes back its own share, with every
                // buffer of one image ([k, Ho·Wo] floats) in its L2 cache. (One im2col of the whole batch and two
                // transposes on one core made this layer several times slower than the Float32 convolution.)
                let pointers = UncheckedSendable((source.baseAddress!, destination.baseAddress!))
                Parallel.perCore(n) { _, images in
                    let (x, y) = pointers.value
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(k * plane, 1))
                    defer { columns.deallocate() }
                    // The integer product wants one patch per row, k contiguous: [Ho·Wo, k], reused for every image.
                    var rows = Tensor(uninitializedShape: [plane, k])
                    for image in images {
                        Kernels.im2col(x + image * c * h * w, single, columns, parallel: false)   // [k, Ho·Wo]
                        rows.withUnsafeMutableBufferPointer { Kernels.transpose2D(columns, rows: k, cols: plane, $0.baseAddress!) }
                        let flat = product(rows)                                               // [Ho·Wo, o]
                        flat.withUnsafeBufferPointer {
                            Kernels.transpose2D($0.baseAddress!, rows: plane, cols: o, y + image * o * plane)
                        }
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
