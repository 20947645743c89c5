/// RMSNorm's row kernels: the statistic and the scaling in one pass per row, and the closed-form backward (see
/// Ops/RMSNormOp.swift for the formulas).
extension Kernels {
    /// y = x·r·w per row, r = 1/√(mean(x²) + ε) stored in `inverseRMS[row]`.
    static func rmsNormForward(_ x: UnsafePointer<Float>, rows: Int, width: Int, eps: Float, weight: UnsafePointer<Float>,
                               _ y: UnsafeMutablePointer<Float>, inverseRMS: UnsafeMutablePointer<Float>) {
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
            for row in range {
                let src = x + row * width, dst = y + row * width
                let r = 1 / (sumOfSquaredDeviations(src, width, from: 0) * inverseWidth + eps).squareRoot()
                inverseRMS[row] = r
                for j in 0..<width { dst[j] = src[j] * r * weight[j] }
            }
        }
    }

    /// ∂L/∂x = r·(g⊙w) − x·r³·mean(g⊙w⊙x), per row.
    static func rmsNormBackwardInput(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, width: Int,
                                     weight: UnsafePointer<Float>, inverseRMS: UnsafePointer<Float>,
                                     _ gx: UnsafeMutablePointer<Float>) {
        let inverseWidth = 1 / Float(width)
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / max(width, 1))) { range in
            for row in range {
                let xs = x + row * width, gs = g + row * width, dst = gx + row * width
                let r = inverseRMS[row]
                for j in 0..<width { dst[j] = gs[j] * weight[j] }          // g⊙w first: the row sum is a plain dot
                let c = centeredDot(dst, xs, width, center: 0) * inverseWidth * r * r * r
                for j in 0..<width { dst[j] = r * dst[j] - xs[j] * c }
            }
        }
    }

    /// ∂L/∂w = Σ_rows g⊙x·r, split across cores by column.
    static func rmsNormBackwardWeight(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, rows: Int, width: Int,
                                      inverseRMS: UnsafePointer<Float>, _ gw: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(width, threshold: max(16, Parallel.elementwiseThreshold / max(rows, 1))) { columns in
            let (lower, n) = (columns.lowerBound, columns.count)
            let out = gw + lower
            out.update(repeating: 0, count: n)
            for row in 0..<rows {
                let xs = x + row * width + lower, gs = g + row * width + lower, r = inverseRMS[row]
                for j in 0..<n { out[j] += gs[j] * xs[j] * r }
            }
        }
    }

    /// y = silu(g)·u, the SwiGLU gate, in one pass.
    static func swiGLUForward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { r in
            let (g, u, out) = (gate + r.lowerBound, up + r.lowerBound, y + r.lowerBound)
            VectorMath.silu(g, out, r.count)
            for i in 0..<r.count { out[i] *= u[i] }
        }
    }

    /// ∂L/∂gate = dy·u·silu′(gate), ∂L/∂up = dy·silu(gate), in one pass.
    static func swiGLUBackward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                               gradGate: UnsafeMutablePointer<Float>, gradUp: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { r in
            let lower = r.lowerBound
            let (g, u, dy, dg, du) = (gate + lower, up + lower, gradOutput + lower, gradGate + lower, gradUp + lower)
            VectorMath.silu(g, du, r.count)                                   // du = silu(g), scaled below
            for i in 0..<r.count { dg[i] = dy[i] * u[i] }
            VectorMath.siluBackward(x: g, gradOutput: dg, gradInput: dg, count: r.count)
            for i in 0..<r.count { du[i] *= dy[i] }
        }
    }
}
