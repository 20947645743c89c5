import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

struct TextBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Train the char-lstm or char-gpt workload of shared/bench/WORKLOADS.md; print ms/iteration and the losses.")

    @Option(help: "Workload: \(TextBenchmark.Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workload: TextBenchmark.Workload = .charLSTM

    @Option(help: "Text file (default: ../shared/data/tinyshakespeare/input.txt).")
    var data: String?

    @Option(help: "Training iterations (timed; default 1000 for char-lstm, 2000 for char-gpt, as the PyTorch scripts).")
    var iterations: Int?

    @Option(help: "Random seed for initialisation and batches (1337, as the PyTorch scripts).")
    var seed: UInt64 = 1337

    @Option(help: "Random batches of each split in the final evaluation (20, as the PyTorch scripts' --eval-iters).")
    var evalBatches = 20

    @Flag(help: "Print one JSON line (as the PyTorch reference does).")
    var json = false

    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        if let iterations, iterations <= 0 { throw ValidationError("--iterations must be positive, got \(iterations)") }
        if evalBatches <= 0 { throw ValidationError("--eval-batches must be positive, got \(evalBatches)") }
    }

    func run() throws {
        warnIfDebug()
        precision.apply()
        let url = data.map { URL(fileURLWithPath: $0) } ?? defaultTextFile()
        let text = try TextDataset.readText(url)
        let r = try TextBenchmark.run(workload, text: text, iterations: iterations ?? workload.defaultIterations,
                                       seed: seed, evaluationBatches: evalBatches, source: url.path)
        if json {
            print("{\"workload\": \"\(r.workload.rawValue)\", \"impl\": \"synapse\", \"precision\": \"\(precision.precision.rawValue)\", \"iters\": \(r.iterations), \"params\": \(r.parameters), \"ms_per_iter\": \(String(format: "%.2f", r.millisecondsPerIteration)), \"train_loss\": \(String(format: "%.4f", r.trainLoss)), \"val_loss\": \(String(format: "%.4f", r.validationLoss))}")
        } else {
            print(String(format: "%@: %d iterations, %.2f ms/iteration, train loss %.4f, validation loss %.4f (%d parameters)",
                         r.workload.rawValue, r.iterations, r.millisecondsPerIteration, r.trainLoss, r.validationLoss, r.parameters))
        }
    }
}
