/// Per-channel statistics and affine maps of [N, C, S] tensors (S = H·W), the kernels of batch normalisation.
/// Channel c is the N rows x[n, c, 0..<S], each contiguous; the loops run over channels in parallel.
extension Kernels {
    /// Σ (x[i] − mean)² over a contiguous run, with vector accumulators.
    @inline(__always)
    static func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
        var acc = SIMD16<Float>()
        let m = SIMD16<Float>(repeating: mean)
        var i = 0
        while i + 16 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - m
            acc += d * d
            i += 16
        }
        var total = acc.sum()
        while i < n { let d = x[i] - mean; total += d * d; i += 1 }
        return total
    }

    /// (Σ g[i], Σ g[i]·(x[i] − mean)) over a contiguous run.
    @inline(__always)
    static func gradientMoments(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int,
                                mean: Float) -> (Float, Float) {
        var sg = SIMD16<Float>(), sgx = SIMD16<Float>()
        let m = SIMD16<Float>(repeating: mean)
        var i = 0
        while i + 16 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self)
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            sg += gv
            sgx += gv * (xv - m)
            i += 16
        }
        var (a, b) = (sg.sum(), sgx.sum())
        while i < n { a += g[i]; b += g[i] * (x[i] - mean); i += 1 }
        return (a, b)
    }

    /// Biased mean and variance of each channel (two passes, so large means do not cancel the variance).
    static func channelMoments(_ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                               mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let perChannel = batch * spatial
        Parallel.forRanges(channels, threshold: unitThreshold(work: perChannel)) { range in
            for c in range {
                var total: Double = 0
                for n in 0..<batch { total += Double(sumContiguous(x + (n * channels + c) * spatial, spatial)) }
                let mu = Float(total / Double(Swift.max(perChannel, 1)))
                var squares: Double = 0
                for n in 0..<batch {
                    squares += Double(sumSquaredDeviations(x + (n * channels + c) * spatial, spatial, mean: mu))
                }
                mean[c] = mu
                variance[c] = Float(squares / Double(Swift.max(perChannel, 1)))
            }
        }
    }

    /// y[n, c, s] = x[n, c, s]·scale[c] + shift[c].
    static func channelAffine(_ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
                              scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch * channels, threshold: unitThreshold(work: spatial)) { range in
            for row in range {
                let c = row % channels
                let (a, b) = (scale[c], shift[c])
                let (s, d) = (x + row * spatial, y + row * spatial)
                for i in 0..<spatial { d[i] = s[i] * a + b }
            }
        }
    }

    /// Per channel: Σ g and Σ g·(x − mean[c]).
    static func channelGradientMoments(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int,
                                       spatial: Int, mean: UnsafePointer<Float>,
                                       sumG: UnsafeMutablePointer<Float>, sumGX: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(channels, threshold: unitThreshold(work: batch * spatial)) { range in
            for c in range {
                var (a, b): (Double, Double) = (0, 0)
                for n in 0..<batch {
                    let offset = (n * channels + c) * spatial
                    let (ga, gb) = gradientMoments(g + offset, x + offset, spatial, mean: mean[c])
                    a += Double(ga)
                    b += Double(gb)
                }
                sumG[c] = Float(a)
                sumGX[c] = Float(b)
            }
        }
    }

    /// dx[n, c, s] = gScale[c]·g + xScale[c]·x + shift[c] (the training-mode gradient in closed form).
    static func channelGradientAffine(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int,
                                      spatial: Int, gScale: UnsafePointer<Float>, xScale: UnsafePointer<Float>,
                                      shift: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch * channels, threshold: unitThreshold(work: spatial)) { range in
            for row in range {
                let c = row % channels
                let (a, b, k) = (gScale[c], xScale[c], shift[c])
                let (gs, xs, d) = (g + row * spatial, x + row * spatial, dx + row * spatial)
                for i in 0..<spatial { d[i] = gs[i] * a + xs[i] * b + k }
            }
        }
    }
}
