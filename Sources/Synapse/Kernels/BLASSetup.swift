#if canImport(Glibc)
import Foundation
import Glibc

/// Makes sure OpenBLAS runs its fastest kernels on this CPU.
///
/// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU model when it loads. Releases older than the CPU
/// (Debian 12 ships 0.3.21) do not know recent Xeons and fall back to the generic "Prescott" SSE3 kernels — measured
/// here at 3–5× below the AVX-512 ones. When that happened and the user did not choose a core with
/// OPENBLAS_CORETYPE, the kernel table is re-selected from the CPU's flags through OpenBLAS's own entry points.
enum BLASSetup {
    static let configured: Bool = {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let handle = dlopen(nil, RTLD_NOW),
              let corenameSymbol = dlsym(handle, "openblas_get_corename"),
              let quitSymbol = dlsym(handle, "gotoblas_dynamic_quit"),
              let initSymbol = dlsym(handle, "gotoblas_dynamic_init") else { return false }
        typealias NameFunction = @convention(c) () -> UnsafePointer<CChar>?
        typealias VoidFunction = @convention(c) () -> Void
        let corename = unsafeBitCast(corenameSymbol, to: NameFunction.self)
        guard let name = corename().map({ String(cString: $0).lowercased() }),
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
