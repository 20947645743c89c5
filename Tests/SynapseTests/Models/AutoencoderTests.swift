import Foundation
import Testing
@testable import Synapse

/// Autoencoders on small synthetic images (no dataset needed): shapes, keys, learning, files, AUROC and the OOD check.
@Suite(.synapseRuntime) struct AutoencoderTests {
    /// 16-pixel "images": a bright bar in one of four rows, plus a little noise.
    static func bars(_ n: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        var values = [Float](repeating: 0, count: n * 16)
        for i in 0..<n {
            let row = rng.nextInt(below: 4)
            for j in 0..<16 { values[i * 16 + j] = (j / 4 == row ? 0.9 : 0.05) + 0.05 * rng.nextUniform() }
        }
        return Tensor(shape: [n, 16], scalars: values)
    }

    @Test func layoutMirrorsTheEncoder() {
        var rng = RandomGenerator(seed: 0)
        let ae = Autoencoder(sizes: [784, 256, 64, 32], generator: &rng)
        #expect(ae.orderedStateDict().map(\.key) == [
            "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "encoder.4.weight", "encoder.4.bias",
            "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias", "decoder.4.weight", "decoder.4.bias",
        ])
        let x = Tensor.uniform([3, 784], generator: &rng)
        #expect(ae.encode(x).shape == [3, 32])
        let y = ae(x)
        #expect(y.shape == [3, 784])
        #expect(y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test func gaussianNoiseOnlyInTrainingAndClamped() {
        let layer = GaussianNoise(std: 0.5, clampTo: 0...1, seed: 2)
        let x = Tensor.full([200], 0.5)
        let noisy = layer(x)
        #expect(noisy.scalars != x.scalars)
        #expect(noisy.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(layer(x).scalars != noisy.scalars)          // fresh noise every call
        layer.eval()
        #expect(layer(x).scalars == x.scalars)
    }

    @Test func denoisingAutoencoderLearnsToRemoveNoise() throws {
        var rng = RandomGenerator(seed: 1)
        let ae = Autoencoder(sizes: [16, 8, 4], noise: 0.3, seed: 1, generator: &rng)
        let data = Self.bars(512, seed: 3)
        let before = ae.reconstructionErrors(data).reduce(0, +)
        let trainer = Trainer(model: ae, optimizer: Adam(parameters: ae.parameters(), learningRate: 0.01),
                              loss: .meanSquaredError)
        try trainer.fit(TrainingData(inputs: data, targets: data), epochs: 30, batchSize: 64, seed: 1)
        let after = ae.reconstructionErrors(data).reduce(0, +)
        #expect(after < before / 4, "error \(before) → \(after)")

        let clean = Self.bars(256, seed: 9)
        var noiseRNG = RandomGenerator(seed: 4)
        let noisy = GaussianNoise.corrupt(clean, std: 0.3, clampTo: 0...1, generator: &noiseRNG)
        let noisyMSE = mseLoss(noisy, clean).item
        let denoised = ae.reconstructionErrors(noisy, targets: clean)
        let denoisedMSE = denoised.reduce(0, +) / Float(denoised.count)
        #expect(denoisedMSE < noisyMSE / 2, "noisy \(noisyMSE), denoised \(denoisedMSE)")

        // Something unlike the bars (a checkerboard) reconstructs worse: the anomaly score separates them.
        let odd = Tensor(shape: [64, 16], scalars: (0..<(64 * 16)).map { Float(($0 + $0 / 4) % 2) })
        let result = AnomalyDetection.evaluate(autoencoder: ae, threshold: nil, classifier: nil, normal: clean, anomalous: odd)
        #expect(result.autoencoderAUROC > 0.95)

        // The file keeps the widths, the noise level and the threshold; the check flags the odd input.
        let dir = TemporaryDirectory()
        let url = URL(fileURLWithPath: dir.file("ae.safetensors"))
        let threshold = ROC.quantile(ae.reconstructionErrors(data), 0.99)
        try AutoencoderFile.save(ae, dataset: .digits, threshold: threshold, to: url)
        let (loaded, info) = try AutoencoderFile.load(from: url)
        #expect(info.sizes == [16, 8, 4] && info.noise == 0.3 && info.threshold == threshold)
        #expect(loaded.reconstructionErrors(clean) == ae.reconstructionErrors(clean))
        #expect(try DistributionCheck(autoencoder: loaded, info: info, input: odd.slice(axis: 0, 0..<1)).isOutOfDistribution)
        #expect(try !DistributionCheck(autoencoder: loaded, info: info, input: data.slice(axis: 0, 0..<1)).isOutOfDistribution)
    }

    @Test func classifierFilesAreNotAutoencoders() throws {
        let dir = TemporaryDirectory()
        let url = URL(fileURLWithPath: dir.file("mlp.safetensors"))
        var rng = RandomGenerator(seed: 0)
        try ClassifierFile.save(MNISTArchitecture.seed.makeModel(generator: &rng), architecture: .seed, dataset: .digits, to: url)
        #expect(throws: AutoencoderFile.Error.notAnAutoencoder(file: "mlp.safetensors", architecture: "seed")) {
            _ = try AutoencoderFile.load(from: url)
        }
    }
}

