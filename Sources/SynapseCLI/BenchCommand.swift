import ArgumentParser
import Foundation
import Synapse

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Synapse's speed (build with -c release). PyTorch/NumPy sides: scripts/bench_*.py.",
        subcommands: [SGEMM.self, Elementwise.self, CNN.self])

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

func parseSizes(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let sizes = parts.compactMap { Int($0) }
    guard !parts.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("sizes must be positive integers separated by commas, got '\(text)'")
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
