/// The heap buffer behind a `Tensor`: a 64-byte aligned block of `Float`s.
///
/// Tensors share a storage until one of them mutates it (copy-on-write, checked with
/// `isKnownUniquelyReferenced`). Kernels read and write it through raw pointers only.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats without initialising them; the caller writes every element.
    init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.update(from: source, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
