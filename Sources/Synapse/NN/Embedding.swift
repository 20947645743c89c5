import Foundation

/// A lookup table from integer ids (tokens, positions, segment types) to learned vectors: `nn.Embedding`.
///
/// The weight is [count, dimension] and starts from N(0, 1) as in PyTorch. The gradient of a lookup adds into the
/// rows that were picked, so an id used twice gets both contributions.
///
/// ```swift
/// let tokens = Embedding(65, 128)
/// let x = tokens(ids: [0, 5, 7, 1], shape: [2, 2])      // [2, 2, 128]
/// ```
public final class Embedding: Module {
    public var weight: Tensor

    public var count: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    public init(_ count: Int, _ dimension: Int, standardDeviation: Float = 1, generator: inout RandomGenerator) {
        precondition(count > 0 && dimension > 0, "Embedding: sizes must be positive, got \(count)×\(dimension)")
        weight = Tensor.normal([count, dimension], std: standardDeviation, generator: &generator).requiringGrad()
        super.init()
    }

    public convenience init(_ count: Int, _ dimension: Int, standardDeviation: Float = 1) {
        var generator = Random.withGenerator { RandomGenerator(seed: $0.next()) }
        self.init(count, dimension, standardDeviation: standardDeviation, generator: &generator)
    }

    /// A table with the given weight [count, dimension] (made trainable).
    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be [count, dimension], got \(weight.shape)")
        self.weight = weight.detached().requiringGrad()
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers(tensors: [("weight", weight)]) }

    /// The vectors of `ids`, shaped `shape + [dimension]` (`shape` defaults to `[ids.count]`).
    public func callAsFunction(ids: [Int], shape: [Int]? = nil) -> Tensor {
        let outer = shape ?? [ids.count]
        precondition(outer.reduce(1, *) == ids.count, "Embedding: \(ids.count) ids do not fill shape \(outer)")
        for id in ids where id < 0 || id >= count {
            preconditionFailure("Embedding: id \(id) out of range for a table of \(count) entries")
        }
        return weight.gather(ids, axis: 0).reshaped(outer + [dimension])
    }
}

/// The fixed sine/cosine position codes of "Attention Is All You Need": for position p and feature pair i,
/// PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
///
/// They need no training and extend to any length; add them to token embeddings as a learned table would be.
///
/// ```swift
/// let codes = SinusoidalPositionalEncoding.table(length: 64, dimension: 128)   // [64, 128]
/// let x = tokens(ids: ids, shape: [b, 64]) + codes
/// ```
public enum SinusoidalPositionalEncoding {
    public static func table(length: Int, dimension: Int, offset: Int = 0) -> Tensor {
        precondition(length >= 0 && dimension > 0, "SinusoidalPositionalEncoding: bad size \(length)×\(dimension)")
        var values = [Float](repeating: 0, count: length * dimension)
        for p in 0..<length {
            for i in stride(from: 0, to: dimension, by: 2) {
                let angle = Double(p + offset) / pow(10_000, Double(i) / Double(dimension))
                values[p * dimension + i] = Float(sin(angle))
                if i + 1 < dimension { values[p * dimension + i + 1] = Float(cos(angle)) }
            }
        }
        return Tensor(shape: [length, dimension], scalars: values)
    }
}
