/// A dense autoencoder: an encoder squeezes the input through narrowing layers into a small code, and a mirrored
/// decoder rebuilds the input from that code. Trained to reproduce its input, it learns what typical inputs look like,
/// so it can denoise (trained on corrupted inputs with clean targets) and flag unusual inputs by how badly it
/// reconstructs them.
///
/// `sizes` lists the encoder widths from the input to the code, e.g. `[784, 256, 64, 32]`; the decoder runs them
/// backwards. Hidden layers use ReLU, the code is linear, and the output goes through a sigmoid (pixels in [0, 1]).
/// With `noise > 0` the model corrupts its input with Gaussian noise in training mode only (`GaussianNoise`).
///
/// State-dict keys are `encoder.0.weight`, `encoder.0.bias`, `encoder.2.weight`, …, `decoder.0.weight`, …, as for a
/// PyTorch module with two `nn.Sequential` members.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let ae = Autoencoder(sizes: [784, 256, 64, 32], noise: 0.3, generator: &rng)
/// let code = ae.encode(images)            // [N, 32]
/// let rebuilt = ae(images)                // [N, 784]
/// ```
public final class Autoencoder: Module {
    /// Dense layers, or convolutions on 28×28 images.
    public enum Kind: String, Sendable, CaseIterable {
        case dense
        /// conv 3×3 1→16, ReLU, max-pool 2, conv 3×3 16→8, ReLU, max-pool 2 (code [8, 7, 7] = 392 values); the decoder
        /// upsamples ×2 and convolves twice (8→16, 16→1) to a sigmoid. Inputs and outputs stay [N, 784].
        case convolutional
    }

    public let kind: Kind
    /// Dense: the encoder widths from the input to the code. Convolutional: [784, 392] (input and code sizes).
    public let sizes: [Int]
    public let noiseLevel: Float
    public let encoder: Sequential
    public let decoder: Sequential
    let noise: GaussianNoise

    public init(sizes: [Int], noise: Float = 0, seed: UInt64 = 0, generator: inout RandomGenerator) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 },
                     "Autoencoder: sizes must list at least an input and a code width, all positive; got \(sizes)")
        kind = .dense
        self.sizes = sizes
        noiseLevel = noise
        var encoderLayers: [Module] = []
        for i in 0..<(sizes.count - 1) {
            encoderLayers.append(Linear(sizes[i], sizes[i + 1], generator: &generator))
            if i < sizes.count - 2 { encoderLayers.append(ReLU()) }
        }
        var decoderLayers: [Module] = []
        let reversed = Array(sizes.reversed())
        for i in 0..<(reversed.count - 1) {
            decoderLayers.append(Linear(reversed[i], reversed[i + 1], generator: &generator))
            decoderLayers.append(i < reversed.count - 2 ? ReLU() : Sigmoid())
        }
        encoder = Sequential(encoderLayers)
        decoder = Sequential(decoderLayers)
        self.noise = GaussianNoise(std: noise, clampTo: 0...1, seed: seed &+ 0x6E6F_6973_65)
        super.init()
    }

    /// The convolutional autoencoder for 28×28 single-channel images (see `Kind.convolutional`).
    public init(convolutionalWithNoise noise: Float = 0, seed: UInt64 = 0, generator: inout RandomGenerator) {
        kind = .convolutional
        sizes = [784, 392]
        noiseLevel = noise
        encoder = Sequential(Unflatten([1, 28, 28]),
                             Conv2d(1, 16, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                             Conv2d(16, 8, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2))
        decoder = Sequential(Upsample(scale: 2), Conv2d(8, 16, kernelSize: 3, padding: 1, generator: &generator), ReLU(),
                             Upsample(scale: 2), Conv2d(16, 1, kernelSize: 3, padding: 1, generator: &generator), Sigmoid(),
                             Flatten())
        self.noise = GaussianNoise(std: noise, clampTo: 0...1, seed: seed &+ 0x6E6F_6973_65)
        super.init()
    }

    public override func members() -> ModuleMembers {
        // The noise layer has no state but must be in the tree, so that eval() switches it off.
        ModuleMembers(children: [("noise", noise), ("encoder", encoder), ("decoder", decoder)])
    }

    /// The code of each input row: [N, sizes.last].
    public func encode(_ input: Tensor) -> Tensor { encoder(input) }

    /// The reconstruction of each code row: [N, sizes.first].
    public func decode(_ code: Tensor) -> Tensor { decoder(code) }

    /// Reconstructs the input; in training mode with a noise level, from a corrupted copy of it.
    public override func callAsFunction(_ input: Tensor) -> Tensor {
        decoder(encoder(noise(input)))
    }

    /// The mean squared reconstruction error of every row of `inputs` ([N, sizes.first]) against `targets` (the
    /// inputs themselves by default), in evaluation mode without a graph, batch by batch. The mode is restored.
    public func reconstructionErrors(_ inputs: Tensor, targets: Tensor? = nil, batchSize: Int = 1000) -> [Float] {
        precondition(inputs.rank == 2 && inputs.shape[1] == sizes[0],
                     "Autoencoder.reconstructionErrors: inputs of shape \(inputs.shape), expected [N, \(sizes[0])]")
        let targets = targets ?? inputs
        precondition(targets.shape == inputs.shape, "Autoencoder.reconstructionErrors: targets \(targets.shape) for inputs \(inputs.shape)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        let (n, width) = (inputs.shape[0], inputs.shape[1])
        var errors = [Float](repeating: 0, count: n)
        noGrad {
            for start in stride(from: 0, to: n, by: batchSize) {
                let range = start..<Swift.min(n, start + batchSize)
                let output = self(inputs.slice(axis: 0, range))
                let target = targets.slice(axis: 0, range)
                output.withUnsafeBufferPointer { o in
                    target.withUnsafeBufferPointer { t in
                        for (row, index) in range.enumerated() {
                            let (output, target) = (o.baseAddress! + row * width, t.baseAddress! + row * width)
                            var sum: Float = 0
                            for j in 0..<width { let d = output[j] - target[j]; sum += d * d }
                            errors[index] = sum / Float(width)
                        }
                    }
                }
            }
        }
        return errors
    }
}
