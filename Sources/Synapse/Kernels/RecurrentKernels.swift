#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
#if canImport(Glibc)
import Glibc
#endif
import CSynapseKernels

/// The buffer work of the recurrent ops (Ops/Recurrent): strided products, bias rows, and each cell's per-step
/// arithmetic. A time step's rows of a batch-first [B, T, F] buffer are T rows apart, so the per-step products read
/// and write them in place through the leading dimensions instead of copying them out.
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
        ones.withUnsafeBufferPointer { o in
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, a, Int32(lda ?? columns),
                        o.baseAddress!, 1, 0, out, 1)
        }
    }

    /// The column sums of `a` [rows, columns] with the column ranges split across the cores.
    static func parallelColumnSums(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        Parallel.perCore(columns) { _, range in
            columnSums(a + range.lowerBound, rows: rows, columns: range.count, lda: columns, into: out + range.lowerBound)
        }
    }

    /// Writes h_{t−1} for every (batch, step) row of a batch-first [B·T, H] output into `result` [B·T, H]: the
    /// output shifted one step later in time, with the initial state (or zeros) at t = 0. Lets ∂L/∂W_hh be one
    /// GEMM over all steps.
    static func previousHidden(output: UnsafePointer<Float>, initial: UnsafePointer<Float>?,
                               batch: Int, steps: Int, hidden: Int, into result: UnsafeMutablePointer<Float>) {
        for b in 0..<batch {
            let row = result + b * steps * hidden
            if let initial { row.update(from: initial + b * hidden, count: hidden) } else {
                row.update(repeating: 0, count: hidden)
            }
            if steps > 1 { (row + hidden).update(from: output + b * steps * hidden, count: (steps - 1) * hidden) }
        }
    }

    /// Starts every row of a [rows, width] buffer at the sum of the given bias vectors (a product is then added
    /// onto it with beta = 1). Leaves the buffer alone when there are none.
    static func fillBias(_ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ biases: [UnsafePointer<Float>]) {
        guard !biases.isEmpty else { return }
        var combined = [Float](repeating: 0, count: width)
        for bias in biases {
            for j in 0..<width { combined[j] += bias[j] }
        }
        combined.withUnsafeBufferPointer { c in
            for r in 0..<rows { (buffer + r * width).update(from: c.baseAddress!, count: width) }
        }
    }

    /// Adds `bias` [width] to every row of a [rows, width] buffer.
    static func addBias(_ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = buffer + r * width
            for j in 0..<width { row[j] += bias[j] }
        }
    }

    // MARK: LSTM

    /// One sequence's LSTM step: `gates` [4H] holds the pre-activations (i, f, g, o) and is activated in place;
    /// writes c_t = f ⊙ c_{t−1} + i ⊙ g (c_{t−1} = 0 when nil), tanh(c_t) and h_t = o ⊙ tanh(c_t).
    /// The AVX-512 kernel (`synapse_lstm_cell_avx512`) does it in one pass; this loop is its reference and the
    /// portable path (`allowAVX512: false` runs it anywhere, for the tests).
    @inline(__always)
    static func lstmCell(hidden h: Int, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>?,
                         cell: UnsafeMutablePointer<Float>, tanhCell: UnsafeMutablePointer<Float>,
                         output y: UnsafeMutablePointer<Float>, allowAVX512: Bool = true) {
        if allowAVX512 && CPUFeatures.avx512 {
            return synapse_lstm_cell_avx512(h, gates, previousCell, cell, tanhCell, y)
        }
        VectorMath.sigmoid(gates, gates, 2 * h)
        VectorMath.tanh(gates + 2 * h, gates + 2 * h, h)
        VectorMath.sigmoid(gates + 3 * h, gates + 3 * h, h)
        let (inputGate, forgetGate, candidate, outputGate) = (gates, gates + h, gates + 2 * h, gates + 3 * h)
        if let previousCell {
            for j in 0..<h { cell[j] = forgetGate[j] * previousCell[j] + inputGate[j] * candidate[j] }
        } else {
            for j in 0..<h { cell[j] = inputGate[j] * candidate[j] }
        }
        VectorMath.tanh(cell, tanhCell, h)
        for j in 0..<h { y[j] = outputGate[j] * tanhCell[j] }
    }

    /// One sequence's LSTM gate gradients at one step, 16 units at a time: from the activated gates (i, f, g, o),
    /// tanh c_t, c_{t−1}, ∂L/∂y_t and the ∂L/∂h, ∂L/∂c carried from step t + 1, writes ∂L/∂(pre-activations) and
    /// carries ∂L/∂c_{t−1} in `cellGrad`.
    ///
    /// Results below the normal range are flushed to zero. Saturated gates (σ of a large negative pre-activation is
    /// below 1.2e-38) make subnormal gradients, and every product that reads one — the per-step GEMMs included —
    /// takes x86's slow microcode path (char-lstm slowed down over a few hundred iterations before this). No normal
    /// value changes.
    ///
    /// The AVX-512 kernel (`synapse_lstm_gate_gradients_avx512`) does the same operations in the same order, so it
    /// gives these bits; this loop is the portable path (`allowAVX512: false` runs it anywhere).
    @inline(__always)
    static func lstmGateGradients(hidden h: Int, gates: UnsafePointer<Float>, tanhCell: UnsafePointer<Float>,
                                  previousCell: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                                  hiddenGrad: UnsafePointer<Float>, cellGrad: UnsafeMutablePointer<Float>,
                                  gateGrads d: UnsafeMutablePointer<Float>, allowAVX512: Bool = true) {
        if allowAVX512 && CPUFeatures.avx512 {
            return synapse_lstm_gate_gradients_avx512(h, gates, tanhCell, previousCell, outputGrad, hiddenGrad,
                                                      cellGrad, d)
        }
        typealias V = FusedLoop.Vector
        let flush = FusedLoop.flushingSubnormals
        FusedLoop.blocks(0..<h) { j, lanes in
            let i = FusedLoop.load(gates, j, lanes), f = FusedLoop.load(gates + h, j, lanes)
            let g = FusedLoop.load(gates + 2 * h, j, lanes), o = FusedLoop.load(gates + 3 * h, j, lanes)
            let tc = FusedLoop.load(tanhCell, j, lanes)
            let dh: V = FusedLoop.load(outputGrad, j, lanes) + FusedLoop.load(hiddenGrad, j, lanes)
            let dc: V = FusedLoop.load(cellGrad, j, lanes) + dh * o * (1 - tc * tc)
            FusedLoop.store(flush(dc * g * i * (1 - i)), d, j, lanes)
            FusedLoop.store(flush(dc * FusedLoop.load(previousCell, j, lanes) * f * (1 - f)), d + h, j, lanes)
            FusedLoop.store(flush(dc * i * (1 - g * g)), d + 2 * h, j, lanes)
            FusedLoop.store(flush(dh * tc * o * (1 - o)), d + 3 * h, j, lanes)
            FusedLoop.store(flush(dc * f), cellGrad, j, lanes)
        }
    }

    // MARK: GRU

    /// One sequence's GRU step: `gates` [3H] holds the input projections (r, z, n) and `hiddenProjection` [3H]
    /// W_hh·h + b_hh. Activates the gates in place, keeps W_hn·h + b_hn in `candidateHidden` for the backward, and
    /// writes h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
    @inline(__always)
    static func gruCell(hidden h: Int, gates: UnsafeMutablePointer<Float>, hiddenProjection: UnsafePointer<Float>,
                        previousHidden: UnsafePointer<Float>, candidateHidden: UnsafeMutablePointer<Float>,
                        output y: UnsafeMutablePointer<Float>) {
        for j in 0..<(2 * h) { gates[j] += hiddenProjection[j] }
        VectorMath.sigmoid(gates, gates, 2 * h)
        let (reset, update, candidate) = (gates, gates + h, gates + 2 * h)
        for j in 0..<h {
            candidateHidden[j] = hiddenProjection[2 * h + j]
            candidate[j] += reset[j] * candidateHidden[j]
        }
        VectorMath.tanh(candidate, candidate, h)
        for j in 0..<h { y[j] = (1 - update[j]) * candidate[j] + update[j] * previousHidden[j] }
    }

    /// One sequence's GRU gate gradients at one step: writes ∂L/∂(input-side pre-activations) and
    /// ∂L/∂(hidden-side pre-activations) [3H] each, and leaves the direct path ∂L/∂h_{t−1} = ∂L/∂h_t ⊙ z in
    /// `hiddenGrad` (the caller's product adds the gated paths).
    @inline(__always)
    static func gruGateGradients(hidden h: Int, gates: UnsafePointer<Float>, candidateHidden: UnsafePointer<Float>,
                                 previousHidden: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
                                 hiddenGrad: UnsafeMutablePointer<Float>, inputSideGrads dx: UnsafeMutablePointer<Float>,
                                 hiddenSideGrads dhh: UnsafeMutablePointer<Float>) {
        let (reset, update, candidate) = (gates, gates + h, gates + 2 * h)
        for j in 0..<h {
            let dh = outputGrad[j] + hiddenGrad[j]
            let (r, z, n) = (reset[j], update[j], candidate[j])
            let dCandidate = dh * (1 - z) * (1 - n * n)
            let dReset = dCandidate * candidateHidden[j] * r * (1 - r)
            let dUpdate = dh * (previousHidden[j] - n) * z * (1 - z)
            dx[j] = dReset; dx[h + j] = dUpdate; dx[2 * h + j] = dCandidate
            dhh[j] = dReset; dhh[h + j] = dUpdate; dhh[2 * h + j] = dCandidate * r
            hiddenGrad[j] = dh * z
        }
    }

    // MARK: RNN

    /// ∂L/∂a_t = (∂L/∂y_t + ∂L/∂h_t) ⊙ σ'(a_t) for one sequence's step, σ' written in terms of y_t = σ(a_t).
    @inline(__always)
    static func rnnPreActivationGradient(hidden h: Int, activation: RecurrentActivation, output y: UnsafePointer<Float>,
                                         outputGrad dy: UnsafePointer<Float>, hiddenGrad dh: UnsafePointer<Float>,
                                         into da: UnsafeMutablePointer<Float>) {
        switch activation {
        case .tanh: for j in 0..<h { da[j] = (dy[j] + dh[j]) * (1 - y[j] * y[j]) }
        case .sigmoid: for j in 0..<h { da[j] = (dy[j] + dh[j]) * (y[j] * (1 - y[j])) }
        case .relu: for j in 0..<h { da[j] = y[j] > 0 ? dy[j] + dh[j] : 0 }
        case .identity: for j in 0..<h { da[j] = dy[j] + dh[j] }
        }
    }
}

