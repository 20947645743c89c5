#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// The process's peak resident memory so far (getrusage's high-water mark), for benchmarks that report the memory of
/// the workload itself before a later check (such as BF16's comparison with a Float32 pass) adds its own.
public enum PeakMemory {
    public static var megabytes: Double {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return .nan }
        #if canImport(Darwin)
        return Double(usage.ru_maxrss) / 1_048_576  // bytes on Apple platforms
        #else
        return Double(usage.ru_maxrss) / 1024  // KiB on Linux
        #endif
    }
}
