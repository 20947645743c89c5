import ArgumentParser
import Foundation
import Synapse

/// `--checkpoint-every` and `--resume` for the train commands built on `Trainer`.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Write --out/checkpoint.safetensors after every N epochs (and when stopped by Ctrl-C or SIGTERM).")
    var checkpointEvery: Int = 1

    @Flag(help: "Continue the run whose checkpoint is in --out (same settings), ending as if it had never stopped.")
    var resume = false

    func validate() throws {
        if checkpointEvery <= 0 { throw ValidationError("--checkpoint-every must be a positive number, got \(checkpointEvery)") }
    }

    /// The policy for `out`; from here on SIGINT/SIGTERM stop training after the step in progress.
    func checkpointing(in out: String) throws -> Checkpointing {
        try Self.checkpointing(in: out, every: checkpointEvery, resume: resume)
    }

    static func checkpointing(in out: String, every: Int, resume: Bool) throws -> Checkpointing {
        let policy = Checkpointing(directory: URL(fileURLWithPath: out), everyEpochs: every, resume: resume)
        if resume && !FileManager.default.fileExists(atPath: policy.url.path) {
            throw CLIError("--resume: no checkpoint at \(policy.url.path); run without --resume to start afresh")
        }
        Runtime.stopTrainingOnInterrupt()
        return policy
    }
}

/// Runs a training body; an interrupt prints where the checkpoint is and exits with 130, as a shell expects after
/// Ctrl-C.
func exitingOnInterrupt<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as TrainingError {
        guard case .interrupted = error else { throw error }
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(130)
    }
}
