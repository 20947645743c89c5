/// Limits the size of gradients before an optimizer step, to keep one bad batch from throwing the weights far.
///
/// ```swift
/// loss.backward()
/// let norm = GradientClipping.clipByGlobalNorm(model.parameters(), maxNorm: 1.0)   // torch's clip_grad_norm_
/// optimizer.step()
/// ```
public enum GradientClipping {
    /// Scales all gradients together so that their global norm is at most `maxNorm`; returns the norm before clipping.
    ///
    /// The global norm is ‖(‖g₁‖, ‖g₂‖, …)‖ over every parameter's gradient (parameters without one are skipped).
    /// When it exceeds `maxNorm`, every gradient is multiplied by maxNorm / (norm + 1e-6) — PyTorch's
    /// `clip_grad_norm_` formula, so the clipped norm lands just under `maxNorm`. A NaN or infinite norm is returned
    /// as is and the gradients are left alone, so the caller can detect it and skip the step.
    ///
    /// - Parameter normType: 2 (Euclidean, the default) or `.infinity` (largest absolute element).
    @discardableResult
    public static func clipByGlobalNorm(_ parameters: [Tensor], maxNorm: Float, normType: Float = 2) -> Float {
        precondition(maxNorm >= 0, "clipByGlobalNorm: negative maxNorm \(maxNorm)")
        precondition(normType == 2 || normType == .infinity, "clipByGlobalNorm: normType must be 2 or .infinity, got \(normType)")
        let total = globalNorm(parameters, normType: normType)
        let scale = maxNorm / (total + 1e-6)
        guard total.isFinite, scale < 1 else { return total }
        forEachDistinctGradient(parameters) { g, count in
            Parallel.forRanges(count) { r in
                for i in r { g[i] *= scale }
            }
        }
        return total
    }

    /// The global norm of the gradients of `parameters` (2 or ∞), without changing them. Accumulates in Double.
    public static func globalNorm(_ parameters: [Tensor], normType: Float = 2) -> Float {
        let gradients = parameters.compactMap(\.grad)
        // One partial per gradient, computed on the cores in parallel and combined in order (the same sum as a
        // serial loop).
        var partials = [Double](repeating: 0, count: gradients.count)
        partials.withUnsafeMutableBufferPointer { partials in
            let out = partials.baseAddress
            Parallel.forEachItem(sizes: gradients.map(\.count)) { i in
                gradients[i].withUnsafeBufferPointer { g in
                    guard let base = g.baseAddress else { return }
                    out![i] = normType == .infinity ? Double(maximumMagnitude(base, g.count)) : Self.sumOfSquares(base, g.count)
                }
            }
        }
        if normType == .infinity { return Float(partials.reduce(0) { Swift.max($0, $1) }) }
        return Float(partials.reduce(0, +).squareRoot())
    }

    /// Clamps every gradient element to [−limit, limit] (`torch.nn.utils.clip_grad_value_`).
    public static func clipByValue(_ parameters: [Tensor], limit: Float) {
        precondition(limit >= 0, "clipByValue: negative limit \(limit)")
        let lower = -limit
        forEachDistinctGradient(parameters) { g, count in
            Parallel.forRanges(count) { r in
                for i in r {
                    let v = g[i]
                    g[i] = v < lower ? lower : (v > limit ? limit : v)
                }
            }
        }
    }

    /// Runs `body` once per distinct gradient storage, in place.
    ///
    /// Autograd may hand two leaves the same gradient storage (for `(a + b).sum()` both receive the upstream
    /// gradient itself), so scaling per parameter would scale a shared buffer twice.
    /// Gradients go to the cores in parallel (`Parallel.forEachItem`), each to one thread.
    private static func forEachDistinctGradient(_ parameters: [Tensor], _ body: (UnsafeMutablePointer<Float>, Int) -> Void) {
        var seen: Set<ObjectIdentifier> = []
        let gradients = parameters.compactMap(\.grad).filter { seen.insert($0.storageIdentifier).inserted }
        Parallel.forEachItem(sizes: gradients.map(\.count)) { i in
            gradients[i].withSharedMutableStorage { g in
                if let base = g.baseAddress { body(base, g.count) }
            }
        }
    }

    private static func sumOfSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        let parts = count >= Parallel.elementwiseThreshold ? Parallel.coreCount : 1
        if parts == 1 { return sumOfSquaresSerial(x, count) }
        var partial = [Double](repeating: 0, count: parts)
        let per = (count + parts - 1) / parts
        partial.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            Parallel.forRanges(parts, threshold: 1) { r in
                for part in r {
                    let start = Swift.min(count, part * per)
                    o[part] = sumOfSquaresSerial(x + start, Swift.min(count, start + per) - start)
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Float products summed in eight Double lanes (vectorisable; far less rounding than one Float accumulator).
    private static func sumOfSquaresSerial(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        var lanes = SIMD8<Double>()
        var i = 0
        while i + 8 <= count {
            let v = SIMD8<Double>(Double(x[i]), Double(x[i + 1]), Double(x[i + 2]), Double(x[i + 3]),
                                  Double(x[i + 4]), Double(x[i + 5]), Double(x[i + 6]), Double(x[i + 7]))
            lanes += v * v
            i += 8
        }
        var total = lanes.sum()
        while i < count {
            let v = Double(x[i])
            total += v * v
            i += 1
        }
        return total
    }

    private static func maximumMagnitude(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var largest: Float = 0
        for i in 0..<count {
            let v = Swift.abs(x[i])
            largest = v > largest || v.isNaN ? v : largest
        }
        return largest
    }
}
