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
public final class Conv2d: ConvolutionLayer {
    public let kernelSize: Size2D
    public let stride: Size2D
    public let dilation: Size2D

    /// A layer with freshly initialised parameters drawn from `generator`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: ConvPadding = 0, dilation: Size2D = 1, groups: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        precondition(kernelSize.height > 0 && kernelSize.width > 0, "Conv2d: kernel size \(kernelSize) must be positive")
        precondition(padding != .same || stride == 1, "Conv2d: padding .same needs stride 1, got stride \(stride)")
        (self.kernelSize, self.stride, self.dilation) = (kernelSize, stride, dilation)
        super.init("Conv2d", inChannels, outChannels, kernel: [kernelSize.height, kernelSize.width], padding: padding,
                   groups: groups, bias: bias, generator: &generator)
    }

    /// A layer initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                            padding: ConvPadding = 0, dilation: Size2D = 1, groups: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                  dilation: dilation, groups: groups, bias: bias, generator: &generator)
    }

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
public final class Conv1d: ConvolutionLayer {
    public let kernelSize: Int
    public let stride: Int
    public let dilation: Int

    /// A layer with freshly initialised parameters drawn from `generator`. An integer `padding` pads both ends.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: ConvPadding = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(kernelSize > 0, "Conv1d: kernel size \(kernelSize) must be positive")
        precondition(padding != .same || stride == 1, "Conv1d: padding .same needs stride 1, got stride \(stride)")
        (self.kernelSize, self.stride, self.dilation) = (kernelSize, stride, dilation)
        super.init("Conv1d", inChannels, outChannels, kernel: [kernelSize], padding: padding, groups: groups, bias: bias,
                   generator: &generator)
    }

    /// A layer initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: ConvPadding = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                  dilation: dilation, groups: groups, bias: bias, generator: &generator)
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3 && input.shape[1] == inChannels,
                     "Conv1d: expected input [N, \(inChannels), L], got \(input.shape)")
        return input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                            groups: groups)
    }
}

/// What `Conv1d` and `Conv2d` share: channels, groups, padding, and a weight [out, in/groups, kernel…] with a bias,
/// both drawn from U(−1/√fanIn, 1/√fanIn) (PyTorch's `kaiming_uniform_(a=√5)` and its bias rule).
public class ConvolutionLayer: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let padding: ConvPadding
    public let groups: Int
    public var weight: Tensor
    public var bias: Tensor?

    init(_ layer: String, _ inChannels: Int, _ outChannels: Int, kernel: [Int], padding: ConvPadding, groups: Int,
         bias: Bool, generator: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0,
                     "\(layer): channel counts must be positive, got \(inChannels) → \(outChannels)")
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "\(layer): groups \(groups) must divide in channels \(inChannels) and out channels \(outChannels)")
        (self.inChannels, self.outChannels, self.padding, self.groups) = (inChannels, outChannels, padding, groups)
        (weight, self.bias) = Tensor.defaultLayerParameters(weightShape: [outChannels, inChannels / groups] + kernel,
                                                            bias: bias, generator: &generator)
        super.init()
    }

    public override func members() -> ModuleMembers { .weightAndBias(weight, bias) }
}
