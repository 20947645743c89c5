/// Max pooling over [N, C, H, W] inputs, as PyTorch's `nn.MaxPool2d` (stride defaults to the kernel size; padding
/// counts as −∞ and may be at most half the kernel). The backward pass routes each gradient to its window's maximum.
///
/// ```swift
/// let pool = MaxPool2d(kernelSize: 2)                          // [N, C, 28, 28] → [N, C, 14, 14]
/// let overlapping = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
/// ```
public final class MaxPool2d: Module {
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Size2D

    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling over [N, C, H, W] inputs, as PyTorch's `nn.AvgPool2d` (stride defaults to the kernel size; with
/// `countIncludePad`, the default, padded zeros count in each window's divisor).
///
/// ```swift
/// let pool = AvgPool2d(kernelSize: 2)                         // [N, C, 28, 28] → [N, C, 14, 14]
/// ```
public final class AvgPool2d: Module {
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Size2D
    public let countIncludePad: Bool

    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludePad = countIncludePad
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }
}

/// Average pooling to a fixed output size whatever the input's, as PyTorch's `nn.AdaptiveAvgPool2d`.
///
/// ```swift
/// let head = Sequential(AdaptiveAvgPool2d(outputSize: 1), Flatten(), Linear(512, 10))
/// ```
public final class AdaptiveAvgPool2d: Module {
    public let outputSize: Size2D

    public init(outputSize: Size2D) {
        precondition(outputSize.height > 0 && outputSize.width > 0,
                     "AdaptiveAvgPool2d: output size \(outputSize) must be positive")
        self.outputSize = outputSize
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor { input.adaptiveAvgPool2d(outputSize: outputSize) }
}

/// The mean of each channel: [N, C, H, W] → [N, C, 1, 1] (PyTorch: `nn.AdaptiveAvgPool2d(1)`).
///
/// ```swift
/// let head = Sequential(GlobalAvgPool2d(), Flatten(), Linear(64, 10))
/// ```
public final class GlobalAvgPool2d: Module {
    public override init() { super.init() }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor { input.globalAvgPool2d() }
}
