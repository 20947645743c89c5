/// Reductions: sum, mean, max, min, argmax, variance — over all elements or along axes, with `keepDims`.
extension Tensor {
    /// Sum of all elements, a scalar. ∂/∂x = 1 everywhere.
    public func sum() -> Tensor {
        let total = Kernels.sumAll(storage.pointer, count)
        let inputShape = shape
        return Tensor.record(Tensor(total), op: "sum", inputs: [self]) { g in [Tensor.full(inputShape, g.item)] }
    }

    /// Sum along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Sum along several axes; the gradient is the upstream gradient repeated along them.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Array(Set(axes.map { Shape.normalize(axis: $0, rank: rank, op: "sum") })).sorted()
        var keptShape = shape
        for a in resolved { keptShape[a] = 1 }
        let out = sumKeepingDims(resolved).reshaped(keepDims ? keptShape : keptShape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element))
        let inputShape = shape
        return Tensor.record(out, op: "sum", inputs: [self]) { g in [g.reshaped(keptShape).expanded(toShape: inputShape)] }
    }

    /// Forward only: sums over sorted, unique axes, keeping them as size 1. Runs of adjacent axes reduce in one pass.
    private func sumKeepingDims(_ axes: [Int]) -> Tensor {
        var current = self.detached()
        var index = axes.count - 1
        while index >= 0 {
            var first = axes[index]
            let last = first
            while index > 0 && axes[index - 1] == first - 1 { index -= 1; first -= 1 }
            index -= 1
            let outer = current.shape[..<first].reduce(1, *)
            let extent = current.shape[first...last].reduce(1, *)
            let inner = current.shape[(last + 1)...].reduce(1, *)
            var newShape = current.shape
            for a in first...last { newShape[a] = 1 }
            let out = Tensor(uninitializedShape: newShape)
            Kernels.sum(current.storage.pointer, outer: outer, axis: extent, inner: inner, out.storage.pointer)
            current = out
        }
        return current
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Mean along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Mean along several axes.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { Shape.normalize(axis: $0, rank: rank, op: "mean") }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    /// Variance along an axis; `correction: 1` (the default, as in PyTorch) divides by n − 1.
    public func variance(axis: Int, keepDims: Bool = false, correction: Int = 1) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "variance")
        let n = shape[a]
        let centered = self - mean(axis: a, keepDims: true)
        return (centered * centered).sum(axis: a, keepDims: keepDims) * (1 / Float(Swift.max(n - correction, 0)))
    }

    /// Variance of all elements.
    public func variance(correction: Int = 1) -> Tensor {
        reshaped([count]).variance(axis: 0, correction: correction)
    }

    // MARK: Extrema

    /// Maximum along an axis. The gradient goes to the (first) maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extremum(axis: axis, keepDims: keepDims, findMax: true) }
    /// Minimum along an axis. The gradient goes to the (first) minimal element.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extremum(axis: axis, keepDims: keepDims, findMax: false) }
    /// Maximum of all elements.
    public func max() -> Tensor { reshaped([count]).max(axis: 0) }
    /// Minimum of all elements.
    public func min() -> Tensor { reshaped([count]).min(axis: 0) }

    /// Index of the maximum along `axis`, as Float values (no gradient).
    public func argmax(axis: Int, keepDims: Bool = false) -> Tensor {
        let (_, indices) = extremumForward(axis: axis, keepDims: keepDims, findMax: true)
        return indices
    }

    /// Index of the minimum along `axis`, as Float values (no gradient).
    public func argmin(axis: Int, keepDims: Bool = false) -> Tensor {
        let (_, indices) = extremumForward(axis: axis, keepDims: keepDims, findMax: false)
        return indices
    }

    /// Index of the largest element of each row of a 2-D tensor, as Swift integers (class predictions).
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows: expected a 2-D tensor, got shape \(shape)")
        return argmax(axis: 1).scalars.map { Int($0) }
    }

    private func extremumForward(axis: Int, keepDims: Bool, findMax: Bool) -> (values: Tensor, indices: Tensor) {
        let op = findMax ? "max" : "min"
        precondition(rank > 0, "\(op): cannot reduce a scalar along an axis")
        let a = Shape.normalize(axis: axis, rank: rank, op: op)
        precondition(shape[a] > 0, "\(op): axis \(axis) of shape \(shape) is empty")
        let v = axisView(a, op: op)
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let values = Tensor(uninitializedShape: outShape)
        var raw = [Int32](repeating: 0, count: v.outer * v.inner)
        raw.withUnsafeMutableBufferPointer { idx in
            Kernels.extremum(storage.pointer, outer: v.outer, axis: v.axis, inner: v.inner, findMax: findMax,
                             values.storage.pointer, idx.baseAddress!)
        }
        return (values, Tensor(shape: outShape, scalars: raw.map { Float($0) }))
    }

    private func extremum(axis: Int, keepDims: Bool, findMax: Bool) -> Tensor {
        let (values, indices) = extremumForward(axis: axis, keepDims: keepDims, findMax: findMax)
        let a = Shape.normalize(axis: axis, rank: rank, op: findMax ? "max" : "min")
        let v = axisView(a, op: "max")
        let inputShape = shape
        return Tensor.record(values, op: findMax ? "max" : "min", inputs: [self]) { g in
            var grad = Tensor.zeros(inputShape)
            grad.withUnsafeMutableBufferPointer { d in
                indices.withUnsafeBufferPointer { idx in
                    g.withUnsafeBufferPointer { gs in
                        for o in 0..<v.outer {
                            for i in 0..<v.inner {
                                let j = o * v.inner + i
                                d[(o * v.axis + Int(idx[j])) * v.inner + i] += gs[j]
                            }
                        }
                    }
                }
            }
            return [grad]
        }
    }
}

extension Kernels {
    /// Sum of a whole buffer, split across cores when large.
    static func sumAll(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        if count < Parallel.elementwiseThreshold { return sumContiguous(x, count) }
        let parts = Parallel.coreCount
        var partial = [Float](repeating: 0, count: parts)
        let per = ((count + parts - 1) / parts + 15) & ~15
        partial.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forRanges(parts, threshold: 1) { r in
                for part in r {
                    let start = Swift.min(count, part * per)
                    base[part] = sumContiguous(x + start, Swift.min(count, start + per) - start)
                }
            }
        }
        return partial.reduce(0, +)
    }
}
