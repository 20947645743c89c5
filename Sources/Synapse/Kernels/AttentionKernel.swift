import Dispatch

/// Where the rows of one attention operand live: a base pointer, the distance between consecutive tokens, and the
/// distance between consecutive sequences of the batch (all in floats).
///
/// Head h of token t of sequence b starts at `base + b·batchStride + t·rowStride + h·headDim`. This is the layout a
/// Linear layer produces ([B, T, H·D], heads side by side), including the three slices of a fused QKV projection
/// ([B, T, 3·H·D] with rowStride 3·H·D), so attention never needs a permuted copy of its inputs.
struct AttentionOperand {
    var base: UnsafeMutablePointer<Float>
    var rowStride: Int
    var batchStride: Int

    @inline(__always)
    func head(_ b: Int, _ h: Int, headDim: Int) -> UnsafeMutablePointer<Float> {
        base + b * batchStride + h * headDim
    }
}

/// The shape of one attention call and its masks.
struct AttentionGeometry {
    var batch: Int
    var heads: Int
    var queryLength: Int
    var keyLength: Int
    var headDim: Int
    var scale: Float
    /// Query i (counted from the end of the keys) sees keys 0...i + keyLength − queryLength.
    var causal: Bool
    /// Keys at positions ≥ keyLengths[b] are padding and are not attended to (right padding, as BERT batches).
    var keyLengths: [Int]?
    /// Grouped-query attention: this many consecutive query heads share one key/value head (1: one each).
    var queriesPerKeyHead = 1

    /// The key/value head that query head h reads.
    @inline(__always)
    func keyHead(_ h: Int) -> Int { h / queriesPerKeyHead }

    /// How many leading keys query row i of sequence b attends to; the rest of its scores are masked.
    @inline(__always)
    func visibleKeys(batch b: Int, row i: Int) -> Int {
        var n = keyLengths?[b] ?? keyLength
        if causal { n = Swift.min(n, i + keyLength - queryLength + 1) }
        return Swift.max(0, Swift.min(n, keyLength))
    }

    /// The first query row of sequence b that attends to key j (rows before it have a zero weight there).
    @inline(__always)
    func firstQuery(batch b: Int, key j: Int) -> Int {
        causal ? Swift.max(0, Swift.min(queryLength, j - (keyLength - queryLength))) : 0
    }

    /// The query rows of sequence b in blocks of `blockRows`, each with the number of leading keys any of its rows
    /// sees. A causal block needs only the keys up to its last row, so the products that sum over keys (P·V, dS·K)
    /// skip the masked upper triangle: about a third of their work at 64 tokens.
    @inline(__always)
    func forEachRowBlock(batch b: Int, _ body: (_ rows: Range<Int>, _ keys: Int) -> Void) {
        var r0 = 0
        while r0 < queryLength {
            let r1 = causal ? Swift.min(queryLength, r0 + Self.blockRows) : queryLength
            body(r0..<r1, visibleKeys(batch: b, row: r1 - 1))
            r0 = r1
        }
    }

    /// The keys in blocks of `blockRows`, each with the first query row that sees any of them: the products that
    /// sum over queries (Pᵀ·dO, dSᵀ·Q) start there.
    @inline(__always)
    func forEachKeyBlock(batch b: Int, _ body: (_ keys: Range<Int>, _ firstQuery: Int) -> Void) {
        var c0 = 0
        while c0 < keyLength {
            let c1 = causal ? Swift.min(keyLength, c0 + Self.blockRows) : keyLength
            body(c0..<c1, firstQuery(batch: b, key: c0))
            c0 = c1
        }
    }

    /// Two 12-row tiles of the AVX-512 kernel.
    static let blockRows = 24

    /// OpenBLAS threads products above roughly this size itself; below it, (batch, head) pairs run on the cores
    /// instead, each with single-threaded products.
    var pairsInParallel: Bool { queryLength * keyLength * headDim < 262_144 && batch * heads > 1 }
}

