import CSynapseKernels

/// Layout kernels that lower a 2-D convolution to one matrix product (im2col) and scatter the product's gradient
/// back onto the input (col2im).
///
/// The column matrix holds a batch (or a chunk of one): [C·kh·kw, N·Ho·Wo], row (c, ki, kj), column (n, oh, ow).
/// With that layout a convolution is one sgemm per group however small the images are, and the rows of one group are
/// contiguous, so grouped and depthwise convolutions are a loop of sgemms over row blocks.
struct ConvGeometry: Sendable, Equatable {
    var batch: Int, channels: Int, height: Int, width: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var dilationH: Int, dilationW: Int
    var outH: Int, outW: Int

    var inPlane: Int { height * width }
    var outPlane: Int { outH * outW }
    var kernelArea: Int { kernelH * kernelW }
    /// Columns of the batched column matrix: N·Ho·Wo.
    var columns: Int { batch * outPlane }

    /// The output positions `o` whose input coordinate o·stride + offset lands inside [0, extent).
    @inline(__always)
    static func validRange(offset: Int, stride: Int, extent: Int, outCount: Int) -> Range<Int> {
        // o·stride + offset ≥ 0  ⇔  o ≥ ⌈−offset / stride⌉
        let lower = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        // o·stride + offset < extent  ⇔  o < ⌈(extent − offset) / stride⌉
        let limit = extent - offset
        let upper = limit <= 0 ? 0 : (limit + stride - 1) / stride
        let lo = Swift.min(lower, outCount), hi = Swift.min(upper, outCount)
        return lo..<Swift.max(lo, hi)
    }

    @inline(__always) func validRows(ki: Int) -> Range<Int> {
        Self.validRange(offset: ki * dilationH - padTop, stride: strideH, extent: height, outCount: outH)
    }

    @inline(__always) func validColumns(kj: Int) -> Range<Int> {
        Self.validRange(offset: kj * dilationW - padLeft, stride: strideW, extent: width, outCount: outW)
    }
}

extension Kernels {
    /// Parallel threshold for loops over units of `work` elements each: split when the whole loop is large.
    @inline(__always)
    static func unitThreshold(work: Int) -> Int {
        Swift.max(2, Parallel.elementwiseThreshold / Swift.max(work, 1))
    }

    /// Whether the AVX-512 plane kernels (`synapse_im2col_plane_avx512`, `synapse_col2im_plane_avx512`) take this
    /// geometry: stride 1 and dilation 1, where every column row is a shifted run of an input row.
    static func usesAVX512PlaneKernels(_ g: ConvGeometry, allowAVX512: Bool) -> Bool {
        allowAVX512 && CPUFeatures.avx512 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
    }

