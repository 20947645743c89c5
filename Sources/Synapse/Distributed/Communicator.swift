/// The collective operations data-parallel training needs, over whatever carries them between the processes of a
/// job: Open MPI (`MPICommunicator` in the SynapseMPI module, built with the `MPI` trait) or nothing at all
/// (`SingleProcessCommunicator`). Every rank must call the same collectives in the same order, as MPI requires.
///
/// The library itself never starts or ends MPI; the `synapse` command does, and hands the communicator to the jobs.
///
/// ```swift
/// let world: Communicator = SingleProcessCommunicator()      // or MPICommunicator() under mpirun
/// var gradient: [Float] = …
/// try gradient.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }   // every rank gets the sum
/// ```
public protocol Communicator: AnyObject {
    /// This process's index, 0..<size; rank 0 prints, writes checkpoints and reports.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }

    /// Replaces `values` on every rank by their sum over all ranks.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError)
    /// `allreduceSum` for Double (counts and loss sums that must not round).
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DistributedError)
    /// Starts summing `values` over the ranks in place and returns at once (`MPI_Iallreduce`): the memory must stay
    /// valid and untouched until `waitAll()` returns.
    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError)
    /// Lets started operations advance without blocking (MPI progresses only inside its calls).
    func progress() throws(DistributedError)
    /// Blocks until every started operation has finished.
    func waitAll() throws(DistributedError)
    /// Copies `values` from rank `root` to every rank.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws(DistributedError)
    /// Every rank's `value`, in rank order.
    func allgather(_ value: UInt64) throws(DistributedError) -> [UInt64]
    /// Returns when every rank has reached it.
    func barrier() throws(DistributedError)
    /// Ends every process of the job (MPI_Abort) after this rank has said why: for a rank that cannot go on, so the
    /// others are not left waiting for it.
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// Whether this rank is the one that prints and writes (rank 0).
    public var isLead: Bool { rank == 0 }

    /// Sums a few scalars over the ranks.
    public func allreduceSum(_ values: [Double]) throws(DistributedError) -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { (buffer) throws(DistributedError) in try allreduceSum(buffer) }
        return copy
    }

    /// Throws unless every rank passed the same `value`; `what` names it in the message ("the resume position").
    public func requireAgreement(on value: UInt64, _ what: String, describe: (UInt64) -> String = { String($0) })
        throws(DistributedError) {
        let all = try allgather(value)
        guard let differing = all.firstIndex(where: { $0 != all[0] }) else { return }
        throw .disagreement("\(what) differs between ranks: rank 0 has \(describe(all[0])), rank \(differing) has \(describe(all[differing]))")
    }
}

/// The communicator of a job of one process: every collective is the identity (a sum over one rank is the value).
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DistributedError) {}
    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {}
    public func progress() throws(DistributedError) {}
    public func waitAll() throws(DistributedError) {}
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws(DistributedError) {
        precondition(root == 0, "SingleProcessCommunicator.broadcast: root \(root) in a job of 1 process")
    }
    public func allgather(_ value: UInt64) throws(DistributedError) -> [UInt64] { [value] }
    public func barrier() throws(DistributedError) {}
    public func abort(code: Int32) -> Never { exit(code) }
}

/// What can go wrong between the processes of a job.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code.
    case mpi(call: String, code: Int32, message: String)
    /// A collective did not finish in time: another rank is stuck, or gone without MPI noticing.
    case timeout(operation: String, seconds: Double)
    /// The ranks do not hold the same state (a checkpoint only some of them can see, different options).
    case disagreement(String)
    /// `--distributed` without a launcher, or without MPI in the build.
    case notLaunched(String)

    public var description: String {
        switch self {
        case let .mpi(call, code, message): return "\(call) failed (error \(code)): \(message)"
        case let .timeout(operation, seconds):
            return "\(operation) did not complete within \(Int(seconds)) s: another rank is stuck or has died (raise SYNAPSE_COLLECTIVE_TIMEOUT if a step really takes that long)"
        case let .disagreement(text): return text
        case let .notLaunched(text): return text
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
