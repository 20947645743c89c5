import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

/// `synapse bench ddp`: a workload trained data-parallel, for the scaling and PyTorch-DDP figures of docs/BENCHMARKS.md.
struct DDPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddp",
        abstract: "Train mlp or char-gpt with the global batch of WORKLOADS.md cut among MPI ranks; print samples/s and communication wait.",
        discussion: """
            One process: synapse bench ddp --workload mlp. Two: mpirun -np 2 synapse bench ddp --workload mlp --distributed \
            (each rank takes half of every batch; one thread per rank on a 2-core machine). scripts/bench_ddp.py runs \
            both beside PyTorch's DDP on Gloo.
            """)

    @Option(help: "Workload: mlp (one epoch of MNIST, batch 128) or char-gpt (batch 12).")
    var workload: DistributedBenchmark.Workload = .mlp
    @Option(help: "mlp: epochs.") var epochs: Int = 1
    @Option(help: "char-gpt: iterations.") var iterations: Int = 300
    @Option(help: "Directory with the MNIST IDX files (default: datasets/mnist).") var data: String?
    @Option(help: "Gradient bucket size in MB (PyTorch's DDP: 25).") var bucketMb: Double = 25
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var parallel: DistributedOptions
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        try OptionLimits.check("--epochs", epochs, limit: OptionLimits.epochs)
        try OptionLimits.check("--iterations", iterations, limit: OptionLimits.iterations)
        guard bucketMb >= 0.001 && bucketMb <= 1024 else { throw ValidationError("--bucket-mb must be between 0.001 and 1024, got \(bucketMb)") }
    }

    func run() throws {
        warnIfDebug()
        precision.apply()
        let world = try parallel.start()
        try runDistributed(world) {
            if let world, workload.globalBatch % world.size != 0 {
                throw CLIError("\(world.size) ranks do not divide \(workload.rawValue)'s batch of \(workload.globalBatch)")
            }
            let mnist = workload == .mlp ? try MNIST(directory: data ?? MNIST.defaultDirectory()) : nil
            let text = workload == .charGPT ? try TextDataset.readText(defaultTextFile()) : nil
            let r = try DistributedBenchmark.run(workload, communicator: world, mnist: mnist, text: text, epochs: epochs,
                                                 iterations: iterations, bucketBytes: Int(bucketMb * 1_048_576))
            if json {
                print("{\"workload\": \"\(r.workload.rawValue)\", \"impl\": \"synapse\", \"ranks\": \(r.ranks), \"threads\": \(Runtime.cores), \"steps\": \(r.steps), \"train_s\": \(String(format: "%.3f", r.trainSeconds)), \"samples_per_s\": \(String(format: "%.1f", r.samplesPerSecond)), \"wait_ms_per_step\": \(String(format: "%.4f", r.waitMillisecondsPerStep)), \"loss\": \(String(format: "%.4f", r.loss))}")
            } else {
                print(String(format: "%@: %d rank(s) × %d thread(s), %d steps in %.2f s, %.0f samples/s, %.3f ms/step waiting on gradients, loss %.4f",
                             r.workload.rawValue, r.ranks, Runtime.cores, r.steps, r.trainSeconds, r.samplesPerSecond,
                             r.waitMillisecondsPerStep, r.loss))
            }
        }
    }
}

extension DistributedBenchmark.Workload: ExpressibleByArgument {}
