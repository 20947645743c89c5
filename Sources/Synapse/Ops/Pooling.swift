/// Spatial pooling of NCHW tensors with PyTorch's semantics (floor output size; padding at most half the kernel).
/// Max pooling records the index of each window's winner so its backward is a scatter, not a second search.
extension Tensor {
    /// Max over `kernelSize` windows moved by `stride` (defaults to the kernel size) over an [N, C, H, W] input
    /// padded with −∞ by `padding`.
    ///
    /// ```swift
    /// let y = Tensor.randn([8, 16, 28, 28]).maxPool2d(kernelSize: 2)   // [8, 16, 14, 14]
    /// ```
    public func maxPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let g = poolGeometry("maxPool2d", kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding)
        let out = Tensor(uninitializedShape: [g.batch, g.channels, g.outH, g.outW])
        // The winners' Int32 indices live in tensor storage (4 bytes per entry, like a Float) so that they come from
        // the storage pool: as a fresh Swift array per call they were most of a cnn training step's page faults.
        let indices = Tensor(uninitializedShape: [out.count])
        let count = out.count
        indices.storage.pointer.withMemoryRebound(to: Int32.self, capacity: count) {
            Kernels.maxPool(storage.pointer, g, out.storage.pointer, $0)
        }
        let inputShape = shape
        return Tensor.record(out, op: "max_pool2d", inputs: [self]) { grad in
            let dx = Tensor(uninitializedShape: inputShape)
            indices.storage.pointer.withMemoryRebound(to: Int32.self, capacity: count) {
                Kernels.maxPoolBackward(grad.storage.pointer, $0, g, dx.storage.pointer)
            }
            return [dx]
        }
    }

    /// Mean over `kernelSize` windows moved by `stride` (defaults to the kernel size), zero padding by `padding`.
    /// With `countIncludePad` (PyTorch's default) the padded zeros count in the divisor.
    ///
    /// ```swift
    /// let y = Tensor.randn([8, 16, 28, 28]).avgPool2d(kernelSize: 3, stride: 2, padding: 1)  // [8, 16, 14, 14]
    /// ```
    public func avgPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0,
                          countIncludePad: Bool = true) -> Tensor {
        let g = poolGeometry("avgPool2d", kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding)
        let out = Tensor(uninitializedShape: [g.batch, g.channels, g.outH, g.outW])
        Kernels.avgPool(storage.pointer, g, countIncludePad: countIncludePad, out.storage.pointer)
        let inputShape = shape
        return Tensor.record(out, op: "avg_pool2d", inputs: [self]) { grad in
            let dx = Tensor(uninitializedShape: inputShape)
            Kernels.avgPoolBackward(grad.storage.pointer, g, countIncludePad: countIncludePad, dx.storage.pointer)
            return [dx]
        }
    }

    /// Average pooling to a fixed `outputSize` whatever the input's size (PyTorch's `adaptive_avg_pool2d`):
    /// output (i, j) averages rows ⌊i·H/Ho⌋ ..< ⌈(i+1)·H/Ho⌉ and the matching columns.
    ///
    /// ```swift
    /// let y = Tensor.randn([2, 8, 10, 7]).adaptiveAvgPool2d(outputSize: [3, 2])  // [2, 8, 3, 2]
    /// ```
    public func adaptiveAvgPool2d(outputSize: Size2D) -> Tensor {
        precondition(rank == 4, "adaptiveAvgPool2d: input must be [N, C, H, W], got \(shape)")
        precondition(outputSize.height >= 1 && outputSize.width >= 1,
                     "adaptiveAvgPool2d: output size \(outputSize) must be positive (input \(shape))")
        precondition(shape[2] >= 1 && shape[3] >= 1, "adaptiveAvgPool2d: empty spatial input \(shape)")
        let g = ConvGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
                             kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0,
                             dilationH: 1, dilationW: 1, outH: outputSize.height, outW: outputSize.width)
        let out = Tensor(uninitializedShape: [g.batch, g.channels, g.outH, g.outW])
        Kernels.adaptiveAvgPool(storage.pointer, g, out.storage.pointer)
        let inputShape = shape
        return Tensor.record(out, op: "adaptive_avg_pool2d", inputs: [self]) { grad in
            let dx = Tensor(uninitializedShape: inputShape)
            Kernels.adaptiveAvgPoolBackward(grad.storage.pointer, g, dx.storage.pointer)
            return [dx]
        }
    }

    /// The mean of each channel's plane: [N, C, H, W] → [N, C, 1, 1] (`adaptiveAvgPool2d(outputSize: 1)`).
    ///
    /// ```swift
    /// let features = Tensor.randn([8, 64, 7, 7]).globalAvgPool2d().flattened()  // [8, 64]
    /// ```
    public func globalAvgPool2d() -> Tensor { adaptiveAvgPool2d(outputSize: 1) }

    /// Checks a pooling call and computes its output size, stopping with the op and the shapes when it is invalid.
    func poolGeometry(_ op: String, kernelSize: Size2D, stride: Size2D, padding: Size2D) -> ConvGeometry {
        precondition(rank == 4, "\(op): input must be [N, C, H, W], got \(shape)")
        precondition(kernelSize.height >= 1 && kernelSize.width >= 1, "\(op): kernel size \(kernelSize) must be positive")
        precondition(stride.height >= 1 && stride.width >= 1, "\(op): stride \(stride) must be positive")
        precondition(padding.height >= 0 && padding.width >= 0
                        && 2 * padding.height <= kernelSize.height && 2 * padding.width <= kernelSize.width,
                     "\(op): padding \(padding) must be at most half the kernel size \(kernelSize)")
        let (h, w) = (shape[2], shape[3])
        let (paddedH, paddedW) = (h + 2 * padding.height, w + 2 * padding.width)
        precondition(paddedH >= kernelSize.height && paddedW >= kernelSize.width,
                     "\(op): kernel \(kernelSize) is bigger than the padded input \(paddedH)×\(paddedW) (input \(shape))")
        return ConvGeometry(batch: shape[0], channels: shape[1], height: h, width: w,
                            kernelH: kernelSize.height, kernelW: kernelSize.width,
                            strideH: stride.height, strideW: stride.width,
                            padTop: padding.height, padLeft: padding.width, dilationH: 1, dilationW: 1,
                            outH: (paddedH - kernelSize.height) / stride.height + 1,
                            outW: (paddedW - kernelSize.width) / stride.width + 1)
    }
}
