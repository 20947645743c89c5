/// Nearest-neighbour upsampling of [N, C, H, W] by an integer factor, as PyTorch's `nn.Upsample(scale_factor: s)`:
/// every pixel becomes an s×s block. Followed by a convolution it is the decoder half of a convolutional autoencoder
/// (and avoids the checkerboard artefacts of transposed convolutions).
///
/// Built from differentiable ops: a broadcast against ones, so the gradient of each block sums back to its pixel.
///
/// ```swift
/// let decoder = Sequential(Upsample(scale: 2), Conv2d(8, 16, kernelSize: 3, padding: 1, generator: &rng), ReLU())
/// Upsample(scale: 2)(Tensor.zeros([1, 8, 7, 7])).shape     // [1, 8, 14, 14]
/// ```
public final class Upsample: Module {
    public let scale: Int

    public init(scale: Int) {
        precondition(scale >= 1, "Upsample: scale must be at least 1, got \(scale)")
        self.scale = scale
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "Upsample: expected [N, C, H, W], got \(input.shape)")
        guard scale > 1 else { return input }
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let blocks = input.reshaped([n, c, h, 1, w, 1]) * Tensor.ones([1, 1, 1, scale, 1, scale])
        return blocks.reshaped([n, c, h * scale, w * scale])
    }
}

/// Splits the last dimension into `shape`, as PyTorch's `nn.Unflatten(1, shape)`: [N, 784] → [N, 1, 28, 28].
///
/// ```swift
/// let encoder = Sequential(Unflatten([1, 28, 28]), Conv2d(1, 16, kernelSize: 3, padding: 1, generator: &rng))
/// ```
public final class Unflatten: Module {
    public let shape: [Int]

    public init(_ shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "Unflatten: invalid shape \(shape)")
        self.shape = shape
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 1 && input.shape[input.rank - 1] == shape.reduce(1, *),
                     "Unflatten: last dimension of \(input.shape) does not hold \(shape)")
        return input.reshaped(Array(input.shape.dropLast()) + shape)
    }
}
