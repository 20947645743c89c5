import Foundation

/// The fixed sine/cosine position codes of "Attention Is All You Need": for position p and feature pair i,
/// PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
///
/// They need no training and extend to any length; add them to token embeddings where a learned position table
/// (an `Embedding` over positions, as GPT uses) would go.
///
/// ```swift
/// let codes = SinusoidalPositionalEncoding.table(length: 64, dimension: 128)   // [64, 128]
/// let x = tokens(tokens: ids, shape: [b, 64]) + codes
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
