/// Ops that move elements without changing them: reshape, permute, slice, gather, concatenate, split.
extension Tensor {
    // MARK: Reshape

    /// The same elements under a new shape; one dimension may be −1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) into \(newShape)")
            target[inferred] = count / known
        }
        precondition(target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == count,
                     "reshape: cannot reshape \(shape) (\(count) elements) into \(newShape)")
        if target == shape { return self }
        var out = detached()
        out.shape = target
        let inputShape = shape
        return Tensor.record(out, op: "reshape", inputs: [self]) { g in [g.reshaped(inputShape)] }
    }

    /// Variadic form: `x.reshaped(2, -1)`.
    public func reshaped(_ newShape: Int...) -> Tensor { reshaped(newShape) }

    /// Collapses dimensions `startAxis...` into one: [N, C, H, W] → [N, C·H·W] by default.
    public func flattened(startAxis: Int = 1) -> Tensor {
        let start = Shape.normalize(axis: startAxis, rank: rank, op: "flatten")
        return reshaped(Array(shape[..<start]) + [shape[start...].reduce(1, *)])
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueeze: axis \(axis) out of range for shape \(shape)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes dimensions of size 1 (all of them, or only `axis`).
    public func squeezed(axis: Int? = nil) -> Tensor {
        if let axis {
            let a = Shape.normalize(axis: axis, rank: rank, op: "squeeze")
            guard shape[a] == 1 else { return self }
            var s = shape
            s.remove(at: a)
            return reshaped(s)
        }
        return reshaped(shape.filter { $0 != 1 })
    }

    // MARK: Permute

    /// Reorders the axes: result axis i is input axis `order[i]`. Copies into the new layout.
    public func permuted(_ order: [Int]) -> Tensor {
        let perm = order.map { Shape.normalize(axis: $0, rank: rank, op: "permute") }
        precondition(perm.count == rank && Set(perm).count == rank, "permute: \(order) is not a permutation of the axes of \(shape)")
        if perm == Array(0..<rank) { return self }
        let out = Tensor(uninitializedShape: perm.map { shape[$0] })
        Kernels.permute(storage.pointer, shape: shape, perm: perm, out.storage.pointer)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Tensor.record(out, op: "permute", inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default: the matrix transpose).
    public func transposed(_ axis0: Int = -2, _ axis1: Int = -1) -> Tensor {
        precondition(rank >= 2 || (rank == 1 && axis0 == -2 && axis1 == -1), "transpose: needs 2 dimensions, got shape \(shape)")
        if rank < 2 { return self }
        let a = Shape.normalize(axis: axis0, rank: rank, op: "transpose")
        let b = Shape.normalize(axis: axis1, rank: rank, op: "transpose")
        var perm = Array(0..<rank)
        perm.swapAt(a, b)
        return permuted(perm)
    }

    /// The matrix transpose of a 2-D tensor.
    public var T: Tensor { transposed() }

    // MARK: Slicing and gathering

    /// Elements `range` along `axis` (a copy). The gradient is scattered back into place.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        let v = axisView(a, op: "slice")
        var outShape = shape
        outShape[a] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let rowLength = range.count * v.inner
        for o in 0..<v.outer {
            (out.storage.pointer + o * rowLength).update(from: storage.pointer + (o * v.axis + range.lowerBound) * v.inner, count: rowLength)
        }
        let inputShape = shape
        return Tensor.record(out, op: "slice", inputs: [self]) { g in
            var grad = Tensor.zeros(inputShape)
            grad.withUnsafeMutableBufferPointer { d in
                for o in 0..<v.outer {
                    (d.baseAddress! + (o * v.axis + range.lowerBound) * v.inner).update(from: g.storage.pointer + o * rowLength, count: rowLength)
                }
            }
            return [grad]
        }
    }

    /// Indexing by ranges per leading axis: `x[0..<2]`, `x[1..<3, 0..<4]`.
    public subscript(ranges: Range<Int>...) -> Tensor {
        var result = self
        for (axis, range) in ranges.enumerated() { result = result.slice(axis: axis, range) }
        return result
    }

    /// One entry along the first axis, with that axis removed: `x[row: 3]` of a [N, D] tensor is [D].
    public subscript(row index: Int) -> Tensor {
        let i = index < 0 ? index + (shape.first ?? 0) : index
        return slice(axis: 0, i..<(i + 1)).squeezed(axis: 0)
    }

    /// Rows (entries along `axis`) picked by integer index, repeats allowed (`torch.index_select`; embedding lookup).
    /// The gradient adds into each picked row.
    public func gather(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, op: "gather")
        let v = axisView(a, op: "gather")
        for i in indices {
            precondition(i >= 0 && i < v.axis, "gather: index \(i) out of range for axis \(axis) of shape \(shape)")
        }
        var outShape = shape
        outShape[a] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        let (src, dst) = (storage.pointer, out.storage.pointer)
        for o in 0..<v.outer {
            for (j, i) in indices.enumerated() {
                (dst + (o * indices.count + j) * v.inner).update(from: src + (o * v.axis + i) * v.inner, count: v.inner)
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: "gather", inputs: [self]) { g in
            var grad = Tensor.zeros(inputShape)
            grad.withUnsafeMutableBufferPointer { d in
                let gs = g.storage.pointer
                for o in 0..<v.outer {
                    for (j, i) in indices.enumerated() {
                        let to = d.baseAddress! + (o * v.axis + i) * v.inner
                        let from = gs + (o * indices.count + j) * v.inner
                        for k in 0..<v.inner { to[k] += from[k] }
                    }
                }
            }
            return [grad]
        }
    }

    // MARK: Concatenate, stack, split

    /// Joins tensors along an existing axis; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors given")
        let first = tensors[0]
        let a = Shape.normalize(axis: axis, rank: first.rank, op: "concat")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: shapes \(first.shape) and \(t.shape) differ outside axis \(axis)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let sizes = tensors.map { $0.shape[a] }
        let total = sizes.reduce(0, +)
        var outShape = first.shape
        outShape[a] = total
        let out = Tensor(uninitializedShape: outShape)
        var offset = 0
        for (t, size) in zip(tensors, sizes) {
            let run = size * inner
            for o in 0..<outer {
                (out.storage.pointer + o * total * inner + offset * inner).update(from: t.storage.pointer + o * run, count: run)
            }
            offset += size
        }
        return record(out, op: "concat", inputs: tensors) { g in g.split(sizes: sizes, axis: a).map { Optional($0) } }
    }

    /// Joins tensors of equal shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors given")
        for t in tensors { precondition(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ") }
        return concat(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis < 0 ? axis : axis)
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to the axis length).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = Shape.normalize(axis: axis, rank: rank, op: "split")
        precondition(sizes.reduce(0, +) == shape[a] && sizes.allSatisfy { $0 >= 0 },
                     "split: sizes \(sizes) do not add up to \(shape[a]) along axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: a, start..<(start + size))
        }
    }

    /// Splits along `axis` into `count` equal pieces.
    public func split(count: Int, axis: Int = 0) -> [Tensor] {
        let a = Shape.normalize(axis: axis, rank: rank, op: "split")
        precondition(count > 0 && shape[a] % count == 0, "split: axis \(axis) of shape \(shape) does not divide into \(count) pieces")
        return split(sizes: Array(repeating: shape[a] / count, count: count), axis: a)
    }
}
