#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every process-wide setting of Synapse, in one place. Each has a default, is overridable in code, and where an
/// environment variable exists it is read here and nowhere else.
///
/// | Setting                           | Environment                  | Default                          | In code                                 |
/// |-----------------------------------|------------------------------|----------------------------------|-----------------------------------------|
/// | C kernels (AVX2, AVX-512, VNNI)   | `SYNAPSE_KERNELS=portable`   | `.best`: what the CPU runs       | `Runtime.kernels = .portable`           |
/// | Elementwise loops go parallel at  | —                            | 2^17 elements                    | `Runtime.elementwiseParallelThreshold`  |
/// | Unused storage the pool keeps     | —                            | 256 MiB                          | `Runtime.storagePoolLimit`              |
/// | Cores the kernels split over      | —                            | the active processors            | read-only `Runtime.cores`               |
/// | The shared random generator       | —                            | seeded 0x5EED                    | `Random.seed(_:)`                       |
/// | OpenBLAS's kernel set             | `OPENBLAS_CORETYPE` (wins)   | OpenBLAS's own choice            | `Runtime.configureBLAS()`               |
/// | OpenBLAS's idle-thread timeout    | `OPENBLAS_THREAD_TIMEOUT`    | OpenBLAS's 2^28 cycles           | `Runtime.configureBLAS()`               |
/// | SIGINT/SIGTERM stop training      | —                            | the default action (exit)        | `Runtime.stopTrainingOnInterrupt()`     |
/// | Matrix products' operand precision| `SYNAPSE_PRECISION=bf16`     | `.float32`                       | `Runtime.matmulPrecision = .bfloat16`   |
/// | Threads per process               | `SYNAPSE_THREADS`            | the active processors            | `Runtime.limitThreads(_:)`              |
/// | A collective's deadline (MPI)     | `SYNAPSE_COLLECTIVE_TIMEOUT` | 300 s                            | `Runtime.collectiveTimeout`             |
///
/// Nothing here changes behind an application's back: the `synapse` command and the test suite call
/// `configureBLAS()` at start-up; an application embedding the library decides for itself.
public enum Runtime {
    public enum KernelChoice: String, Sendable {
        /// The C kernels wherever the CPU has their instructions (checked once, with the OS's saved-state bits).
        case best
        /// The Swift kernels only: to compare the paths or rule the C ones out of a bug.
        case portable
    }

    /// Which kernels run. Read at every kernel call, so it may be switched at any time (tests pin both paths).
    nonisolated(unsafe) public static var kernels: KernelChoice =
        getenv("SYNAPSE_KERNELS").map { String(cString: $0) == "portable" ? .portable : .best } ?? .best

    /// The precision of the operands of matrix products (linear layers, attention, convolutions; forward and backward).
    public enum MatmulPrecision: String, Sendable, CaseIterable {
        /// Float32 operands and sums: the reference.
        case float32
        /// BF16 mixed precision, as `torch.autocast("cpu", dtype=torch.bfloat16)` runs matrix products: operands
        /// rounded to bfloat16 (8 bits of mantissa), products summed in Float32. Tensors, master weights, optimizer
        /// state, norms, softmax and losses stay Float32. Used where the CPU has AVX512_BF16
        /// (`Runtime.bfloat16IsAccelerated`); elsewhere the products stay Float32.
        case bfloat16
    }

    /// Which precision matrix products use; read at every product, so it may be switched at any time.
    nonisolated(unsafe) public static var matmulPrecision: MatmulPrecision =
        getenv("SYNAPSE_PRECISION").map { String(cString: $0) == "bf16" ? .bfloat16 : .float32 } ?? .float32

    /// The precision set for the current task by `withMatmulPrecision`, if any (it wins over `matmulPrecision`).
    @TaskLocal static var matmulPrecisionOverride: MatmulPrecision?

    /// The precision products use here: the scoped one, else the process-wide one.
    static var effectiveMatmulPrecision: MatmulPrecision { matmulPrecisionOverride ?? matmulPrecision }

    /// Runs `body` with matrix products in `precision`, for this task and the per-core workers it starts, whatever
    /// the process-wide setting — as `with torch.autocast("cpu", dtype=torch.bfloat16):` scopes PyTorch's.
    public static func withMatmulPrecision<R>(_ precision: MatmulPrecision, _ body: () throws -> R) rethrows -> R {
        try $matmulPrecisionOverride.withValue(precision, operation: body)
    }

