/// Convolutions (PyTorch's `conv2d`/`conv1d`: NCHW input, weight [out, in/groups, kh, kw]) lowered to BLAS.
///
/// Forward: im2col of a chunk of images into a [C·kh·kw, n·Ho·Wo] matrix of about 1 MiB (so it is still in cache when
/// the sgemm reads it, and memory stays bounded for big images or batches), one sgemm per group, then the rows are put
/// back in NCHW order with the bias added on the way. Backward, per chunk, with G' the output gradient in the product's
/// row order: ∂L/∂W += G'·colᵀ (the chunk's columns recomputed), ∂L/∂col = Wᵀ·G' scattered back by col2im,
/// ∂L/∂b += Σ G'. A 1×1, stride-1, unpadded, ungrouped convolution is a plain product per image and needs no columns.

/// Two sizes, one per spatial dimension (height, width). Write `3` for 3×3 or `[3, 5]`.
///
/// ```swift
/// let y = x.conv2d(weight: w, stride: 2, padding: 1)
/// let z = x.maxPool2d(kernelSize: [2, 3])
/// ```
public struct Size2D: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(integerLiteral value: Int) { self.init(value, value) }

    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Size2D: expected [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    public var description: String { "(\(height), \(width))" }
}

/// Zero padding of a convolution's input.
///
/// An integer pads every side by that much (`padding: 1`); `[h, w]` or `.symmetric(h, w)` pads top/bottom by h and
/// left/right by w (PyTorch's `padding=(h, w)`); `.explicit` gives each side; `.same` keeps the output size equal to the input's (stride 1 only, as in
/// PyTorch; an odd total goes to the bottom/right).
public enum ConvPadding: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    case same

    /// No padding (PyTorch's `padding="valid"`).
    public static let valid = ConvPadding.explicit(top: 0, bottom: 0, left: 0, right: 0)

    /// `h` rows above and below, `w` columns left and right (PyTorch's `padding=(h, w)`).
    public static func symmetric(_ h: Int, _ w: Int) -> ConvPadding { .explicit(top: h, bottom: h, left: w, right: w) }

    public init(integerLiteral value: Int) { self = .symmetric(value, value) }

    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "ConvPadding: expected [height, width], got \(elements)")
        self = .symmetric(elements[0], elements[1])
    }

    /// (top, bottom, left, right) for a kernel of extent `dilatedKernel` (dilation·(k − 1) + 1 per dimension).
    func resolved(dilatedKernelH: Int, dilatedKernelW: Int) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case let .explicit(top, bottom, left, right): return (top, bottom, left, right)
        case .same:
            let (th, tw) = (dilatedKernelH - 1, dilatedKernelW - 1)
            return (th / 2, th - th / 2, tw / 2, tw - tw / 2)
        }
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as in PyTorch) of an [N, C, H, W] input with a weight of shape
    /// [O, C/groups, kh, kw] and an optional bias [O]; returns [N, O, Ho, Wo] with
    /// Ho = ⌊(H + padTop + padBottom − dilation·(kh − 1) − 1) / stride⌋ + 1 (likewise Wo).
    ///
    /// ```swift
    /// let x = Tensor.randn([8, 3, 32, 32])
    /// let w = Tensor.randn([16, 3, 3, 3]).requiringGrad()
    /// let y = x.conv2d(weight: w, padding: 1)          // [8, 16, 32, 32]
    /// let d = x.conv2d(weight: Tensor.randn([3, 1, 3, 3]), padding: .same, groups: 3)  // depthwise
    /// ```
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1, padding: ConvPadding = 0,
                       dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        precondition(rank == 4, "conv2d: input must be [N, C, H, W], got \(shape)")
        precondition(weight.rank == 4, "conv2d: weight must be [out, in/groups, kh, kw], got \(weight.shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (o, cPerGroup, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        precondition(groups >= 1 && c % groups == 0 && o % groups == 0,
                     "conv2d: groups \(groups) must divide input channels \(c) and output channels \(o) (input \(shape), weight \(weight.shape))")
        precondition(cPerGroup * groups == c,
                     "conv2d: input \(shape) has \(c) channels but weight \(weight.shape) expects \(cPerGroup * groups) (\(cPerGroup) per group × \(groups) groups)")
        precondition(stride.height >= 1 && stride.width >= 1, "conv2d: stride must be positive, got \(stride)")
        precondition(dilation.height >= 1 && dilation.width >= 1, "conv2d: dilation must be positive, got \(dilation)")
        precondition(kh >= 1 && kw >= 1, "conv2d: empty kernel in weight \(weight.shape)")
        if let bias { precondition(bias.shape == [o], "conv2d: bias of shape \(bias.shape) for weight \(weight.shape)") }
        if padding == .same {
            precondition(stride == 1, "conv2d: padding .same needs stride 1 (as in PyTorch), got stride \(stride)")
        }
        let (ekh, ekw) = (dilation.height * (kh - 1) + 1, dilation.width * (kw - 1) + 1)
        let pad = padding.resolved(dilatedKernelH: ekh, dilatedKernelW: ekw)
        precondition(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0,
                     "conv2d: negative padding \(padding)")
        let (paddedH, paddedW) = (h + pad.top + pad.bottom, w + pad.left + pad.right)
        precondition(paddedH >= ekh && paddedW >= ekw,
                     "conv2d: kernel \(kh)×\(kw) (dilated \(ekh)×\(ekw)) is bigger than the padded input \(paddedH)×\(paddedW) (input \(shape), weight \(weight.shape))")
        let geometry = ConvGeometry(
            batch: n, channels: c, height: h, width: w, kernelH: kh, kernelW: kw,
            strideH: stride.height, strideW: stride.width, padTop: pad.top, padLeft: pad.left,
            dilationH: dilation.height, dilationW: dilation.width,
            outH: (paddedH - ekh) / stride.height + 1, outW: (paddedW - ekw) / stride.width + 1)
        if groups == 1 && kh == 1 && kw == 1 && geometry.strideH == 1 && geometry.strideW == 1
            && pad == (0, 0, 0, 0) {
            return Tensor.pointwiseConv2d(self, weight: weight, bias: bias, geometry)
        }
        if Tensor.prefersImageParallelConvolution(geometry) {
            return Tensor.imageParallelConv2d(self, weight: weight, bias: bias, geometry, groups: groups)
        }
        return Tensor.loweredConv2d(self, weight: weight, bias: bias, geometry, groups: groups)
    }

    /// 1-D convolution of an [N, C, L] input with a weight [O, C/groups, k]: the 2-D kernel with H = 1.
    ///
    /// ```swift
    /// let y = Tensor.randn([4, 2, 50]).conv1d(weight: Tensor.randn([6, 2, 5]), stride: 2, padding: 2)  // [4, 6, 25]
    /// ```
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: ConvPadding = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        precondition(rank == 3, "conv1d: input must be [N, C, L], got \(shape)")
        precondition(weight.rank == 3, "conv1d: weight must be [out, in/groups, k], got \(weight.shape)")
        // Checked here too so that messages name conv1d and the 3-D shapes the caller passed.
        let (c, o, k) = (shape[1], weight.shape[0], weight.shape[2])
        precondition(groups >= 1 && c % groups == 0 && o % groups == 0,
                     "conv1d: groups \(groups) must divide input channels \(c) and output channels \(o) (input \(shape), weight \(weight.shape))")
        precondition(weight.shape[1] * groups == c,
                     "conv1d: input \(shape) has \(c) channels but weight \(weight.shape) expects \(weight.shape[1] * groups) (\(weight.shape[1]) per group × \(groups) groups)")
        if case let .explicit(_, _, left, right) = padding {
            let span = dilation * (k - 1) + 1
            precondition(shape[2] + left + right >= span,
                         "conv1d: kernel \(k) (dilated \(span)) is longer than the padded input \(shape[2] + left + right) (input \(shape), weight \(weight.shape))")
        }
        // Only the left/right padding applies to a sequence; the height of the lifted input stays 1.
        let lifted: ConvPadding
        switch padding {
        case .same: lifted = .same
        case let .explicit(_, _, left, right): lifted = .explicit(top: 0, bottom: 0, left: left, right: right)
        }
        let y = unsqueezed(axis: 2).conv2d(weight: weight.unsqueezed(axis: 2), bias: bias, stride: Size2D(1, stride),
                                           padding: lifted, dilation: Size2D(1, dilation), groups: groups)
        return y.squeezed(axis: 2)
    }

    /// Floats of column matrix per chunk of images: about 1 MiB, so the columns stay in cache between im2col and
    /// the sgemm that reads them.
    static let columnBudget = 1 << 18

    /// Largest column matrix (in floats, 64 MiB) kept from forward to backward rather than recomputed.
    static let savedColumnsLimit = 1 << 24

    /// The general path, a chunk of images at a time: im2col into a cache-sized buffer, one sgemm per group, NCHW
    /// reorder with the bias. When the weight needs a gradient, the columns of all chunks are kept for the backward if
    /// they fit in `savedColumnsLimit` floats, and recomputed chunk by chunk otherwise.
    static func loweredConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry, groups: Int,
                              savedColumnsLimit: Int = savedColumnsLimit) -> Tensor {
        let plan = LoweringPlan(g, outChannels: weight.shape[0], groups: groups)
        let keepColumns = weight.requiresGrad && GradMode.isEnabled && plan.rows * plan.plane * g.batch <= savedColumnsLimit
        let columns = Tensor(uninitializedShape: [plan.rows * (keepColumns ? g.batch : plan.chunk) * plan.plane])
        let out = loweredForward(x, weight: weight, bias: bias, plan, columns: columns, keepColumns: keepColumns)
        let (input, w) = (x.detached(), weight.detached())
        let wants = (input: x.requiresGrad, weight: weight.requiresGrad, bias: bias?.requiresGrad ?? false)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let hasBias = bias != nil
        let savedColumns: Tensor? = keepColumns ? columns : nil
        return Tensor.record(out, op: "conv2d", inputs: inputs) { grad in
            let grads = loweredBackward(grad, input: input, weight: w, plan, savedColumns: savedColumns,
                                        needsInput: wants.input, needsWeight: wants.weight, needsBias: wants.bias)
            return hasBias ? [grads.input, grads.weight, grads.bias] : [grads.input, grads.weight]
        }
    }

    /// The sizes of a lowered convolution: per group, out[O/groups, L] = W[O/groups, rows/groups] · col[rows/groups, L]
    /// for the L = images·Ho·Wo positions of a chunk of images.
    struct LoweringPlan {
        let geometry: ConvGeometry
        let outChannels: Int, groups: Int
        /// C·kh·kw: rows of the column matrix.
        let rows: Int
        let outPerGroup: Int, rowsPerGroup: Int
        /// Output positions per image, input floats per image.
        let plane: Int, inImage: Int
        /// Images per chunk, so a chunk's columns fit `columnBudget`.
        let chunk: Int

        init(_ g: ConvGeometry, outChannels: Int, groups: Int) {
            (geometry, self.outChannels, self.groups) = (g, outChannels, groups)
            rows = g.channels * g.kernelArea
            (outPerGroup, rowsPerGroup) = (outChannels / groups, rows / groups)
            (plane, inImage) = (g.outPlane, g.channels * g.inPlane)
            chunk = Swift.max(1, Swift.min(g.batch, columnBudget / Swift.max(rows * plane, 1)))
        }

        /// (first image, geometry of the chunk) for each chunk of the batch.
        var chunks: [(start: Int, geometry: ConvGeometry)] {
            stride(from: 0, to: geometry.batch, by: chunk).map { start in
                var g = geometry
                g.batch = Swift.min(chunk, geometry.batch - start)
                return (start, g)
            }
        }

        /// sgemm cannot spread a [O/groups, rows/groups] weight gradient with a long inner dimension over the
        /// cores; small ones are computed as dot products straight from the NCHW gradient instead.
        var weightGradientByDots: Bool { outPerGroup * rowsPerGroup <= 1024 }
    }

    /// im2col of each chunk (into `columns` at the chunk's offset when they are kept), the grouped products, and the
    /// reorder to NCHW with the bias.
    private static func loweredForward(_ x: Tensor, weight: Tensor, bias: Tensor?, _ plan: LoweringPlan,
                                       columns: Tensor, keepColumns: Bool) -> Tensor {
        let g = plan.geometry, o = plan.outChannels
        let product = Tensor(uninitializedShape: [o * plan.chunk * plan.plane])
        let out = Tensor(uninitializedShape: [g.batch, o, g.outH, g.outW])
        let (input, w, cols, products) = (x.storage.pointer, weight.storage.pointer, columns.storage.pointer,
                                          product.storage.pointer)
        for (start, cg) in plan.chunks {
            let width = cg.columns
            // Kept columns: chunk after chunk, each its own [rows, images·L] matrix.
            let chunkColumns = keepColumns ? cols + start * plan.rows * plan.plane : cols
            Kernels.im2col(input + start * plan.inImage, cg, chunkColumns)
            for group in 0..<plan.groups {
                Kernels.gemm(transposeA: false, transposeB: false, m: plan.outPerGroup, n: width, k: plan.rowsPerGroup,
                             w + group * plan.outPerGroup * plan.rowsPerGroup,
                             chunkColumns + group * plan.rowsPerGroup * width, products + group * plan.outPerGroup * width)
            }
            Kernels.channelsFirstToBatchFirst(products, batch: cg.batch, channels: o, plane: plan.plane,
                                              bias: bias?.storage.pointer, out.storage.pointer + start * o * plan.plane)
        }
        return out
    }

    /// Chunk by chunk: columns recomputed unless saved, ∂L/∂W = G·colᵀ, ∂L/∂b = Σ G, ∂L/∂col = Wᵀ·G through col2im.
    private static func loweredBackward(_ grad: Tensor, input x: Tensor, weight w: Tensor, _ plan: LoweringPlan,
                                        savedColumns: Tensor?, needsInput: Bool, needsWeight: Bool,
                                        needsBias: Bool) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        let (o, rows, plane, chunk) = (plan.outChannels, plan.rows, plan.plane, plan.chunk)
        let (outPerGroup, rowsPerGroup) = (plan.outPerGroup, plan.rowsPerGroup)
        let gradT = Tensor(uninitializedShape: [o * chunk * plane])
        let col = savedColumns ?? Tensor(uninitializedShape: [rows * chunk * plane])
        let gradColumns: Tensor? = needsInput ? Tensor(uninitializedShape: [rows * chunk * plane]) : nil
        let gradWeight: Tensor? = needsWeight ? Tensor(uninitializedShape: w.shape) : nil
        let gradBias: Tensor? = needsBias ? Tensor.zeros([o]) : nil
        let gradInput: Tensor? = needsInput ? Tensor(uninitializedShape: x.shape) : nil
        let chunkSums: Tensor? = needsBias ? Tensor(uninitializedShape: [o]) : nil
        let (upstream, transposed, cols, weights) = (grad.storage.pointer, gradT.storage.pointer, col.storage.pointer,
                                                     w.storage.pointer)
        for (start, cg) in plan.chunks {
            let width = cg.columns
            let chunkGrad = upstream + start * o * plane
            let chunkColumns = savedColumns == nil ? cols : cols + start * rows * plane
            if gradWeight != nil && savedColumns == nil { Kernels.im2col(x.storage.pointer + start * plan.inImage, cg, cols) }
            if plan.weightGradientByDots {
                Kernels.convWeightGradientByDots(
                    grad: chunkGrad, col: chunkColumns, images: cg.batch, outChannels: o, groups: plan.groups,
                    rowsPerGroup: rowsPerGroup, plane: plane, accumulate: start > 0,
                    weightGrad: gradWeight?.storage.pointer, biasGrad: gradBias?.storage.pointer)
                if gradInput == nil { continue }
            }
            Kernels.batchFirstToChannelsFirst(chunkGrad, batch: cg.batch, channels: o, plane: plane, transposed)
            if let gradWeight, !plan.weightGradientByDots {
                for group in 0..<plan.groups {
                    Kernels.gemm(transposeA: false, transposeB: true, m: outPerGroup, n: rowsPerGroup, k: width,
                                 transposed + group * outPerGroup * width, chunkColumns + group * rowsPerGroup * width,
                                 beta: start == 0 ? 0 : 1, gradWeight.storage.pointer + group * outPerGroup * rowsPerGroup)
                }
            }
            if let gradBias, let chunkSums, !plan.weightGradientByDots {
                Kernels.sum(transposed, outer: o, axis: width, inner: 1, chunkSums.storage.pointer)
                for k in 0..<o { gradBias.storage.pointer[k] += chunkSums.storage.pointer[k] }
            }
            if let gradInput, let gradColumns {
                for group in 0..<plan.groups {
                    Kernels.gemm(transposeA: true, transposeB: false, m: rowsPerGroup, n: width, k: outPerGroup,
                                 weights + group * outPerGroup * rowsPerGroup, transposed + group * outPerGroup * width,
                                 gradColumns.storage.pointer + group * rowsPerGroup * width)
                }
                Kernels.col2im(gradColumns.storage.pointer, cg, gradInput.storage.pointer + start * plan.inImage)
            }
        }
        return (gradInput, gradWeight, gradBias)
    }

    /// A 1×1 stride-1 unpadded convolution: per image, out[O, HW] = W[O, C] · x[C, HW]; no column matrix.
    static func pointwiseConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvGeometry) -> Tensor {
        let (o, c, plane) = (weight.shape[0], g.channels, g.inPlane)
        let out = Tensor(uninitializedShape: [g.batch, o, g.height, g.width])
        let (input, weights, output) = (x.storage.pointer, weight.storage.pointer, out.storage.pointer)
        if let bp = bias?.storage.pointer {
            for unit in 0..<(g.batch * o) { (output + unit * plane).update(repeating: bp[unit % o], count: plane) }
        }
        for image in 0..<g.batch {
            Kernels.gemm(transposeA: false, transposeB: false, m: o, n: plane, k: c, weights, input + image * c * plane,
                         beta: bias == nil ? 0 : 1, output + image * o * plane)
        }
        let (xd, w) = (x.detached(), weight.detached())
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let hasBias = bias != nil
        return Tensor.record(out, op: "conv2d", inputs: inputs) { grad in
            let gp = grad.storage.pointer
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needX {
                let t = Tensor(uninitializedShape: xd.shape)
                for image in 0..<g.batch {
                    Kernels.gemm(transposeA: true, transposeB: false, m: c, n: plane, k: o, w.storage.pointer,
                                 gp + image * o * plane, t.storage.pointer + image * c * plane)
                }
                gx = t
            }
            if needW {
                let t = Tensor(uninitializedShape: w.shape)
                for image in 0..<g.batch {
                    Kernels.gemm(transposeA: false, transposeB: true, m: o, n: c, k: plane, gp + image * o * plane,
                                 xd.storage.pointer + image * c * plane, beta: image == 0 ? 0 : 1, t.storage.pointer)
                }
                gw = t
            }
            if needB { gb = grad.reshaped([g.batch, o, plane]).sum(axes: [0, 2]) }
            return hasBias ? [gx, gw, gb] : [gx, gw]
        }
    }

    /// [rows] sums of a contiguous [rows, length] matrix (no graph).
    static func rowSums(_ m: Tensor, rows: Int, length: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [rows])
        Kernels.sum(m.storage.pointer, outer: rows, axis: length, inner: 1, out.storage.pointer)
        return out
    }
}
