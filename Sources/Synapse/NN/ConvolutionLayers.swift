/// A 2-D convolution layer over [N, C, H, W] inputs, as PyTorch's `nn.Conv2d` (same weight layout
/// [out, in/groups, kh, kw], same defaults, same parameter names).
///
/// Weight and bias start from U(−1/√fanIn, 1/√fanIn) with fanIn = in/groups·kh·kw — PyTorch's
/// `kaiming_uniform_(a=√5)` and its bias rule. The forward pass is `Tensor.conv2d` (im2col + sgemm).
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let conv = Conv2d(1, 32, kernelSize: 3, generator: &rng)            // [N, 1, 28, 28] → [N, 32, 26, 26]
/// let same = Conv2d(32, 32, kernelSize: 3, padding: .same, generator: &rng)
/// let depthwise = Conv2d(32, 32, kernelSize: 3, padding: 1, groups: 32, generator: &rng)
/// ```
public final class Conv2d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: ConvPadding
    public let dilation: Size2D
    public let groups: Int
    public var weight: Tensor
    public var bias: Tensor?

    /// A layer with freshly initialised parameters drawn from `generator`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: ConvPadding = 0, dilation: Size2D = 1, groups: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        checkConvolutionArguments("Conv2d", inChannels: inChannels, outChannels: outChannels, groups: groups,
                                  kernel: (kernelSize.height > 0 && kernelSize.width > 0, "\(kernelSize)"),
                                  padding: padding, stride: (stride == 1, "\(stride)"))
        (self.inChannels, self.outChannels, self.groups) = (inChannels, outChannels, groups)
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride, padding, dilation)
        (weight, self.bias) = Tensor.defaultLayerParameters(
            weightShape: [outChannels, inChannels / groups, kernelSize.height, kernelSize.width], bias: bias,
            generator: &generator)
        super.init()
    }

    /// A layer initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                            padding: ConvPadding = 0, dilation: Size2D = 1, groups: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                  dilation: dilation, groups: groups, bias: bias, generator: &generator)
    }

    public override func members() -> ModuleMembers { .weightAndBias(weight, bias) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "Conv2d: expected input [N, \(inChannels), H, W], got \(input.shape)")
        return input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                            groups: groups)
    }
}

/// A 1-D convolution layer over [N, C, L] inputs, as PyTorch's `nn.Conv1d` (weight [out, in/groups, k]).
///
/// Initialised like `Conv2d` (U(−1/√fanIn, 1/√fanIn), fanIn = in/groups·k); runs on the 2-D kernel with H = 1.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let conv = Conv1d(8, 16, kernelSize: 5, padding: 2, generator: &rng)   // [N, 8, L] → [N, 16, L]
/// ```
public final class Conv1d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: ConvPadding
    public let dilation: Int
    public let groups: Int
    public var weight: Tensor
    public var bias: Tensor?

    /// A layer with freshly initialised parameters drawn from `generator`. An integer `padding` pads both ends.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvPadding = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator) {
        checkConvolutionArguments("Conv1d", inChannels: inChannels, outChannels: outChannels, groups: groups,
                                  kernel: (kernelSize > 0, "\(kernelSize)"), padding: padding,
                                  stride: (stride == 1, "\(stride)"))
        (self.inChannels, self.outChannels, self.groups) = (inChannels, outChannels, groups)
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride, padding, dilation)
        (weight, self.bias) = Tensor.defaultLayerParameters(weightShape: [outChannels, inChannels / groups, kernelSize],
                                                            bias: bias, generator: &generator)
        super.init()
    }

    /// A layer initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: ConvPadding = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                  dilation: dilation, groups: groups, bias: bias, generator: &generator)
    }

    public override func members() -> ModuleMembers { .weightAndBias(weight, bias) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3 && input.shape[1] == inChannels,
                     "Conv1d: expected input [N, \(inChannels), L], got \(input.shape)")
        return input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                            groups: groups)
    }
}

/// The argument checks `Conv1d` and `Conv2d` share, each message naming the layer.
private func checkConvolutionArguments(_ layer: String, inChannels: Int, outChannels: Int, groups: Int,
                                       kernel: (positive: Bool, text: String), padding: ConvPadding,
                                       stride: (isOne: Bool, text: String)) {
    precondition(inChannels > 0 && outChannels > 0,
                 "\(layer): channel counts must be positive, got \(inChannels) → \(outChannels)")
    precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                 "\(layer): groups \(groups) must divide in channels \(inChannels) and out channels \(outChannels)")
    precondition(kernel.positive, "\(layer): kernel size \(kernel.text) must be positive")
    precondition(padding != .same || stride.isOne, "\(layer): padding .same needs stride 1, got stride \(stride.text)")
}