    /// Whether this CPU runs BF16 products in hardware (AVX512_BF16 and the C kernels on).
    public static var bfloat16IsAccelerated: Bool { CPUFeatures.avx512BF16 }

    /// Below this many elements a memory-bound loop runs on the calling thread: handing a chunk to a sleeping worker
    /// costs a wake-up, which the char-gpt step's [768, 128] tensors did not pay back at 2^16 (docs/BENCHMARKS.md).
    nonisolated(unsafe) public static var elementwiseParallelThreshold = 1 << 17

    /// At most this many bytes of freed large blocks stay cached for reuse (`StoragePool`).
    nonisolated(unsafe) public static var storagePoolLimit = 256 << 20

    /// How many chunks large loops split into.
    public static var cores: Int { Parallel.coreCount }

    /// Makes this process use at most `threads` cores: Synapse's own loops and OpenBLAS's. For several processes
    /// on one machine (distributed training runs one per core). Call it before the first op; `SYNAPSE_THREADS`
    /// does the same from the environment.
    public static func limitThreads(_ threads: Int) {
        precondition(threads >= 1, "Runtime.limitThreads: \(threads) threads")
        Parallel.coreCount = Swift.min(threads, Parallel.processorCount)
        BLASThreads.set(Parallel.coreCount)
    }

    /// `SYNAPSE_THREADS`, when it is a positive count.
    static let threadsFromEnvironment: Int? = getenv("SYNAPSE_THREADS").flatMap { Int(String(cString: $0)) }.flatMap { $0 >= 1 ? $0 : nil }

    /// How long a distributed collective may wait for the other ranks before the job ends with a timeout: long
    /// enough for the slowest step, short enough that a rank stuck without dying does not hang the job for ever.
    nonisolated(unsafe) public static var collectiveTimeout: Double =
        getenv("SYNAPSE_COLLECTIVE_TIMEOUT").flatMap { Double(String(cString: $0)) }.flatMap { $0 > 0 ? $0 : nil } ?? 300

    /// From now on SIGINT and SIGTERM ask the training loops to finish their step, write a checkpoint (when they
    /// keep one) and stop with `TrainingError.interrupted`, instead of killing the process; a second signal kills.
    /// The `synapse` command calls it; an application decides for itself.
    public static func stopTrainingOnInterrupt() { Interrupts.install() }

    /// The signal that asked training to stop (SIGINT 2, SIGTERM 15), or nil.
    public static var interruptSignal: Int32? { Interrupts.received }

    /// Makes OpenBLAS run its best kernels here and stops its idle threads from spinning; returns the name of the
    /// kernel set in use ("SkylakeX", …), or nil for another BLAS. Idempotent; call it before the first op.
    ///
    /// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU model when it loads, and releases older than
    /// the CPU (Debian 12 ships 0.3.21) fall back to generic SSE3 kernels on recent Xeons, several times slower. Unless
    /// `OPENBLAS_CORETYPE` is set, the table is re-selected from the CPU flags. After each threaded call OpenBLAS's
    /// workers poll for more work for ~0.1 s, taking cycles from Synapse's own threads on a 2-core machine; unless
    /// `OPENBLAS_THREAD_TIMEOUT` is set, the pool restarts with the shortest timeout (2^4 cycles). Both go through
    /// the environment because that is where OpenBLAS reads them.
    @discardableResult
    public static func configureBLAS() -> String? { blasConfiguration }

    private static let blasConfiguration: String? = {
        #if canImport(Glibc)
        if getenv("OPENBLAS_CORETYPE") == nil, let core = BLASSetup.betterCore() {
            setenv("OPENBLAS_CORETYPE", core, 0)
            BLASSetup.reloadKernels()
        }
        if getenv("OPENBLAS_THREAD_TIMEOUT") == nil, BLASSetup.canRestartThreadPool {
            setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
            BLASSetup.restartThreadPool()
        }
        #endif
        if Parallel.coreCount < Parallel.processorCount { BLASThreads.set(Parallel.coreCount) }   // SYNAPSE_THREADS
        return BLASSetup.coreName()
    }()
}
