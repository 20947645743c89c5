/// Corrupts its input with Gaussian noise in training mode and passes it through unchanged in evaluation mode: the
/// corruption step of a denoising autoencoder, which must learn to undo it.
///
/// Each element gets x + N(0, std²), optionally clamped to a valid range (pixels stay in [0, 1]). A fresh draw is made
/// on every call from the layer's own seeded generator, so every epoch sees new noise and a run is reproducible.
///
/// ```swift
/// let model = Sequential(GaussianNoise(std: 0.3, clampTo: 0...1, seed: 1), encoder, decoder)
/// model.eval()          // noise off
/// ```
public final class GaussianNoise: Module {
    public let std: Float
    public let range: ClosedRange<Float>?
    var generator: RandomGenerator

    public init(std: Float, clampTo range: ClosedRange<Float>? = nil, seed: UInt64 = 0) {
        precondition(std >= 0 && std.isFinite, "GaussianNoise: std \(std) must be a finite number ≥ 0")
        self.std = std
        self.range = range
        self.generator = RandomGenerator(seed: seed)
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, std > 0 else { return input }
        return GaussianNoise.corrupt(input, std: std, clampTo: range, generator: &generator)
    }

    /// x + N(0, std²) elementwise, clamped to `range` when given (no graph: the noise is data, not a parameter).
    public static func corrupt(_ input: Tensor, std: Float, clampTo range: ClosedRange<Float>? = nil,
                               generator: inout RandomGenerator) -> Tensor {
        var out = input.detached()
        var rng = generator  // a local copy: no exclusivity check on the inout per element
        let (low, high) = (range?.lowerBound ?? -.infinity, range?.upperBound ?? .infinity)
        out.withUnsafeMutableBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return }
            for i in 0..<buffer.count {
                let v = p[i] + std * rng.nextNormal()
                p[i] = v < low ? low : (v > high ? high : v)
            }
        }
        generator = rng
        return out
    }
}

extension GaussianNoise: RandomStateModule {}
