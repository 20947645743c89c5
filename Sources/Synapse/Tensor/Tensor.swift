/// An n-dimensional array of `Float`s with value semantics and optional reverse-mode autograd.
///
/// Storage is contiguous and row-major; copies share it until one of them is mutated (copy-on-write).
/// A tensor that `requiresGrad` records the op that made it, so `backward()` can apply the chain rule.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]])            // shape [2, 2]
/// var w = Tensor.randn([2, 3], generator: &rng)
/// w.requiresGrad = true
/// let loss = x.matmul(w).relu().sum()
/// loss.backward()
/// print(w.grad!)                              // ∂loss/∂w, shape [2, 3]
/// ```
public struct Tensor: @unchecked Sendable {
    /// The extent of each dimension; `[]` for a scalar.
    public internal(set) var shape: [Int]
    var storage: TensorStorage
    /// The autograd record: a leaf for parameters, an op node for results; `nil` when no gradient is tracked.
    var node: AutogradNode?

    /// Wraps an existing storage; `shape` must describe exactly `storage.count` elements.
    init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) == storage.count, "Tensor: shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        self.node = nil
    }

    /// A tensor of the given shape whose elements the caller will write (kernels' outputs).
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    /// Creates a tensor from row-major `scalars`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        precondition(count == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(count) scalars, got \(scalars.count)")
        let storage = TensorStorage(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { if count > 0 { storage.pointer.initialize(from: $0.baseAddress!, count: count) } }
        self.init(shape: shape, storage: storage)
    }

    /// A 0-dimensional tensor holding `value`.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A 1-D tensor.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor(rows): rows have different lengths")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A 3-D tensor from nested arrays of equal lengths.
    public init(_ planes: [[[Float]]]) {
        let rows = planes.first?.count ?? 0
        let columns = planes.first?.first?.count ?? 0
        precondition(planes.allSatisfy { $0.count == rows && $0.allSatisfy { $0.count == columns } },
                     "Tensor(planes): ragged nested arrays")
        self.init(shape: [planes.count, rows, columns], scalars: planes.flatMap { $0.flatMap { $0 } })
    }

    // MARK: Geometry

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The total number of elements.
    public var count: Int { storage.count }

    /// Row-major strides, in elements.
    public var strides: [Int] { Shape.strides(of: shape) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// All elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// Reads or writes one element; writing copies the storage first if it is shared.
    public subscript(indices: Int...) -> Float {
        get { storage.pointer[flatIndex(indices)] }
        set {
            let index = flatIndex(indices)
            makeUnique()
            storage.pointer[index] = newValue
        }
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "subscript: \(indices.count) indices for a tensor of shape \(shape)")
        var flat = 0
        for (axis, index) in indices.enumerated() {
            let i = index < 0 ? index + shape[axis] : index
            precondition(i >= 0 && i < shape[axis], "subscript: index \(index) out of range for axis \(axis) of shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    // MARK: Storage access

    /// Gives the storage its own copy when another tensor shares it.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage.pointer, count: storage.count)
        }
    }

    /// Read-only access to the contiguous elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Mutable access to this tensor's own elements (copy-on-write first).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes into the storage shared by every copy of this tensor, bypassing copy-on-write.
    ///
    /// This is PyTorch's `with torch.no_grad(): p -= lr * g`: optimizers and `load(stateDict:)` use it so the update
    /// reaches the module that owns the parameter. Everything else should use `withUnsafeMutableBufferPointer`.
    public func withSharedMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// An identity for the underlying storage: equal for copies of the same parameter.
    public var storageIdentifier: ObjectIdentifier { ObjectIdentifier(storage) }
}

/// Shape arithmetic shared by the ops.
public enum Shape {
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Resolves a possibly negative axis, stopping with a message naming `op` when it is out of range.
    public static func normalize(axis: Int, rank: Int, op: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < max(rank, 1), "\(op): axis \(axis) out of range for rank \(rank)")
        return resolved
    }

    /// NumPy broadcasting of two shapes; stops with the op name and both shapes when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) cannot be broadcast together")
            result[i] = da == 1 ? db : da
        }
        return result
    }
}
