import ArgumentParser
import Foundation
import Synapse
#if MPI
import SynapseMPI
#endif

/// `--distributed` for the training commands: one process per rank under `mpirun`, data-parallel over MPI.
struct DistributedOptions: ParsableArguments {
    @Flag(help: "Data-parallel training over MPI, one process per rank: mpirun -np 2 synapse train … --distributed. --batch-size is per rank; rank 0 prints and writes (docs/distributed.md).")
    var distributed = false

    /// Starts MPI and returns this process's communicator (nil without `--distributed`). Threads per rank default to
    /// the cores divided among the ranks on this host (`SYNAPSE_THREADS` overrides). Ranks other than 0 stop
    /// printing to standard output; errors still reach standard error, prefixed with the rank.
    func start() throws -> Communicator? {
        guard distributed else { return nil }
        #if MPI
        let world = try MPICommunicator()
        if ProcessInfo.processInfo.environment["SYNAPSE_THREADS"] == nil {
            Runtime.limitThreads(Swift.max(1, Runtime.cores / (MPICommunicator.localSize ?? 1)))
        }
        if world.rank != 0 {
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
        }
        return world
        #else
        throw CLIError("--distributed needs a build with MPI: install Open MPI (apt-get install libopenmpi-dev openmpi-bin) and build with `swift build -c release --traits MPI` (scripts/run does this by itself once Open MPI is installed), then launch with mpirun -np 2 synapse … --distributed")
        #endif
    }
}

/// Runs a training command's body on one rank of a distributed job (or plainly without one). A rank that fails
/// says so on standard error, naming itself, and ends the whole job (MPI_Abort), so the other ranks are not left
/// waiting for it; an interrupt (which the ranks agree on) ends every rank normally with 130.
func runDistributed<T>(_ world: Communicator?, _ body: () throws -> T) throws -> T {
    guard let world, world.size > 1 else {
        defer { finalize(world) }
        return try body()
    }
    do {
        let result = try body()
        finalize(world)
        return result
    } catch let error as TrainingError {
        if case .interrupted = error {
            finalize(world)
            throw error
        }
        failRank(world, error)
    } catch let exit as ExitCode {
        finalize(world)
        throw exit
    } catch {
        failRank(world, error)
    }
}

private func failRank(_ world: Communicator, _ error: Error) -> Never {
    FileHandle.standardError.write(Data("synapse: rank \(world.rank) of \(world.size) failed: \(error); ending the job\n".utf8))
    world.abort(code: 1)
}

private func finalize(_ world: Communicator?) {
    #if MPI
    (world as? MPICommunicator)?.finalize()
    #endif
}
