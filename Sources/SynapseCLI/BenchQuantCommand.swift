import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

struct BenchQuant: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quant",
        abstract: "int8 inference (QuantizedLinear) against Float32 (Linear on sgemm): time per forward pass and speed-up.")

    @Option(help: "Comma-separated batch sizes.")
    var batchSizes: String = "1,64"

    @Flag(inversion: .prefixedNo, help: "Include a 4096→4096 layer (64 MB of Float32 weights, memory-bound).")
    var large = true

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() throws {
        let batches = try parseSizes(batchSizes)
        warnIfDebug()
        let results = QuantizationBenchmark.run(batchSizes: batches, includeLarge: large)
        if !json { print("case                 batch   float32 µs   int8 µs   speed-up   (sgemv µs)") }
        for r in results {
            if json {
                print("{\"impl\": \"synapse\", \"case\": \"\(r.name)\", \"batch\": \(r.batchSize), \"float32_us\": \(String(format: "%.2f", r.floatSeconds * 1e6)), \"int8_us\": \(String(format: "%.2f", r.int8Seconds * 1e6)), \"speedup\": \(String(format: "%.2f", r.speedup))\(r.sgemvSeconds.map { ", \"sgemv_us\": " + String(format: "%.2f", $0 * 1e6) } ?? "")}")
            } else {
                print(String(format: "%-20@ %6d %12.2f %9.2f %9.2f×", r.name as NSString, r.batchSize,
                             r.floatSeconds * 1e6, r.int8Seconds * 1e6, r.speedup)
                      + (r.sgemvSeconds.map { String(format: "   %9.2f", $0 * 1e6) } ?? ""))
            }
        }
    }
}
