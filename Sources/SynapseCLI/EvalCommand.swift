import ArgumentParser
import Foundation
import Synapse

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a saved classifier on its test set: accuracy, per-class precision and recall, confusion matrix.")

    @Argument(help: "A model.safetensors written by `synapse train mnist`.")
    var model: String

    @Option(help: "Directory with the IDX files (default: the dataset the model was trained on, in datasets/).")
    var data: String?

    func run() throws {
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("no model at \(model); train one with `synapse train mnist --out DIR`")
        }
        let (network, info) = try ClassifierFile.load(from: url)
        let directory = try data ?? MNIST.defaultDirectory(variant: info.dataset)
        let test = try MNIST.load(.test, from: directory)
        let predictions = network.predictClasses(info.architecture.inputs(test.images))
        let metrics = ClassificationMetrics(predictions: predictions, labels: test.labels, classCount: MNIST.classCount)
        print("model: \(info.architecture) trained on \(info.dataset.rawValue), \(network.parameterCount) parameters")
        print(String(format: "test accuracy: %.2f%% (%d/%d)", 100 * metrics.accuracy, metrics.correct, metrics.total))
        print("")
        print("class          precision  recall")
        for c in 0..<MNIST.classCount {
            let name = info.classNames[c].padding(toLength: 14, withPad: " ", startingAt: 0)
            print(String(format: "%@ %8.3f %8.3f", name, metrics.precision[c], metrics.recall[c]))
        }
        print("")
        print("confusion matrix (rows: true class, columns: predicted)")
        print("      " + (0..<MNIST.classCount).map { String(format: "%5d", $0) }.joined())
        for (c, row) in metrics.confusion.enumerated() {
            print(String(format: "%5d ", c) + row.map { String(format: "%5d", $0) }.joined())
        }
    }
}
