/// Building blocks the differentiable ops share: running kernels into fresh tensors, and reducing a gradient that
/// was broadcast back to the shape of the operand it belongs to.
extension Tensor {
    /// A new tensor holding K(self) elementwise (no graph).
    func mapped<K: UnaryKernel>(_ kernel: K.Type) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.map(kernel, storage.pointer, out.storage.pointer, count)
        return out
    }

    /// A new tensor from a buffer function such as `VectorMath.exp` (no graph).
    func mapped(_ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Kernels.chunked(storage.pointer, out.storage.pointer, count, body)
        return out
    }

    /// K(a, b) with broadcasting (no graph).
    static func broadcastKernel<K: BinaryKernel>(_ kernel: K.Type, _ a: Tensor, _ b: Tensor, op: String) -> Tensor {
        let outShape = a.shape == b.shape ? a.shape : Shape.broadcast(a.shape, b.shape, op: op)
        let out = Tensor(uninitializedShape: outShape)
        Kernels.broadcast(kernel, a.storage.pointer, a.shape, b.storage.pointer, b.shape, out.storage.pointer, outShape)
        return out
    }

    /// Sums a gradient of a broadcast result down to `target`, the shape of the operand it flows to.
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "broadcast backward: gradient shape \(shape) cannot reduce to \(target)")
        var axes: [Int] = Array(0..<lead)
        for (i, size) in target.enumerated() where size == 1 && shape[lead + i] != 1 {
            axes.append(lead + i)
        }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// This tensor repeated along broadcast dimensions to `target` (no graph).
    func expanded(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let outShape = Shape.broadcast(shape, target, op: "expand")
        precondition(outShape == target, "expand: shape \(shape) cannot be expanded to \(target)")
        let out = Tensor(uninitializedShape: target)
        Kernels.broadcast(TakeFirstOp.self, storage.pointer, shape, storage.pointer, shape, out.storage.pointer, target)
        return out
    }
}

enum TakeFirstOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a } }
