import CMPI
import Synapse

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `Communicator` over MPI's world communicator (Open MPI here; any MPI whose `mpi.h` the shim sees).
///
/// Every collective is issued non-blocking and then polled with a deadline (`Runtime.collectiveTimeout`), so a rank
/// whose peer hangs ends with a message instead of waiting forever; a peer that dies is noticed by `mpirun`, which
/// ends the job. Errors come back as codes (MPI_ERRORS_RETURN), not as MPI's own abort.
///
/// One per process: `init` starts MPI, `finalize` ends it. MPI is called from one thread at a time
/// (MPI_THREAD_SERIALIZED): the training loop's.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm?
    private var requests: [MPI_Request?] = []
    private var finalized = false

    /// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun): the environment variables the
    /// launchers set.
    public static var isLaunched: Bool {
        let names: [String] = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"]
        return names.contains { getenv($0) != nil }
    }

    /// The number of ranks on this host (Open MPI tells it; otherwise nil).
    public static var localSize: Int? { getenv("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap { Int(String(cString: $0)) } }

    /// Starts MPI. Throws `.notLaunched` outside a launcher (MPI would otherwise start a job of one).
    public init() throws(DistributedError) {
        guard Self.isLaunched else {
            throw .notLaunched("--distributed runs under an MPI launcher: mpirun -np 2 synapse … --distributed (as root add --allow-run-as-root; on a cluster see docs/distributed.md)")
        }
        var provided: Int32 = 0
        try Self.check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
        world = synapse_mpi_comm_world()
        MPI_Comm_set_errhandler(world, synapse_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(world, &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(world, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    /// Ends MPI (once); call it when the job is done, on every rank.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {
        try startAllreduceSum(values)
        try waitAll(operation: "allreduce")
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(DistributedError) {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try startSum(base, count: values.count, type: synapse_mpi_double())
        try waitAll(operation: "allreduce")
    }

    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(DistributedError) {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try startSum(base, count: values.count, type: synapse_mpi_float())
    }

    /// Starts an in-place sum of `count` values of `type` at `base` over the ranks.
    private func startSum(_ base: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype?) throws(DistributedError) {
        var request = synapse_mpi_request_null()
        try Self.check(MPI_Iallreduce(synapse_mpi_in_place(), base, try Self.count(count), type, synapse_mpi_sum(), world,
                                      &request), "MPI_Iallreduce")
        requests.append(request)
    }

    public func progress() throws(DistributedError) {
        guard !requests.isEmpty else { return }
        var flag: Int32 = 0
        let count = Int32(requests.count)
        try Self.check(requests.withUnsafeMutableBufferPointer { MPI_Testall(count, $0.baseAddress, &flag, nil) }, "MPI_Testall")
        if flag != 0 { requests.removeAll(keepingCapacity: true) }
    }

    public func waitAll() throws(DistributedError) { try waitAll(operation: "the gradient allreduce") }

    /// Polls the outstanding requests until they finish, or throws `.timeout` after `Runtime.collectiveTimeout`.
    private func waitAll(operation: String) throws(DistributedError) {
        guard !requests.isEmpty else { return }
        let deadline = Stopwatch.now() + Runtime.collectiveTimeout
        var flag: Int32 = 0
        let count = Int32(requests.count)
        while true {
            try Self.check(requests.withUnsafeMutableBufferPointer { MPI_Testall(count, $0.baseAddress, &flag, nil) }, "MPI_Testall")
            if flag != 0 { break }
            if Stopwatch.now() > deadline { throw .timeout(operation: operation, seconds: Runtime.collectiveTimeout) }
        }
        requests.removeAll(keepingCapacity: true)
    }

    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws(DistributedError) {
        precondition((0..<size).contains(root), "MPICommunicator.broadcast: root \(root) of \(size) ranks")
        guard let base = values.baseAddress, !values.isEmpty else { return }
        // In pieces below 2^31 elements (MPI's counts are Int32).
        var offset = 0
        while offset < values.count {
            let n = Swift.min(values.count - offset, Int(Int32.max))
            var request = synapse_mpi_request_null()
            try Self.check(MPI_Ibcast(base + offset, Int32(n), synapse_mpi_float(), Int32(root), world, &request), "MPI_Ibcast")
            requests.append(request)
            try waitAll(operation: "broadcast")
            offset += n
        }
    }

    public func allgather(_ value: UInt64) throws(DistributedError) -> [UInt64] {
        // MPI keeps both pointers until the wait: they must outlive the call that hands them over.
        let send = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        let receive = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: size)
        defer { send.deallocate(); receive.deallocate() }
        send.pointee = value
        receive.initialize(repeating: 0)
        var request = synapse_mpi_request_null()
        try Self.check(MPI_Iallgather(send, 1, synapse_mpi_uint64(), receive.baseAddress, 1, synapse_mpi_uint64(), world,
                                      &request), "MPI_Iallgather")
        requests.append(request)
        try waitAll(operation: "allgather")
        return Array(receive)
    }

    public func barrier() throws(DistributedError) {
        var request = synapse_mpi_request_null()
        try Self.check(MPI_Ibarrier(world, &request), "MPI_Ibarrier")
        requests.append(request)
        try waitAll(operation: "barrier")
    }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }

    private static func count(_ n: Int) throws(DistributedError) -> Int32 {
        guard n <= Int(Int32.max) else { throw .mpi(call: "MPI_Iallreduce", code: -1, message: "\(n) values exceed MPI's Int32 count; use smaller buckets") }
        return Int32(n)
    }

    private static func check(_ code: Int32, _ call: String) throws(DistributedError) {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw .mpi(call: call, code: code, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

