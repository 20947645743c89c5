import ArgumentParser
import Foundation
import Synapse

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify one image (PNG or PGM, any size) with a saved model.",
        discussion: """
            The image is turned into MNIST's form first: grey, white ink on black (a light background is inverted), \
            the ink fitted into 20×20 and centred by mass in 28×28.
            """)

    @Argument(help: "A model.safetensors written by `synapse train mnist`.")
    var model: String

    @Argument(help: "The image: .png or .pgm.")
    var image: String

    @Option(help: "An autoencoder model (`synapse train autoencoder`): warn when the image looks out of distribution.")
    var check: String?

    func run() throws {
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("no model at \(model); train one with `synapse train mnist --out DIR`")
        }
        let (network, info) = try ClassifierFile.load(from: url)
        let picture = try GrayImage(contentsOfFile: image).preparedLikeMNIST()
        let probabilities = noGrad { network(info.architecture.inputs(picture.tensor(batched: true).reshaped(1, 784))).softmax(axis: 1) }.scalars
        guard probabilities.allSatisfy(\.isFinite) else {
            throw CLIError("\(model): the network answered NaN for this image; the model is damaged, retrain it")
        }
        let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
        print("prediction: \(info.classNames[best]) (\(String(format: "%.1f%%", 100 * probabilities[best])))")
        for (c, p) in probabilities.enumerated() {
            let bar = String(repeating: "█", count: Int((p * 40).rounded()))
            print(String(format: "%@ %6.2f%% ", info.classNames[c].padding(toLength: 12, withPad: " ", startingAt: 0), 100 * p) + bar)
        }
        if let check {
            let (autoencoder, aeInfo) = try AutoencoderFile.load(from: URL(fileURLWithPath: check))
            print(try DistributionCheck(autoencoder: autoencoder, info: aeInfo, input: picture.tensor(batched: true), name: check))
        }
    }
}
