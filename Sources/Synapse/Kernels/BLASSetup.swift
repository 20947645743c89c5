#if canImport(Glibc)
import Foundation
import Glibc

/// Makes sure OpenBLAS runs its fastest kernels on this CPU.
///
/// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU model when it loads. Releases older than the CPU
/// (Debian 12 ships 0.3.21) do not know recent Xeons and fall back to the generic "Prescott" SSE3 kernels — measured
/// here at 3–5× below the AVX-512 ones. When that happened and the user did not choose a core with
/// OPENBLAS_CORETYPE, the kernel table is re-selected from the CPU's flags through OpenBLAS's own entry points.
///
/// It also stops OpenBLAS's idle worker threads from spinning. After each threaded call they poll for more work
/// with sched_yield for 2^28 cycles (~0.1 s), which on a 2-core machine takes cycles from our own parallel kernels and
/// from the single-threaded per-core products of the recurrent and convolution ops: a char-lstm iteration spent ~18%
/// of its samples there. With the shortest timeout (2^4 cycles) they sleep at once: char-lstm 38.5 → 32 ms/iteration,
/// char-gpt 39.7 → 35 ms, measured before the other changes of that day. (Sleeping costs a wake-up per threaded
/// call; the batched convolution lost 10% to it, the per-image one that replaced it does not care.)
/// OPENBLAS_THREAD_TIMEOUT set by the user wins.
enum BLASSetup {
    static let configured: Bool = {
        let handle = dlopen(nil, RTLD_NOW)
        defer { quietIdleThreads(handle) }
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let handle,
              let quitSymbol = dlsym(handle, "gotoblas_dynamic_quit"),
              let initSymbol = dlsym(handle, "gotoblas_dynamic_init") else { return false }
        typealias VoidFunction = @convention(c) () -> Void
        guard let name = coreName(handle)?.lowercased(),
              ["prescott", "core2", "nehalem", "unknown"].contains(name) else { return false }
        let flags = cpuFlags()
        let target: String
        if flags.contains("avx512_bf16") { target = "Cooperlake" }
        else if flags.contains("avx512f") && flags.contains("avx512bw") { target = "SkylakeX" }
        else if flags.contains("avx2") && flags.contains("fma") { target = "Haswell" }
        else { return false }
        setenv("OPENBLAS_CORETYPE", target, 0)
        unsafeBitCast(quitSymbol, to: VoidFunction.self)()
        unsafeBitCast(initSymbol, to: VoidFunction.self)()
        return true
    }()

    /// The name of the kernel set OpenBLAS is running ("Cooperlake", "SkylakeX", …), or nil for another BLAS.
    static func coreName(_ handle: UnsafeMutableRawPointer? = dlopen(nil, RTLD_NOW)) -> String? {
        guard let handle, let symbol = dlsym(handle, "openblas_get_corename") else { return nil }
        typealias NameFunction = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(symbol, to: NameFunction.self)().map { String(cString: $0) }
    }

    /// Restarts OpenBLAS's thread pool with the shortest idle timeout (2^4 cycles) unless the user chose one.
    private static func quietIdleThreads(_ handle: UnsafeMutableRawPointer?) {
        guard getenv("OPENBLAS_THREAD_TIMEOUT") == nil, let handle,
              let readEnvironment = dlsym(handle, "openblas_read_env"),
              let shutdown = dlsym(handle, "blas_thread_shutdown_"),
              let start = dlsym(handle, "blas_thread_init") else { return }
        typealias IntFunction = @convention(c) () -> Int32
        typealias VoidFunction = @convention(c) () -> Void
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        unsafeBitCast(readEnvironment, to: VoidFunction.self)()
        _ = unsafeBitCast(shutdown, to: IntFunction.self)()
        _ = unsafeBitCast(start, to: IntFunction.self)()
    }

    /// The feature flags of the first CPU in /proc/cpuinfo.
    private static func cpuFlags() -> Set<String> {
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix("flags") {
                return Set(text.split(separator: ":").last?.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? [])
            }
        }
        return []
    }
}
#else
enum BLASSetup {
    static let configured = true
}
#endif