extension Kernels {
    /// Runs `body(pair, scratch)` for every (batch, head) pair, on both cores when the products are small.
    /// `scratch` holds `scratchCount` floats private to the calling thread.
    static func forEachAttentionPair(_ g: AttentionGeometry, scratchCount: Int,
                                     _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let pairs = g.batch * g.heads
        let chunks = g.pairsInParallel ? Swift.min(Parallel.availableCores, pairs) : 1
        withoutActuallyEscaping(body) { body in
            // Each pair writes only its own head's columns of the outputs and gradients: the chunks never overlap.
            let work = UncheckedSendable(body)
            if chunks == 1 {
                runAttentionChunk(0, of: 1, pairs: pairs, scratchCount: scratchCount, work.value)
            } else {
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    runAttentionChunk(chunk, of: chunks, pairs: pairs, scratchCount: scratchCount, work.value)
                }
            }
        }
    }

    private static func runAttentionChunk(_ chunk: Int, of chunks: Int, pairs: Int, scratchCount: Int,
                                          _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchCount, 1))
        defer { scratch.deallocate() }
        var p = chunk
        while p < pairs {
            body(p, scratch)
            p += chunks
        }
    }

    /// softmax(scale·Q·Kᵀ + mask)·V for every (batch, head) pair, written into `out`.
    ///
    /// When `probabilities` is given (B·H·Tq·Tk floats), the attention weights are kept there for the backward pass;
    /// masked entries hold exact zeros.
    static func attentionForward(_ g: AttentionGeometry, query q: AttentionOperand, key k: AttentionOperand,
                                 value v: AttentionOperand, out o: AttentionOperand,
                                 probabilities: UnsafeMutablePointer<Float>?) {
        let (tq, tk, d) = (g.queryLength, g.keyLength, g.headDim)
        if tq == 0 { return }
        forEachAttentionPair(g, scratchCount: probabilities == nil ? tq * tk : 0) { pair, scratch in
            let (b, h) = (pair / g.heads, pair % g.heads)
            let s = probabilities.map { $0 + pair * tq * tk } ?? scratch
            let outHead = o.head(b, h, headDim: d)
            guard tk > 0 else {
                for i in 0..<tq { (outHead + i * o.rowStride).update(repeating: 0, count: d) }
                return
            }
            gemm(transposeA: false, transposeB: true, m: tq, n: tk, k: d, alpha: g.scale,
                 q.head(b, h, headDim: d), lda: q.rowStride, k.head(b, g.keyHead(h), headDim: d), ldb: k.rowStride,
                 beta: 0, s, ldc: tk)
            for i in 0..<tq {
                let row = s + i * tk
                let n = g.visibleKeys(batch: b, row: i)
                if n > 0 { softmaxRow(row, row, n, log: false) }
                if n < tk { (row + n).update(repeating: 0, count: tk - n) }
            }
            let vHead = v.head(b, g.keyHead(h), headDim: d)
            g.forEachRowBlock(batch: b) { rows, keys in
                gemmOrZero(transposeA: false, m: rows.count, n: d, k: keys, alpha: 1, s + rows.lowerBound * tk, lda: tk,
                           vHead, ldb: v.rowStride, outHead + rows.lowerBound * o.rowStride, ldc: o.rowStride)
            }
        }
    }

    /// Gradients of attention with respect to Q, K and V from the upstream gradient `gradOut` and the saved weights P:
    ///   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q.
    /// Each gradient operand is overwritten (not accumulated) in its head's columns.
    static func attentionBackward(_ g: AttentionGeometry, query q: AttentionOperand, key k: AttentionOperand,
                                  value v: AttentionOperand, probabilities: UnsafePointer<Float>,
                                  gradOut go: AttentionOperand, gradQuery gq: AttentionOperand,
                                  gradKey gk: AttentionOperand, gradValue gv: AttentionOperand) {
        let (tq, tk, d) = (g.queryLength, g.keyLength, g.headDim)
        precondition(g.queriesPerKeyHead == 1, "attentionBackward: grouped-query attention has no fused backward")
        forEachAttentionPair(g, scratchCount: tq * tk) { pair, dp in
            let (b, h) = (pair / g.heads, pair % g.heads)
            let p = probabilities + pair * tq * tk
            let gqHead = gq.head(b, h, headDim: d), gkHead = gk.head(b, h, headDim: d), gvHead = gv.head(b, h, headDim: d)
            guard tq > 0, tk > 0 else {
                for i in 0..<tq { (gqHead + i * gq.rowStride).update(repeating: 0, count: d) }
                for j in 0..<tk {
                    (gkHead + j * gk.rowStride).update(repeating: 0, count: d)
                    (gvHead + j * gv.rowStride).update(repeating: 0, count: d)
                }
                return
            }
            let goHead = go.head(b, h, headDim: d)
            let (qHead, kHead) = (q.head(b, h, headDim: d), k.head(b, h, headDim: d))
            g.forEachKeyBlock(batch: b) { keys, i0 in
                gemmOrZero(transposeA: true, m: keys.count, n: d, k: tq - i0, alpha: 1, p + i0 * tk + keys.lowerBound,
                           lda: tk, goHead + i0 * go.rowStride, ldb: go.rowStride,
                           gvHead + keys.lowerBound * gv.rowStride, ldc: gv.rowStride)
            }
            gemm(transposeA: false, transposeB: true, m: tq, n: tk, k: d, alpha: 1,
                 goHead, lda: go.rowStride, v.head(b, h, headDim: d), ldb: v.rowStride, beta: 0, dp, ldc: tk)
            // dS over each row's visible keys; the masked rest is exactly zero (its weights are).
            for i in 0..<tq {
                let (pr, dr) = (p + i * tk, dp + i * tk)
                let n = g.visibleKeys(batch: b, row: i)
                let dot = dotContiguous(pr, dr, n)
                for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) }
                if n < tk { (dr + n).update(repeating: 0, count: tk - n) }
            }
            g.forEachRowBlock(batch: b) { rows, keys in
                gemmOrZero(transposeA: false, m: rows.count, n: d, k: keys, alpha: g.scale, dp + rows.lowerBound * tk,
                           lda: tk, kHead, ldb: k.rowStride, gqHead + rows.lowerBound * gq.rowStride, ldc: gq.rowStride)
            }
            g.forEachKeyBlock(batch: b) { keys, i0 in
                gemmOrZero(transposeA: true, m: keys.count, n: d, k: tq - i0, alpha: g.scale,
                           dp + i0 * tk + keys.lowerBound, lda: tk, qHead + i0 * q.rowStride, ldb: q.rowStride,
                           gkHead + keys.lowerBound * gk.rowStride, ldc: gk.rowStride)
            }
        }
    }

    /// C [m, n] (row stride ldc) = alpha · op(A) · B, or zeros when the sum is empty (rows that see no keys).
    @inline(__always)
    private static func gemmOrZero(transposeA: Bool, m: Int, n: Int, k: Int, alpha: Float, _ a: UnsafePointer<Float>,
                                   lda: Int, _ b: UnsafePointer<Float>, ldb: Int, _ c: UnsafeMutablePointer<Float>,
                                   ldc: Int) {
        guard k > 0 else {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            return
        }
        gemm(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, alpha: alpha, a, lda: lda, b, ldb: ldb,
             beta: 0, c, ldc: ldc)
    }
}
