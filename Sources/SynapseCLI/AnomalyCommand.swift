import ArgumentParser
import Foundation
import Synapse

struct AnomalyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anomaly",
        abstract: "Score how well an autoencoder's reconstruction error tells one dataset's test images from another's.",
        discussion: """
            Prints the AUROC of separating the --test images (anomalous) from the --normal ones by reconstruction \
            error, and, with --classifier, the AUROC of the classifier's maximum softmax probability on the same \
            task (a classifier answers confidently even for inputs unlike anything it was trained on). \
            Fashion-MNIST comes from `apt-get install dataset-fashion-mnist`.
            """)

    @Argument(help: "An autoencoder model.safetensors written by `synapse train autoencoder`.")
    var model: String

    @Option(help: "The in-distribution dataset: mnist or fashion.") var normal: DatasetName = .mnist
    @Option(help: "The out-of-distribution dataset: mnist or fashion.") var test: DatasetName = .fashion
    @Option(help: "A classifier model.safetensors from `synapse train mnist`, to compare its maximum softmax probability.")
    var classifier: String?
    @Option(help: "Directory of the normal dataset's IDX files (default: its usual place).") var normalDir: String?
    @Option(help: "Directory of the test dataset's IDX files (default: its usual place).") var testDir: String?
    @Option(help: "Write the error histograms of both sets to this SVG file.") var histogram: String?

    func validate() throws {
        if normal == test && normalDir == nil && testDir == nil {
            throw ValidationError("--normal and --test are the same dataset (\(normal.rawValue)); pick two different ones")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("no model at \(model); train one with `synapse train autoencoder --out DIR`")
        }
        let (autoencoder, info) = try AutoencoderFile.load(from: URL(fileURLWithPath: model))
        var classifierModel: Module?
        if let classifier {
            guard FileManager.default.fileExists(atPath: classifier) else {
                throw ValidationError("no classifier at \(classifier); train one with `synapse train mnist --out DIR`")
            }
            classifierModel = try ClassifierFile.load(from: URL(fileURLWithPath: classifier)).model
        }
        let normalImages = try MNIST.load(.test, from: normalDir ?? defaultDataDirectory(normal.variant)).images
        let testImages = try MNIST.load(.test, from: testDir ?? defaultDataDirectory(test.variant)).images
        print("autoencoder: \(info.kind == .convolutional ? "convolutional" : info.sizes.map(String.init).joined(separator: "-")) trained on \(info.dataset.rawValue)" +
              (info.noise > 0 ? " (denoising, σ = \(info.noise))" : ""))
        print("normal: \(normalImages.shape[0]) \(normal.rawValue) test images; anomalous: \(testImages.shape[0]) \(test.rawValue) test images")
        let result = AnomalyDetection.evaluate(autoencoder: autoencoder, threshold: info.threshold, classifier: classifierModel,
                                               normal: normalImages, anomalous: testImages)
        guard !result.autoencoderAUROC.isNaN else {
            throw CLIError("the reconstruction errors contain NaN, so they cannot be ranked; the autoencoder or the images are damaged")
        }
        let median = { (v: [Float]) in ROC.quantile(v, 0.5) }
        print(String(format: "reconstruction error (median): normal %.5f, anomalous %.5f", median(result.normalErrors),
                     median(result.anomalousErrors)))
        print(String(format: "AUROC, autoencoder reconstruction error:       %.4f", result.autoencoderAUROC))
        if let auroc = result.classifierAUROC {
            print(String(format: "AUROC, classifier max softmax probability:     %.4f", auroc))
            if let n = result.normalUncertainty, let a = result.anomalousUncertainty {
                let confident = { (v: [Float]) in Double(v.filter { $0 < 0.01 }.count) / Double(Swift.max(v.count, 1)) }
                print(String(format: "classifier ≥ 99%% confident on %.1f%% of the normal and %.1f%% of the anomalous images",
                             100 * confident(n), 100 * confident(a)))
            }
        }
        if let threshold = result.threshold, let n = result.normalFlagged, let a = result.anomalousFlagged {
            print(String(format: "stored threshold %.5f flags %.1f%% of the normal and %.1f%% of the anomalous images",
                         threshold, 100 * n, 100 * a))
        }
        if let histogram {
            try result.errorHistogram(title: "Reconstruction error: \(normal.rawValue) (normal) vs \(test.rawValue)",
                                      normalName: normal.rawValue, anomalousName: test.rawValue).write(to: histogram)
            print("wrote \(histogram)")
        }
    }
}