    /// x [N, C, H, W] → col [C·kh·kw, N·Ho·Wo] (padding reads as zero). Parallel over (image, channel) planes,
    /// which write disjoint blocks of the column matrix, unless `parallel` is false (the caller already is).
    /// The loops below are the portable path and the reference of the AVX-512 plane kernel (`allowAVX512: false`
    /// runs them anywhere).
    static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>,
                       parallel: Bool = true, allowAVX512: Bool = true) {
        let ld = g.columns
        let units = g.batch * g.channels
        let threshold = parallel ? unitThreshold(work: g.kernelArea * g.outPlane) : Int.max
        let vectorised = usesAVX512PlaneKernels(g, allowAVX512: allowAVX512)
        Parallel.forRanges(units, threshold: threshold) { range in
            for unit in range {
                let (n, c) = (unit / g.channels, unit % g.channels)
                let src = x + unit * g.inPlane
                if vectorised {
                    synapse_im2col_plane_avx512(src, g.height, g.width, g.kernelH, g.kernelW, g.padTop, g.padLeft,
                                                g.outH, g.outW, col + c * g.kernelArea * ld + n * g.outPlane, ld)
                    continue
                }
                for ki in 0..<g.kernelH {
                    let rows = g.validRows(ki: ki)
                    let rowOffset = ki * g.dilationH - g.padTop
                    for kj in 0..<g.kernelW {
                        let cols = g.validColumns(kj: kj)
                        let colOffset = kj * g.dilationW - g.padLeft
                        let dst = col + ((c * g.kernelH + ki) * g.kernelW + kj) * ld + n * g.outPlane
                        if rows.lowerBound > 0 { dst.update(repeating: 0, count: rows.lowerBound * g.outW) }
                        if rows.upperBound < g.outH {
                            (dst + rows.upperBound * g.outW).update(repeating: 0, count: (g.outH - rows.upperBound) * g.outW)
                        }
                        for oh in rows {
                            let d = dst + oh * g.outW
                            let ih = oh * g.strideH + rowOffset
                            // Input row pointer shifted so that s[ow·stride] is x[ih, ow·stride + colOffset];
                            // only in-range positions are read.
                            let rowStart = src + ih * g.width
                            // Plain loops, not memset/memmove: rows are short (often < 32 floats) and a library
                            // call per row costs more than the copy.
                            for ow in 0..<cols.lowerBound { d[ow] = 0 }
                            for ow in cols.upperBound..<g.outW { d[ow] = 0 }
                            if cols.isEmpty { continue }
                            if g.strideW == 1 {
                                let shifted = rowStart + colOffset
                                for ow in cols { d[ow] = shifted[ow] }
                            } else {
                                let sw = g.strideW
                                for ow in cols { d[ow] = rowStart[ow * sw + colOffset] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: dx [N, C, H, W] = Σ over kernel taps of the column gradient (overwrites dx).
    /// Parallel over (image, channel) planes; each plane is accumulated by one thread. The AVX-512 plane kernel adds
    /// in the same order as these loops, so both paths give the same bits.
    static func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>,
                       parallel: Bool = true, allowAVX512: Bool = true) {
        let ld = g.columns
        let units = g.batch * g.channels
        let threshold = parallel ? unitThreshold(work: g.kernelArea * g.outPlane) : Int.max
        let vectorised = usesAVX512PlaneKernels(g, allowAVX512: allowAVX512)
        Parallel.forRanges(units, threshold: threshold) { range in
            for unit in range {
                let (n, c) = (unit / g.channels, unit % g.channels)
                let plane = dx + unit * g.inPlane
                if vectorised {
                    synapse_col2im_plane_avx512(col + c * g.kernelArea * ld + n * g.outPlane, ld, g.height, g.width,
                                                g.kernelH, g.kernelW, g.padTop, g.padLeft, g.outH, g.outW, plane)
                    continue
                }
                plane.update(repeating: 0, count: g.inPlane)
                for ki in 0..<g.kernelH {
                    let rows = g.validRows(ki: ki)
                    let rowOffset = ki * g.dilationH - g.padTop
                    for kj in 0..<g.kernelW {
                        let cols = g.validColumns(kj: kj)
                        if cols.isEmpty { continue }
                        let colOffset = kj * g.dilationW - g.padLeft
                        let src = col + ((c * g.kernelH + ki) * g.kernelW + kj) * ld + n * g.outPlane
                        for oh in rows {
                            let s = src + oh * g.outW
                            let rowStart = plane + (oh * g.strideH + rowOffset) * g.width + colOffset
                            if g.strideW == 1 {
                                for ow in cols { rowStart[ow] += s[ow] }
                            } else {
                                let sw = g.strideW
                                for ow in cols { rowStart[ow * sw] += s[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// out [N, O, L] = src [O, N, L] (+ bias[o]): the batched product's rows back into NCHW order.
    static func channelsFirstToBatchFirst(_ src: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                                          bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch * channels, threshold: unitThreshold(work: plane)) { range in
            for unit in range {
                let (n, o) = (unit / channels, unit % channels)
                let s = src + (o * batch + n) * plane
                let d = out + unit * plane
                if let bias {
                    let b = bias[o]
                    for i in 0..<plane { d[i] = s[i] + b }
                } else {
                    d.update(from: s, count: plane)
                }
            }
        }
    }

    /// out [O, N, L] = src [N, O, L]: an NCHW gradient in the batched product's row order.
    static func batchFirstToChannelsFirst(_ src: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                                          _ out: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch * channels, threshold: unitThreshold(work: plane)) { range in
            for unit in range {
                let (n, o) = (unit / channels, unit % channels)
                (out + (o * batch + n) * plane).update(from: src + unit * plane, count: plane)
            }
        }
    }
}
