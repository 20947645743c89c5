import ArgumentParser
import Foundation
import Synapse

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Post-training quantization of a saved classifier: FP16, BF16 or int8 weights, with size and accuracy before/after.",
        discussion: """
            int8 layers run in integers (int8 × int8 → int32, one rescale per output). Their inputs are quantized per \
            row at run time, or with a fixed range calibrated on --calibrate training batches (--observer minmax or \
            percentile). `synapse eval FILE` runs the result. See docs/quantization.md for the file layout.
            """)

    @Argument(help: "A model.safetensors written by `synapse train mnist`.")
    var model: String

    @Option(help: "fp16, bf16, int8-absmax or int8-zeropoint.")
    var scheme: QuantizationMethod

    @Flag(help: "One int8 scale (and zero point) per output channel instead of one per tensor.")
    var perChannel = false

    @Option(help: "Where to write the quantized model.")
    var out: String

    @Option(help: "Calibrate static int8 activation ranges on this many training batches of 128 (0: dynamic, per row at run time).")
    var calibrate: Int = 0

    @Option(help: "Calibration range: minmax or percentile.")
    var observer: ObserverName = .minmax

    @Option(help: "Percentile for --observer percentile (the range keeps this share of values; the rest is clipped).")
    var percentile: Float = 99.99

    @Option(help: "Directory with the IDX files (default: the dataset the model was trained on, in datasets/).")
    var data: String?

    func validate() throws {
        guard calibrate >= 0 else { throw ValidationError("--calibrate must be 0 or more batches, got \(calibrate)") }
        guard percentile > 50 && percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100], got \(percentile)") }
        if calibrate > 0 && scheme.int8Scheme == nil {
            throw ValidationError("--calibrate applies to int8 schemes only (fp16/bf16 compute in Float32)")
        }
    }

    func run() throws {
        try AtomicFile.checkWritable(file: URL(fileURLWithPath: out))
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("no model at \(model); train one with `synapse train mnist --out DIR`")
        }
        let (network, info) = try ClassifierFile.load(from: url)
        guard info.metadata[QuantizedModelFile.methodKey] == nil else {
            throw CLIError("\(model) is already quantized (\(info.metadata[QuantizedModelFile.methodKey]!)); start from the Float32 model")
        }
        let directory = try data ?? MNIST.defaultDirectory(variant: info.dataset)
        let test = try MNIST.load(.test, from: directory)
        var calibration: [Tensor] = []
        if calibrate > 0 {
            let train = try MNIST.load(.train, from: directory)
            let batches = min(calibrate, train.count / 128)
            calibration = (0..<batches).map { info.architecture.inputs(train.images.slice(axis: 0, ($0 * 128)..<(($0 + 1) * 128))) }
        }
        let method: ActivationObserver.Method = observer == .minmax ? .minMax : .percentile(percentile)
        let ptq = PostTrainingQuantization(method: scheme, granularity: perChannel ? .perChannel : .perTensor)
        let quantized = ptq.quantize(network, calibration: calibration, observer: method)

        let outURL = URL(fileURLWithPath: out)
        try ClassifierFile.save(quantized, architecture: info.architecture, dataset: info.dataset,
                                extraMetadata: ["synapse.quantized_from": url.lastPathComponent], to: outURL)

        let before = try SafeTensorsFile(contentsOf: url), after = try SafeTensorsFile(contentsOf: outURL)
        let images = info.architecture.inputs(test.images)     // [N, 1, 28, 28] for the CNN
        let accuracyBefore = accuracy(network, images, test.labels), accuracyAfter = accuracy(quantized.model, images, test.labels)
        print("scheme: \(scheme)\(scheme.int8Scheme != nil ? " \(ptq.granularity)" : ""), activations: \(quantized.activations)"
              + (calibration.isEmpty ? "" : " (\(calibration.count) calibration batches, \(method))"))
        print("")
        print("layer  shape        max error   mean error   SQNR")
        for layer in quantized.layers {
            let shape = layer.shape.map(String.init).joined(separator: "×").padding(toLength: 11, withPad: " ", startingAt: 0)
            print(layer.name.padding(toLength: 6, withPad: " ", startingAt: 0) + " " + shape + String(format: " %10.3g %12.3g %7.1f dB",
                         layer.error.maxAbsolute, layer.error.meanAbsolute, layer.error.sqnrDecibels))
        }
        print("")
        let weightsBefore = tensorBytes(before), weightsAfter = tensorBytes(after)
        print(String(format: "weights: %@ → %@ (%.2f× smaller)", bytes(weightsBefore), bytes(weightsAfter),
                     Double(weightsBefore) / Double(max(weightsAfter, 1))))
        let fileBefore = fileSize(url), fileAfter = fileSize(outURL)
        print(String(format: "file:    %@ → %@ (%.2f× smaller)", bytes(fileBefore), bytes(fileAfter),
                     Double(fileBefore) / Double(max(fileAfter, 1))))
        print(String(format: "test accuracy: %.2f%% → %.2f%% (%+.2f points)", 100 * accuracyBefore, 100 * accuracyAfter,
                     100 * (accuracyAfter - accuracyBefore)))
        print("wrote \(relative(outURL.path))")
    }

    private func accuracy(_ model: Module, _ images: Tensor, _ labels: [Int]) -> Double {
        ClassificationMetrics(predictions: model.predictClasses(images), labels: labels, classCount: MNIST.classCount).accuracy
    }

    private func tensorBytes(_ file: SafeTensorsFile) -> Int { file.tensors.values.reduce(0) { $0 + $1.bytes.count } }

    private func fileSize(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    private func bytes(_ count: Int) -> String {
        count >= 10_000 ? String(format: "%.1f KB", Double(count) / 1000) : "\(count) B"
    }
}

enum ObserverName: String, ExpressibleByArgument, CaseIterable { case minmax, percentile }

extension QuantizationMethod: ExpressibleByArgument {}
