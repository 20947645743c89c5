import CSynapseKernels

/// A fixed team of threads (the caller included) that run one job together and meet at spinning barriers
/// (CSynapseKernels/team.c). The decoder's forward pass is one job: waking parked threads for each of its ~150
/// small products would cost more than the products.
final class WorkerTeam {
    private let team: OpaquePointer

    /// `threads` is clamped to 1...64; nil if the operating system will not start them.
    init?(threads: Int) {
        guard let team = synapse_team_create(Int32(max(1, min(threads, 64)))) else { return nil }
        self.team = team
    }

    deinit { synapse_team_destroy(team) }

    var size: Int { Int(synapse_team_size(team)) }

    /// Runs `body(thread)` on every thread of the team, 0..<size, and returns when all have finished.
    func run(_ body: @escaping (Int) -> Void) {
        let job = Job(body)
        withExtendedLifetime(job) {
            synapse_team_run(team, { context, thread in
                Unmanaged<Job>.fromOpaque(context!).takeUnretainedValue().body(Int(thread))
            }, Unmanaged.passUnretained(job).toOpaque())
        }
    }

    /// Waits, inside a job, until every thread of the team has reached this barrier.
    func barrier() { synapse_team_barrier(team) }

    /// Thread `thread`'s share of 0..<count out of `parts`, boundaries on multiples of `align` (16 by default: whole
    /// row panels of the block kernels, and even, so RoPE pairs are never split).
    static func share(_ count: Int, _ thread: Int, _ parts: Int, align: Int = 16) -> Range<Int> {
        func boundary(_ k: Int) -> Int { k == parts ? count : min(count, (count * k / parts + align / 2) / align * align) }
        return boundary(thread)..<boundary(thread + 1)
    }

    private final class Job {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }
}
