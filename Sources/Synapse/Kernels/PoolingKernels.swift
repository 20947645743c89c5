import CSynapseKernels

/// Pooling over the spatial planes of NCHW tensors. Every kernel runs over (image, channel) planes in parallel: each
/// plane is read and written by one thread only, so overlapping windows need no synchronisation.
///
/// Windows follow PyTorch: window (oh, ow) starts at (oh·stride − pad, ow·stride − pad), and is clipped to the input.
extension Kernels {
    /// Window bounds along one dimension, clipped to [0, extent); `padded` is the bound clipped to the padded input.
    @inline(__always)
    static func poolWindow(_ o: Int, stride: Int, pad: Int, kernel: Int, extent: Int) -> (start: Int, end: Int, padded: Int) {
        let start = o * stride - pad
        let paddedEnd = Swift.min(start + kernel, extent + pad)
        return (Swift.max(start, 0), Swift.min(start + kernel, extent), paddedEnd - start)
    }

    /// Max over each window, with the flat in-plane index of the winner (NaN wins, as in PyTorch).
    static func maxPool(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ out: UnsafeMutablePointer<Float>,
                        _ indices: UnsafeMutablePointer<Int32>) {
        let planes = g.batch * g.channels
        if g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padTop == 0 && g.padLeft == 0 {
            maxPool2x2(x, g, out, indices)
            return
        }
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let src = x + plane * g.inPlane
                let dst = out + plane * g.outPlane
                let idx = indices + plane * g.outPlane
                for oh in 0..<g.outH {
                    let rows = poolWindow(oh, stride: g.strideH, pad: g.padTop, kernel: g.kernelH, extent: g.height)
                    for ow in 0..<g.outW {
                        let cols = poolWindow(ow, stride: g.strideW, pad: g.padLeft, kernel: g.kernelW, extent: g.width)
                        var best = -Float.infinity
                        var bestIndex = rows.start * g.width + cols.start
                        for ih in rows.start..<rows.end {
                            let row = src + ih * g.width
                            for iw in cols.start..<cols.end {
                                let v = row[iw]
                                if v > best || v.isNaN {
                                    best = v
                                    bestIndex = ih * g.width + iw
                                }
                            }
                        }
                        dst[oh * g.outW + ow] = best
                        idx[oh * g.outW + ow] = Int32(truncatingIfNeeded: bestIndex)
                    }
                }
            }
        }
    }

    /// The common 2×2, stride-2, unpadded case with the window unrolled (same results as the general loop). On
    /// AVX-512, `synapse_maxpool2x2_avx512` does 16 windows at a time with these selects; this loop is its
    /// reference and the portable path (`allowAVX512: false`).
    static func maxPool2x2(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ out: UnsafeMutablePointer<Float>,
                           _ indices: UnsafeMutablePointer<Int32>, allowAVX512: Bool = true) {
        let (width, outH, outW) = (g.width, g.outH, g.outW)
        let vectorised = allowAVX512 && CPUFeatures.avx512
        Parallel.forRanges(g.batch * g.channels, threshold: unitThreshold(work: g.inPlane)) { range in
            if vectorised {
                synapse_maxpool2x2_avx512(x + range.lowerBound * g.inPlane, range.count, width, g.inPlane, outH, outW,
                                          g.outPlane, out + range.lowerBound * g.outPlane,
                                          indices + range.lowerBound * g.outPlane)
                return
            }
            for plane in range {
                let src = x + plane * g.inPlane
                for oh in 0..<outH {
                    let top = src + 2 * oh * width, bottom = top + width
                    let dst = out + plane * g.outPlane + oh * outW
                    let idx = indices + plane * g.outPlane + oh * outW
                    let rowBase = 2 * oh * width
                    for ow in 0..<outW {
                        let i = 2 * ow
                        let a = top[i], b = top[i + 1], c = bottom[i], d = bottom[i + 1]
                        var best: Float, bestIndex: Int
                        if (a + b + c + d).isNaN {
                            // Rare: NaN (or ∞ − ∞) in the window; follow PyTorch's rule exactly.
                            best = a; bestIndex = i
                            if b > best || b.isNaN { best = b; bestIndex = i + 1 }
                            if c > best || c.isNaN { best = c; bestIndex = width + i }
                            if d > best || d.isNaN { best = d; bestIndex = width + i + 1 }
                        } else {
                            // Selects rather than branches: on real data the winner is unpredictable, and
                            // mispredicted branches cost more than the whole window.
                            let rightTop = b > a, rightBottom = d > c
                            let topBest = rightTop ? b : a, bottomBest = rightBottom ? d : c
                            let topIndex = rightTop ? i &+ 1 : i
                            let bottomIndex = rightBottom ? width &+ i &+ 1 : width &+ i
                            let lower = bottomBest > topBest  // strict: the earlier element wins ties
                            best = lower ? bottomBest : topBest
                            bestIndex = lower ? bottomIndex : topIndex
                        }
                        dst[ow] = best
                        idx[ow] = Int32(truncatingIfNeeded: rowBase + bestIndex)
                    }
                }
            }
        }
    }

    /// dx = 0, then dx[plane, index] += g for every output: the max-pool gradient goes to the recorded winners.
    static func maxPoolBackward(_ grad: UnsafePointer<Float>, _ indices: UnsafePointer<Int32>, _ g: ConvGeometry,
                                _ dx: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.channels
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let d = dx + plane * g.inPlane
                d.update(repeating: 0, count: g.inPlane)
                let s = grad + plane * g.outPlane
                let idx = indices + plane * g.outPlane
                for i in 0..<g.outPlane { d[Int(idx[i])] += s[i] }
            }
        }
    }

    /// Mean over each window; the divisor counts padded positions when `countIncludePad` (PyTorch's default).
    static func avgPool(_ x: UnsafePointer<Float>, _ g: ConvGeometry, countIncludePad: Bool,
                        _ out: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.channels
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let src = x + plane * g.inPlane
                let dst = out + plane * g.outPlane
                for oh in 0..<g.outH {
                    let rows = poolWindow(oh, stride: g.strideH, pad: g.padTop, kernel: g.kernelH, extent: g.height)
                    for ow in 0..<g.outW {
                        let cols = poolWindow(ow, stride: g.strideW, pad: g.padLeft, kernel: g.kernelW, extent: g.width)
                        var total: Float = 0
                        for ih in rows.start..<rows.end {
                            let row = src + ih * g.width
                            for iw in cols.start..<cols.end { total += row[iw] }
                        }
                        let divisor = countIncludePad ? rows.padded * cols.padded
                                                      : (rows.end - rows.start) * (cols.end - cols.start)
                        dst[oh * g.outW + ow] = total / Float(Swift.max(divisor, 1))
                    }
                }
            }
        }
    }

    /// The adjoint of `avgPool`: each output's gradient spread evenly over the in-range part of its window.
    static func avgPoolBackward(_ grad: UnsafePointer<Float>, _ g: ConvGeometry, countIncludePad: Bool,
                                _ dx: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.channels
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let d = dx + plane * g.inPlane
                d.update(repeating: 0, count: g.inPlane)
                let s = grad + plane * g.outPlane
                for oh in 0..<g.outH {
                    let rows = poolWindow(oh, stride: g.strideH, pad: g.padTop, kernel: g.kernelH, extent: g.height)
                    for ow in 0..<g.outW {
                        let cols = poolWindow(ow, stride: g.strideW, pad: g.padLeft, kernel: g.kernelW, extent: g.width)
                        let divisor = countIncludePad ? rows.padded * cols.padded
                                                      : (rows.end - rows.start) * (cols.end - cols.start)
                        let share = s[oh * g.outW + ow] / Float(Swift.max(divisor, 1))
                        for ih in rows.start..<rows.end {
                            let row = d + ih * g.width
                            for iw in cols.start..<cols.end { row[iw] += share }
                        }
                    }
                }
            }
        }
    }

    /// Adaptive pooling's window along one dimension: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉), as in PyTorch.
    @inline(__always)
    static func adaptiveWindow(_ i: Int, input: Int, output: Int) -> Range<Int> {
        (i * input / output)..<(((i + 1) * input + output - 1) / output)
    }

    /// Mean over adaptive windows: `g.outH`×`g.outW` outputs whatever the input size.
    static func adaptiveAvgPool(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ out: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.channels
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let src = x + plane * g.inPlane
                let dst = out + plane * g.outPlane
                if g.outPlane == 1 {
                    dst[0] = sumContiguous(src, g.inPlane) / Float(Swift.max(g.inPlane, 1))
                    continue
                }
                for oh in 0..<g.outH {
                    let rows = adaptiveWindow(oh, input: g.height, output: g.outH)
                    for ow in 0..<g.outW {
                        let cols = adaptiveWindow(ow, input: g.width, output: g.outW)
                        var total: Float = 0
                        for ih in rows {
                            let row = src + ih * g.width
                            for iw in cols { total += row[iw] }
                        }
                        dst[oh * g.outW + ow] = total / Float(rows.count * cols.count)
                    }
                }
            }
        }
    }

    /// The adjoint of `adaptiveAvgPool`.
    static func adaptiveAvgPoolBackward(_ grad: UnsafePointer<Float>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
        let planes = g.batch * g.channels
        Parallel.forRanges(planes, threshold: unitThreshold(work: g.inPlane)) { range in
            for plane in range {
                let d = dx + plane * g.inPlane
                let s = grad + plane * g.outPlane
                if g.outPlane == 1 {
                    d.update(repeating: s[0] / Float(Swift.max(g.inPlane, 1)), count: g.inPlane)
                    continue
                }
                d.update(repeating: 0, count: g.inPlane)
                for oh in 0..<g.outH {
                    let rows = adaptiveWindow(oh, input: g.height, output: g.outH)
                    for ow in 0..<g.outW {
                        let cols = adaptiveWindow(ow, input: g.width, output: g.outW)
                        let share = s[oh * g.outW + ow] / Float(rows.count * cols.count)
                        for ih in rows {
                            let row = d + ih * g.width
                            for iw in cols { row[iw] += share }
                        }
                    }
                }
            }
        }
    }
}
