import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

extension BenchCommand {
    struct CNN: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cnn",
            abstract: "Per-layer forward and forward+backward times of the MNIST cnn workload (PyTorch side: scripts/bench_conv_torch.py).")
        @Option(help: "Images per batch.") var batch: Int = 64
        @Option(help: "Minimum seconds of timing per layer.") var seconds: Double = 0.5
        @Flag(help: "Print JSON lines instead of a table.") var json = false

        func validate() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
            guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        }

        func run() throws {
            warnIfDebug()
            for layer in ConvBenchmarks.mnistCNN(batch: batch, minimumSeconds: seconds) {
                let (fwd, both) = (layer.forwardSeconds * 1000, layer.forwardBackwardSeconds * 1000)
                if json {
                    print("{\"impl\": \"synapse\", \"layer\": \"\(layer.name)\", \"batch\": \(batch), \"forward_ms\": \(String(format: "%.3f", fwd)), \"forward_backward_ms\": \(String(format: "%.3f", both))}")
                } else {
                    let shape = layer.outputShape.map(String.init).joined(separator: "×")
                    print(String(format: "%-20@ %-14@ fwd %8.3f ms   fwd+bwd %8.3f ms", layer.name as NSString, shape as NSString, fwd, both))
                }
            }
        }
    }
}
