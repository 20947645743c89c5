#if canImport(Glibc)
import Foundation
import Glibc

/// OpenBLAS's own entry points, reached with dlsym so that any BLAS links: `Runtime.configureBLAS()` uses them to
/// re-select the kernel table and restart the thread pool after setting the environment OpenBLAS reads.
enum BLASSetup {
    typealias VoidFunction = @convention(c) () -> Void
    typealias IntFunction = @convention(c) () -> Int32

    /// The kernel set to ask for when OpenBLAS fell back to a generic one ("Prescott", …) on a CPU that has better
    /// instructions; nil when its choice stands or this is not OpenBLAS.
    static func betterCore() -> String? {
        guard let handle = dlopen(nil, RTLD_NOW), dlsym(handle, "gotoblas_dynamic_init") != nil,
              let name = coreName(handle)?.lowercased(),
              ["prescott", "core2", "nehalem", "unknown"].contains(name) else { return nil }
        let flags = cpuFlags()
        if flags.contains("avx512_bf16") { return "Cooperlake" }
        if flags.contains("avx512f") && flags.contains("avx512bw") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// Re-runs OpenBLAS's kernel selection (it reads `OPENBLAS_CORETYPE`).
    static func reloadKernels() {
        guard let handle = dlopen(nil, RTLD_NOW), let quit = dlsym(handle, "gotoblas_dynamic_quit"),
              let initialise = dlsym(handle, "gotoblas_dynamic_init") else { return }
        unsafeBitCast(quit, to: VoidFunction.self)()
        unsafeBitCast(initialise, to: VoidFunction.self)()
    }

    static var canRestartThreadPool: Bool {
        guard let handle = dlopen(nil, RTLD_NOW) else { return false }
        let symbols: [String] = ["openblas_read_env", "blas_thread_shutdown_", "blas_thread_init"]
        return symbols.allSatisfy { name in dlsym(handle, name) != nil }
    }

    /// Re-reads OpenBLAS's environment (`OPENBLAS_THREAD_TIMEOUT`) and restarts its thread pool.
    static func restartThreadPool() {
        guard canRestartThreadPool, let handle = dlopen(nil, RTLD_NOW) else { return }
        unsafeBitCast(dlsym(handle, "openblas_read_env")!, to: VoidFunction.self)()
        _ = unsafeBitCast(dlsym(handle, "blas_thread_shutdown_")!, to: IntFunction.self)()
        _ = unsafeBitCast(dlsym(handle, "blas_thread_init")!, to: IntFunction.self)()
    }

    /// The name of the kernel set OpenBLAS is running ("Cooperlake", "SkylakeX", …), or nil for another BLAS.
    static func coreName(_ handle: UnsafeMutableRawPointer? = dlopen(nil, RTLD_NOW)) -> String? {
        guard let handle, let symbol = dlsym(handle, "openblas_get_corename") else { return nil }
        typealias NameFunction = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(symbol, to: NameFunction.self)().map { String(cString: $0) }
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
    /// Accelerate and other BLAS libraries: nothing to select.
    static func coreName() -> String? { nil }
}
#endif