/// The activation of a plain recurrent unit (σ in the notes' h_t = σ(U·x_t + W·h_{t−1} + B)).
public enum RecurrentActivation: String, CaseIterable, Sendable {
    case tanh, relu, sigmoid, identity

    /// Applies the activation to a buffer in place.
    func apply(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .tanh: VectorMath.tanh(x, x, count)
        case .sigmoid: VectorMath.sigmoid(x, x, count)
        case .relu: for j in 0..<count { x[j] = x[j] > 0 ? x[j] : 0 }
        case .identity: break
        }
    }
}

/// Runs a block with OpenBLAS limited to the calling thread (callers parallelise themselves), then restores the
/// thread count. Looked up at run time so that other BLAS libraries (Accelerate) simply skip it.
///
/// The count is process-wide, and blocks run on several threads at once (a server's concurrent requests, tests in
/// parallel). So entries are counted under a lock: the first sets one thread, the last restores the count. Each
/// caller reading and restoring the count on its own let one restore two threads while another was still inside
/// its block, and changed OpenBLAS's thread count from two threads at once.
enum BLASThreads {
    #if canImport(Glibc)
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32
    private static let functions: (set: SetThreads, get: GetThreads)? = {
        guard let handle = dlopen(nil, RTLD_NOW),
              let set = dlsym(handle, "openblas_set_num_threads"),
              let get = dlsym(handle, "openblas_get_num_threads") else { return nil }
        return (unsafeBitCast(set, to: SetThreads.self), unsafeBitCast(get, to: GetThreads.self))
    }()
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()
    /// Blocks inside `single` now, and the count to restore when the last one leaves.
    nonisolated(unsafe) private static var inside = 0
    nonisolated(unsafe) private static var restore: Int32 = 1
    #endif

    /// Sets OpenBLAS's thread count for good (`Runtime.limitThreads`); inside a `single` block, from its end.
    static func set(_ threads: Int) {
        #if canImport(Glibc)
        guard let functions else { return }
        pthread_mutex_lock(lock)
        if inside > 0 { restore = Int32(threads) } else { functions.set(Int32(threads)) }
        pthread_mutex_unlock(lock)
        #endif
    }

    static func single<R>(_ body: () throws -> R) rethrows -> R {
        #if canImport(Glibc)
        if let functions {
            pthread_mutex_lock(lock)
            if inside == 0 {
                restore = functions.get()
                if restore != 1 { functions.set(1) }
            }
            inside += 1
            pthread_mutex_unlock(lock)
            defer {
                pthread_mutex_lock(lock)
                inside -= 1
                if inside == 0 && restore != 1 { functions.set(restore) }
                pthread_mutex_unlock(lock)
            }
            return try body()
        }
        #endif
        return try body()
    }

    /// OpenBLAS's thread count now (nil without OpenBLAS), for tests.
    static var current: Int? {
        #if canImport(Glibc)
        return functions.map { Int($0.get()) }
        #else
        return nil
        #endif
    }
}
