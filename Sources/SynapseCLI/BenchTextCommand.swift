import ArgumentParser
import Foundation
import Synapse

struct TextBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Train the char-lstm workload of shared/bench/WORKLOADS.md; print ms/iteration and the losses.")

    @Option(help: "Workload: \(TextBenchmark.Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workload: TextBenchmark.Workload = .charLSTM

    @Option(help: "Text file (default: ../shared/data/tinyshakespeare/input.txt).")
    var data: String?

    @Option(help: "Training iterations (timed).")
    var iterations: Int = 1000

    @Flag(help: "Print one JSON line (as the PyTorch reference does).")
    var json = false

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive, got \(iterations)") }
    }

    func run() throws {
        warnIfDebug()
        let url = data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile()
        let text = try TextDataset.readText(url)
        let r = try TextBenchmark.run(workload, text: text, iterations: iterations, source: url.path)
        if json {
            print("{\"workload\": \"\(r.workload.rawValue)\", \"impl\": \"synapse\", \"iters\": \(r.iterations), \"params\": \(r.parameters), \"ms_per_iter\": \(String(format: "%.2f", r.millisecondsPerIteration)), \"train_loss\": \(String(format: "%.4f", r.trainLoss)), \"val_loss\": \(String(format: "%.4f", r.validationLoss))}")
        } else {
            print(String(format: "%@: %d iterations, %.2f ms/iteration, train loss %.4f, validation loss %.4f (%d parameters)",
                         r.workload.rawValue, r.iterations, r.millisecondsPerIteration, r.trainLoss, r.validationLoss, r.parameters))
        }
    }
}
