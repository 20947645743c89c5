import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Synapse's speed (build with -c release). PyTorch/NumPy sides: scripts/bench_*.py.",
        subcommands: [SGEMM.self, Elementwise.self, MNISTBench.self, CNN.self, TextBench.self, EmbedBench.self,
                      BenchQuant.self, LLMBench.self, FinetuneBench.self, RLBench.self, DDPBench.self])

    struct SGEMM: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Square Float32 matrix products on BLAS, in GFLOP/s.")
        @Option(help: "Comma-separated matrix sizes.") var sizes: String = "256,512,1024,2048"
        @Flag(help: "Print JSON lines instead of a table.") var json = false

        func run() throws {
            let parsed = try parseSizes(sizes)
            warnIfDebug()
            let results = KernelBenchmarks.sgemm(sizes: parsed)
            printResults(results, json: json)
        }
    }

    struct Elementwise: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Elementwise ops and a reduction over 16M floats, in GB/s.")
        @Option(help: "Number of elements.") var count: Int = 1 << 24
        @Flag(help: "Print JSON lines instead of a table.") var json = false

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        }

        func run() throws {
            warnIfDebug()
            printResults(KernelBenchmarks.elementwise(count: count), json: json)
        }
    }
}

struct MNISTBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist",
        abstract: "Train an MNIST workload of shared/bench/WORKLOADS.md; print samples/s and test accuracy.")

    @Option(help: "Workload: \(MNISTBenchmark.Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workload: MNISTBenchmark.Workload = .mlp

    @Option(help: "Epochs to train (throughput is measured over all of them).")
    var epochs: Int = 1

    @Option(help: "Directory with the MNIST IDX files (default: datasets/mnist).")
    var data: String?

    @Flag(help: "Print one JSON line (as the PyTorch reference does).")
    var json = false

    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
    }

    func run() throws {
        warnIfDebug()
        precision.apply()
        let mnist = try MNIST(directory: data ?? MNIST.defaultDirectory())
        let r = MNISTBenchmark.run(workload, epochs: epochs, data: mnist)
        if json {
            print("{\"workload\": \"\(r.workload.rawValue)\", \"impl\": \"synapse\", \"precision\": \"\(precision.precision.rawValue)\", \"epochs\": \(r.epochs), \"train_s\": \(String(format: "%.3f", r.trainSeconds)), \"samples_per_s\": \(String(format: "%.1f", r.samplesPerSecond)), \"test_acc\": \(String(format: "%.4f", r.testAccuracy))}")
        } else {
            print(String(format: "%@: %d epoch(s) in %.2f s, %.0f samples/s, test accuracy %.2f%%",
                         r.workload.rawValue, r.epochs, r.trainSeconds, r.samplesPerSecond, 100 * r.testAccuracy))
        }
    }
}

extension MNISTBenchmark.Workload: ExpressibleByArgument {}

func parseSizes(_ text: String, limit: Int = OptionLimits.width) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let sizes = parts.compactMap { Int($0) }
    guard !parts.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ (1...limit).contains($0) }) else {
        throw ValidationError("sizes must be whole numbers from 1 to \(limit) separated by commas, got '\(text)'")
    }
    return sizes
}

func warnIfDebug() {
    #if DEBUG
    FileHandle.standardError.write(Data("note: this is a debug build; measure with `swift run -c release synapse bench ...`\n".utf8))
    #endif
}

func printResults(_ results: [KernelBenchmarks.Result], json: Bool) {
    for r in results {
        if json {
            print("{\"impl\": \"synapse\", \"op\": \"\(r.name)\", \"size\": \(r.size), \"ms\": \(String(format: "%.3f", r.seconds * 1000)), \"rate\": \(String(format: "%.2f", r.rate)), \"unit\": \"\(r.unit)\"}")
        } else {
            print(String(format: "%-8@ %9d  %9.3f ms  %8.2f %@", r.name as NSString, r.size, r.seconds * 1000, r.rate, r.unit as NSString))
        }
    }
}
