import Dispatch

/// Wall-clock time: the monotonic clock the training loops report from, and the median-of-runs timer of the benchmarks.
public enum Stopwatch {
    /// Seconds since an arbitrary origin, monotonic.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Runs `body` once to warm up, then at least `minimumRuns` times and until `minimumSeconds` have passed;
    /// returns the median time of one run in seconds.
    public static func median(minimumRuns: Int = 5, minimumSeconds: Double = 0.5, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        let start = now()
        while times.count < minimumRuns || now() - start < minimumSeconds {
            let t0 = now()
            body()
            times.append(now() - t0)
            if times.count >= 1000 { break }
        }
        times.sort()
        return times[times.count / 2]
    }
}
