/// Inverted dropout: in training mode each element is zeroed with probability `probability` and the survivors are
/// scaled by 1/(1 − p), so the expected activation is unchanged and evaluation needs no rescaling. In evaluation
/// mode (`model.eval()`) it is the identity.
///
/// The masks come from the layer's own seeded generator, so a run is reproducible.
///
/// ```swift
/// let model = Sequential(Linear(784, 256), ReLU(), Dropout(probability: 0.2, seed: 1), Linear(256, 10))
/// model.eval()          // dropout off for validation
/// ```
public final class Dropout: Module {
    public let probability: Float
    var generator: RandomGenerator

    public init(probability: Float = 0.5, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability <= 1, "Dropout: probability \(probability) is not in [0, 1]")
        self.probability = probability
        self.generator = RandomGenerator(seed: seed)
        super.init()
    }

    public override func members() -> ModuleMembers { ModuleMembers() }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return input }
        if probability == 1 { return input * Tensor.zeros(input.shape) }
        let scale = 1 / (1 - probability)
        // Compare the top 24 bits of each draw with an integer threshold: one draw per element, no Float division.
        let threshold = UInt64((Double(probability) * 16_777_216).rounded())
        var mask = Tensor.zeros(input.shape)
        var rng = generator  // a local copy: no exclusivity check on the stored property per element
        mask.withUnsafeMutableBufferPointer { buffer in
            guard let m = buffer.baseAddress else { return }
            for i in 0..<buffer.count where rng.next() >> 40 >= threshold { m[i] = scale }
        }
        generator = rng
        return input * mask
    }
}

extension Dropout: RandomStateModule {}
