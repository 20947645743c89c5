#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Pieces the recurrent ops share: strided BLAS calls (a time step's rows of a batch-first [B, T, F] buffer are T
/// rows apart, so the per-step products read and write them in place through the leading dimensions instead of
/// copying them out), bias sums, and the plumbing that lets a gradient reach the final cell state.
enum RecurrentKernels {
    /// Products with at most this many rows go to the unpacked small-matrix kernels when there are any.
    static let smallProductRows = 64

    /// C = alpha · op(A) · op(B) + beta · C with explicit leading dimensions (row-major).
    @inline(__always)
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        // The per-step products (a batch share of rows) skip sgemm's packing of the whole weight (see SmallGEMM).
        if m <= smallProductRows && SmallGEMM.rowMajor(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                       alpha: alpha, a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc) {
            return
        }
        _ = BLASSetup.configured
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// out[j] = Σ_r a[r, j] for a row-major [rows, columns] matrix (leading dimension `lda`, default `columns`):
    /// one gemv against a vector of ones.
    static func columnSums(_ a: UnsafePointer<Float>, rows: Int, columns: Int, lda: Int? = nil,
                           into out: UnsafeMutablePointer<Float>) {
        guard rows > 0, columns > 0 else {
            out.update(repeating: 0, count: columns)
            return
        }
        let ones = [Float](repeating: 1, count: rows)
        _ = BLASSetup.configured
        ones.withUnsafeBufferPointer { o in
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, a, Int32(lda ?? columns),
                        o.baseAddress!, 1, 0, out, 1)
        }
    }

    /// A tensor of the column sums of `a` [rows, columns], the column ranges split across the cores.
    static func columnSums(_ a: Tensor, rows: Int, columns: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [columns])
        let (ap, op) = (a.storage.pointer, out.storage.pointer)
        Parallel.perCore(columns) { _, r in columnSums(ap + r.lowerBound, rows: rows, columns: r.count, lda: columns, into: op + r.lowerBound) }
        return out
    }

    /// h_{t−1} for every (batch, step) row of a batch-first [B·T, H] output: the output shifted one step later in
    /// time, with the initial state (or zeros) at t = 0. Lets ∂L/∂W_hh be one GEMM over all steps.
    static func previousHidden(output: UnsafePointer<Float>, initial: UnsafePointer<Float>?,
                               batch: Int, steps: Int, hidden: Int) -> Tensor {
        let result = Tensor(uninitializedShape: [batch * steps, hidden])
        let p = result.storage.pointer
        for b in 0..<batch {
            let row = p + b * steps * hidden
            if let initial { row.update(from: initial + b * hidden, count: hidden) } else {
                row.update(repeating: 0, count: hidden)
            }
            if steps > 1 { (row + hidden).update(from: output + b * steps * hidden, count: (steps - 1) * hidden) }
        }
        return result
    }

    /// Checks the operands of a recurrent op and returns (batch, steps, inputFeatures, hidden).
    static func checkShapes(op: String, gates: Int, input: Tensor, weightIH: Tensor, weightHH: Tensor,
                            biasIH: Tensor?, biasHH: Tensor?, initialStates: [Tensor?]) -> (Int, Int, Int, Int) {
        precondition(input.rank == 3, "\(op): input must be batch-first [batch, steps, features], got \(input.shape)")
        let (b, t, f) = (input.shape[0], input.shape[1], input.shape[2])
        precondition(weightHH.rank == 2 && weightHH.shape[0] == gates * weightHH.shape[1],
                     "\(op): weight_hh must be [\(gates)·hidden, hidden], got \(weightHH.shape)")
        let h = weightHH.shape[1]
        precondition(weightIH.shape == [gates * h, f],
                     "\(op): weight_ih must be [\(gates * h), \(f)] for input \(input.shape), got \(weightIH.shape)")
        for bias in [biasIH, biasHH] {
            if let bias { precondition(bias.shape == [gates * h], "\(op): bias must be [\(gates * h)], got \(bias.shape)") }
        }
        for state in initialStates {
            if let state { precondition(state.shape == [b, h], "\(op): initial state must be [\(b), \(h)], got \(state.shape)") }
        }
        precondition(t > 0, "\(op): the sequence has no time steps (input \(input.shape))")
        return (b, t, f, h)
    }
}

/// The gradient that reaches a recurrent op's final cell state (LSTM's c_T), handed to the op's backward.
///
/// c_T is returned as its own graph node whose input is the op's output sequence: the reverse topological order
/// then runs c_T's backward (which parks ∂L/∂c_T here) before the op's backward (which starts its time loop from it).
/// `@unchecked Sendable`: it is written and read only inside one `backward()` call, on one thread, in that order.
final class FinalStateGradient: @unchecked Sendable {
    var value: Tensor?

    /// `state` as a graph node fed by `sequence` whose gradient is parked in this box.
    func record(_ state: Tensor, after sequence: Tensor, op: String) -> Tensor {
        let sequenceShape = sequence.shape
        return Tensor.record(state, op: op, inputs: [sequence]) { [self] g in
            value = value.map { $0 + g } ?? g
            // A zero gradient keeps the sequence's node alive in the walk when c_T is the only thing used.
            return [Tensor.zeros(sequenceShape)]
        }
    }

    /// Takes the parked gradient (once per backward pass).
    func take() -> Tensor? {
        defer { value = nil }
        return value
    }
}

/// Runs a block with OpenBLAS limited to the calling thread (callers parallelise themselves), then restores the
/// thread count. Looked up at run time so that other BLAS libraries (Accelerate) simply skip it.
enum BLASThreads {
    #if canImport(Glibc)
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32
    private static let functions: (set: SetThreads, get: GetThreads)? = {
        _ = BLASSetup.configured
        guard let handle = dlopen(nil, RTLD_NOW),
              let set = dlsym(handle, "openblas_set_num_threads"),
              let get = dlsym(handle, "openblas_get_num_threads") else { return nil }
        return (unsafeBitCast(set, to: SetThreads.self), unsafeBitCast(get, to: GetThreads.self))
    }()
    #endif

    static func single<R>(_ body: () throws -> R) rethrows -> R {
        #if canImport(Glibc)
        if let functions {
            let previous = functions.get()
            if previous != 1 { functions.set(1) }
            defer { if previous != 1 { functions.set(previous) } }
            return try body()
        }
        #endif
        return try body()
    }
}