@Suite(.synapseRuntime) struct ROCTests {
    @Test func aurocCountsOrderedPairsAndHalfTies() {
        #expect(ROC.areaUnderCurve(normal: [0.1, 0.2], anomalous: [0.3, 0.4]) == 1)
        #expect(ROC.areaUnderCurve(normal: [0.3, 0.4], anomalous: [0.1, 0.2]) == 0)
        // Pairs: (1 vs 0.5) win, (1 vs 2) lose, (1 vs 1) tie, (3 vs all) win ×3 → (1 + 0.5 + 3) / 6.
        #expect(abs(ROC.areaUnderCurve(normal: [0.5, 2, 1], anomalous: [1, 3]) - 4.5 / 6) < 1e-12)
        #expect(ROC.areaUnderCurve(normal: [], anomalous: [1]).isNaN)
    }

    @Test func quantileInterpolatesLikeNumPy() {
        #expect(ROC.quantile([4, 1, 3, 2], 0.5) == 2.5)
        #expect(ROC.quantile([4, 1, 3, 2], 1) == 4)
        #expect(abs(ROC.quantile([0, 10], 0.99) - 9.9) < 1e-5)
        #expect(ROC.fractionAbove([1, 2, 3, 4], threshold: 2.5) == 0.5)
    }
}

@Suite(.synapseRuntime) struct AutoencoderModeTests {
    @Test func evaluationModeSwitchesTheNoiseOff() {
        var rng = RandomGenerator(seed: 0)
        let ae = Autoencoder(sizes: [16, 4], noise: 0.5, generator: &rng)
        let x = AutoencoderTests.bars(8, seed: 1)
        #expect(ae(x).scalars != ae(x).scalars)             // training mode: fresh noise each call
        ae.eval()
        #expect(ae(x).scalars == ae(x).scalars)
        #expect(ae.reconstructionErrors(x) == ae.reconstructionErrors(x))
        #expect(ae.stateDict().keys.allSatisfy { $0.hasPrefix("encoder.") || $0.hasPrefix("decoder.") })
    }
}

@Suite(.synapseRuntime) struct ConvolutionalAutoencoderTests {
    @Test func upsampleRepeatsPixelsAndSumsGradientsBack() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let y = Upsample(scale: 2)(x)
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        var rng = RandomGenerator(seed: 2)
        let weights = Tensor.uniform([1, 1, 4, 4], low: -1, high: 1, generator: &rng)
        let report = GradCheck.check([x]) { v in (Upsample(scale: 2)(v[0]) * weights).sum() }
        #expect(report.passed, "\(report)")
        #expect(Unflatten([1, 2, 2])(Tensor([[1, 2, 3, 4]])).shape == [1, 1, 2, 2])
    }

    @Test func convolutionalAutoencoderKeepsFlatImagesAndRoundTripsThroughItsFile() throws {
        var rng = RandomGenerator(seed: 0)
        let ae = Autoencoder(convolutionalWithNoise: 0.2, generator: &rng)
        let x = Tensor.uniform([2, 784], generator: &rng)
        #expect(ae.encode(x).shape == [2, 8, 7, 7])
        #expect(ae(x).shape == [2, 784])
        #expect(ae.orderedStateDict().map(\.key) == [
            "encoder.1.weight", "encoder.1.bias", "encoder.4.weight", "encoder.4.bias",
            "decoder.1.weight", "decoder.1.bias", "decoder.4.weight", "decoder.4.bias",
        ])
        let dir = TemporaryDirectory()
        let url = URL(fileURLWithPath: dir.file("conv.safetensors"))
        try AutoencoderFile.save(ae, dataset: .digits, threshold: 0.05, to: url)
        let (loaded, info) = try AutoencoderFile.load(from: url)
        #expect(info.kind == .convolutional && info.noise == 0.2)
        #expect(loaded.reconstructionErrors(x) == ae.reconstructionErrors(x))
    }
}

/// NaN never passes for a result: it cannot be ranked (no AUROC) and is never "within the threshold".
@Suite(.synapseRuntime) struct NonFiniteScoreTests {
    @Test func aurocOfNaNScoresIsNaN() {
        #expect(ROC.areaUnderCurve(normal: [0.1, 0.2], anomalous: [0.9, 0.8]) == 1)
        #expect(ROC.areaUnderCurve(normal: [0.1, .nan], anomalous: [0.9, 0.8]).isNaN)
        #expect(ROC.areaUnderCurve(normal: [0.1, 0.2], anomalous: [.nan, .nan]).isNaN)
    }

    @Test func aNaNReconstructionErrorIsNotWithinTheThreshold() throws {
        var rng = RandomGenerator(seed: 3)
        let model = Autoencoder(sizes: [4, 2], generator: &rng)
        let info = AutoencoderFile.Info(kind: .dense, sizes: [4, 2], noise: 0, dataset: .digits, threshold: 0.5, metadata: [:])
        let check = try DistributionCheck(autoencoder: model, info: info, input: Tensor([Float.nan, 0, 0, 0]))
        #expect(check.error.isNaN)
        #expect(check.isOutOfDistribution)
        #expect(check.description.contains("NaN"))
    }
}

