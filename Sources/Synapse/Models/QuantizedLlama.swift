import Foundation

/// The Llama decoder of `Llama`, run the way llama.cpp runs it on a CPU: every matrix stays in its ggml block format
/// in the memory-mapped GGUF file (Q4_1: 0.625 bytes per weight), activations are quantised to int16 per block of 32,
/// and products are integer dot products (`GGMLMatmul`). `Llama` is the readable float reference it is tested
/// against; this is the fast path (`--precision native`).
///
/// One forward pass is one job for a team of threads (one per core) that meet at spinning barriers four times per
/// block, instead of handing each product to pooled threads (10–20 µs a wake-up, ~300 products per token):
///
///     per block, on every thread t of n:
///         h = rmsNorm(x), quantised                  (each thread for itself: 576 values are cheaper than a meeting)
///         q, k, v = rows t/n of [Wq; Wk; Wv] · h, RoPE on them, k and v into the cache      — barrier
///         attention for heads × tokens t/n                                                   — barrier
///         x += rows t/n of Wo · quantised(attention)                                         — barrier
///         h = rmsNorm(x), quantised; g = silu(rows t/n of Wgate · h) ⊙ (rows t/n of Wup · h) — barrier
///         x += rows t/n of Wdown · quantised(g)                                              — barrier
///     logits = rows t/n of E · quantised(rmsNorm(x))
///
/// Matrices stored as F32, F16 or BF16 are quantised to Q8_0 at load (1.0625 bytes per weight).
///
/// A prompt of `floatProductTokens` tokens or more takes another road through the block products: each thread
/// dequantises its rows of a matrix a panel at a time and multiplies the Float32 activations with sgemm. Every weight
/// then serves hundreds of tokens, so dequantising it is cheap next to the products, and sgemm's FP32 roof on these
/// cores is above what the int16 block product reaches (docs/BENCHMARKS.md, #19). The numbers are those of the
/// dequantised model (the float reference's), not of int16 activations; the tests hold both roads to it.
public final class QuantizedLlama: LlamaModel, @unchecked Sendable {
    typealias Matrix = GGMLMatrix

    struct Block {
        let attentionNorm: [Float], feedForwardNorm: [Float]
        let query: Matrix, key: Matrix, value: Matrix, output: Matrix
        let gate: Matrix, up: Matrix, down: Matrix
    }

    public let configuration: LlamaConfiguration
    let file: GGUFFile
    let embedding: Matrix, head: Matrix
    let outputNorm: [Float]
    let blocks: [Block]
    private let team: WorkerTeam
    /// The team runs one job at a time.
    private let lock = NSLock()

    /// The integer kernels this model uses (the best the CPU has, unless a test asks for another).
    public let path: GGMLMatmul.Path

    /// Passes over at least this many tokens multiply dequantised panels with sgemm (see the type's comment).
    public let floatProductTokens: Int

    /// The default `floatProductTokens`: where the two roads cross on a 2-core Zen 4 (`synapse bench llm`).
    public static let defaultFloatProductTokens = 40

    /// Rows of a matrix dequantised at a time: 64 rows of the widest input (1536 floats for SmolLM2's down
    /// projection) are 384 KB, inside a core's L2 while sgemm reuses them for every token.
    static let panelRows = 64

    /// LoRA adapters applied beside the block products, if any.
    let adapters: LlamaAdapterProducts?

    /// Loads the model's matrices as views into the file; `threads` defaults to one per core. With `adapter`, each
    /// adapted projection adds its (α/r)·B·A·x, computed in Float32 beside the block product (no re-quantisation).
    public init(gguf: GGUFFile, threads: Int? = nil, path: GGMLMatmul.Path = GGMLMatmul.bestPath,
                adapter: LlamaLoRA? = nil, floatProductTokens: Int = QuantizedLlama.defaultFloatProductTokens) throws(GGUFError) {
        precondition(floatProductTokens >= 1, "QuantizedLlama: floatProductTokens must be at least 1, got \(floatProductTokens)")
        self.floatProductTokens = floatProductTokens
        let c = try LlamaConfiguration(gguf: gguf)
        adapters = try adapter.map { lora throws(GGUFError) in try LlamaAdapterProducts(lora, model: c, file: gguf.path) }
        guard c.embedding % 32 == 0 && c.feedForward % 32 == 0 else {
            throw .badMetadata(file: gguf.path, key: "llama.embedding_length",
                               reason: "widths \(c.embedding) and \(c.feedForward) must be multiples of 32 for the block path; use --precision float")
        }
        (configuration, file, self.path) = (c, gguf, path)
        guard let team = WorkerTeam(threads: threads ?? Parallel.coreCount) else {
            throw .badMetadata(file: gguf.path, key: "-", reason: "could not start the worker threads")
        }
        self.team = team
        func matrix(_ name: String) throws(GGUFError) -> Matrix {
            let info = try gguf.requiredTensor(named: name)
            let stored = try GGMLMatrix(info, of: gguf)
            if GGMLMatmul.supportedTypes.contains(info.type) { return stored }
            // A float matrix: to Q8_0 once.
            return GGMLMatrix(quantizing: stored.dequantized(), to: .q8_0)
        }
        func vector(_ name: String) throws(GGUFError) -> [Float] { try GGMLBlocks.dequantize(gguf.requiredTensor(named: name), of: gguf).scalars }
        embedding = try matrix("token_embd.weight")
        head = c.tiedOutput ? embedding : try matrix("output.weight")
        outputNorm = try vector("output_norm.weight")
        var blocks: [Block] = []
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            blocks.append(Block(attentionNorm: try vector(p + "attn_norm.weight"), feedForwardNorm: try vector(p + "ffn_norm.weight"),
                                query: try matrix(p + "attn_q.weight"), key: try matrix(p + "attn_k.weight"),
                                value: try matrix(p + "attn_v.weight"), output: try matrix(p + "attn_output.weight"),
                                gate: try matrix(p + "ffn_gate.weight"), up: try matrix(p + "ffn_up.weight"),
                                down: try matrix(p + "ffn_down.weight")))
        }
        self.blocks = blocks
    }

    /// Threads in the team.
    public var threads: Int { team.size }

    /// A Float16 cache, as llama.cpp keeps keys and values: a decode step reads it whole.
    public func makeCache(capacity: Int? = nil) -> LlamaCache {
        LlamaCache(layers: configuration.layers, width: configuration.keyValueWidth,
                   capacity: min(capacity ?? configuration.contextLength, configuration.contextLength), element: .float16)
    }

    /// Bytes of weights this model reads per token (the memory a decode step streams).
    public var weightBytes: Int {
        var total = head.rows * head.rowBytes
        for b in blocks {
            for m in [b.query, b.key, b.value, b.output, b.gate, b.up, b.down] { total += m.rows * m.rowBytes }
        }
        return total
    }

    public func forward(_ tokens: [Int], cache: LlamaCache, lastOnly: Bool = false) -> Tensor {
        let c = configuration
        precondition(!tokens.isEmpty, "QuantizedLlama.forward: no tokens")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabularySize }, "QuantizedLlama.forward: token id outside 0..<\(c.vocabularySize)")
        precondition(cache.length + tokens.count <= cache.capacity,
                     "QuantizedLlama.forward: \(cache.length) cached + \(tokens.count) new tokens exceed the context of \(cache.capacity)")
        lock.lock()
        defer { lock.unlock() }
        let outputs = lastOnly ? 1 : tokens.count
        let logits = Tensor(uninitializedShape: [outputs, c.vocabularySize])
        // Long prompts in chunks: 128 tokens already reuse each weight panel plenty, and the working set stays small.
        var done = 0
        while done < tokens.count {
            let chunk = Array(tokens[done..<min(tokens.count, done + QuantizedLlama.chunkTokens)])
            let isLast = done + chunk.count == tokens.count
            let rows = lastOnly ? (isLast ? (chunk.count - 1)..<chunk.count : 0..<0) : 0..<chunk.count
            let out = logits.storage.pointer + (lastOnly ? 0 : done * c.vocabularySize)
            runChunk(chunk, cache: cache, outputRows: rows, logits: out)
            done += chunk.count
        }
        return logits
    }

    /// Tokens per pass of a long prompt.
    static let chunkTokens = 128

    /// One decode step of several sequences at once (continuous batching): token `i` comes after everything in
    /// `caches[i]`, and row `i` of the result [N, V] holds its next-token logits. The weights are streamed once for all
    /// of them, so N streams cost far less than N steps.
    public func forward(streams tokens: [Int], caches: [LlamaCache]) -> Tensor {
        let c = configuration
        precondition(!tokens.isEmpty && tokens.count == caches.count, "QuantizedLlama.forward(streams:): \(tokens.count) tokens for \(caches.count) caches")
        precondition(tokens.allSatisfy { $0 >= 0 && $0 < c.vocabularySize }, "QuantizedLlama.forward(streams:): token id outside 0..<\(c.vocabularySize)")
        precondition(Set(caches.map(ObjectIdentifier.init)).count == caches.count, "QuantizedLlama.forward(streams:): a cache appears twice")
        precondition(caches.allSatisfy { $0.length < $0.capacity && $0.element == .float16 && $0.layers == c.layers },
                     "QuantizedLlama.forward(streams:): every cache must be this model's and have room for one more token")
        lock.lock()
        defer { lock.unlock() }
        let logits = Tensor(uninitializedShape: [tokens.count, c.vocabularySize])
        run(tokens, layout: .streams(caches: caches, positions: caches.map(\.length)), outputRows: 0..<tokens.count,
            logits: logits.storage.pointer)
        return logits
    }

    /// Where the tokens of one pass belong.
    enum Layout {
        /// The next tokens of one sequence, from position `start` of `cache`.
        case sequence(cache: LlamaCache, start: Int)
        /// One next token of each of several sequences: token i at `positions[i]` of `caches[i]`.
        case streams(caches: [LlamaCache], positions: [Int])

        func cache(_ i: Int) -> LlamaCache {
            switch self {
            case .sequence(let cache, _): cache
            case .streams(let caches, _): caches[i]
            }
        }

        func position(_ i: Int) -> Int {
            switch self {
            case .sequence(_, let start): start + i
            case .streams(_, let positions): positions[i]
            }
        }
    }

    /// One pass of the team over `tokens` after the cache, writing the logits of `outputRows` (of these tokens) to
    /// consecutive rows of `logits`.
    private func runChunk(_ tokens: [Int], cache: LlamaCache, outputRows: Range<Int>, logits: UnsafeMutablePointer<Float>) {
        cache.reserve(cache.length + tokens.count)
        run(tokens, layout: .sequence(cache: cache, start: cache.length), outputRows: outputRows, logits: logits)
    }

    /// One pass of the team over `tokens` laid out as `layout` says; the caches grow by their tokens.
    private func run(_ tokens: [Int], layout: Layout, outputRows: Range<Int>, logits: UnsafeMutablePointer<Float>) {
        let c = configuration
        let t = tokens.count
        let longest = (0..<t).map { layout.position($0) }.max()! + 1
        let work = Workspace(configuration: c, tokens: t, keys: longest, threads: threads, rank: adapters?.rank ?? 0,
                             floatProducts: t >= floatProductTokens)
        defer { work.deallocate() }
        // x = embed(tokens): each row dequantised from its blocks.
        for (i, token) in tokens.enumerated() {
            GGMLBlocks.dequantize(embedding.type, embedding.base + token * embedding.rowBytes, into: work.x + i * c.embedding, count: c.embedding)
        }
        let rope = RotaryTable(headDim: c.headDim, positions: (0..<t).map { layout.position($0) }, base: c.ropeBase)
        // The prompt's attention products run inside the team's threads: OpenBLAS must not start its own.
        BLASThreads.single {
            team.run { [self] thread in
                self.run(thread: thread, work: work, tokens: t, layout: layout, rope: rope, outputRows: outputRows, logits: logits)
            }
        }
        switch layout {
        case .sequence(let cache, let start): cache.length = start + t
        case .streams(let caches, let positions): for (cache, p) in zip(caches, positions) { cache.length = p + 1 }
        }
    }

    /// Buffers of one forward pass: shared activations and each thread's quantised copies and scratch rows.
    final class Workspace {
        let x, q, attention, hidden: UnsafeMutablePointer<Float>     // [T, C], [T, C], [T, C], [T, F]
        let k, v: UnsafeMutablePointer<Float>                        // [T, Hkv·D]: the new keys and values before the cache
        let widened: [UnsafeMutablePointer<Float>]                   // per thread: one key head's keys and values, [2, keys, D]
        let quantised: [UnsafeMutableRawPointer]                     // per thread: T · max(C, F) / 32 blocks
        let normed: [UnsafeMutablePointer<Float>]                    // per thread: [T, C]
        let middle: [UnsafeMutablePointer<Float>]                    // per thread: [T, adapter rank]
        let gate, up: [UnsafeMutablePointer<Float>]                  // per thread: [T, F]
        let scores: [UnsafeMutablePointer<Float>]                    // per thread: [max(T, H), start + T]
        let partials: [UnsafeMutablePointer<Float>]                  // per thread: H × (D + 2), a decode step's share
        let combined: [UnsafeMutablePointer<Float>]                  // per thread: [C], a decode step's attention output
        let panels: [UnsafeMutablePointer<Float>]                    // per thread: [panelRows, max(C, F)] dequantised rows

        init(configuration c: LlamaConfiguration, tokens t: Int, keys: Int, threads: Int, rank: Int, floatProducts: Bool) {
            x = .allocate(capacity: t * c.embedding)
            q = .allocate(capacity: t * c.embedding)
            attention = .allocate(capacity: t * c.embedding)
            hidden = .allocate(capacity: t * c.feedForward)
            k = .allocate(capacity: t * c.keyValueWidth)
            v = .allocate(capacity: t * c.keyValueWidth)
            widened = (0..<threads).map { _ in .allocate(capacity: t > 1 ? 2 * keys * c.headDim : 1) }
            let widest = max(c.embedding, c.feedForward)
            quantised = (0..<threads).map { _ in .allocate(byteCount: t * widest / 32 * GGMLMatmul.activationBlockBytes, alignment: 64) }
            normed = (0..<threads).map { _ in .allocate(capacity: t * c.embedding) }
            middle = (0..<threads).map { _ in .allocate(capacity: max(1, t * rank)) }
            gate = (0..<threads).map { _ in .allocate(capacity: t * c.feedForward) }
            up = (0..<threads).map { _ in .allocate(capacity: t * c.feedForward) }
            scores = (0..<threads).map { _ in .allocate(capacity: max(t, c.heads) * keys) }
            partials = (0..<threads).map { _ in .allocate(capacity: c.heads * (c.headDim + 2)) }
            combined = (0..<threads).map { _ in .allocate(capacity: c.embedding) }
            panels = (0..<threads).map { _ in .allocate(capacity: floatProducts ? QuantizedLlama.panelRows * widest : 1) }
        }

        func deallocate() {
            for p in [x, q, attention, hidden, k, v] + normed + middle + gate + up + scores + widened + partials + combined + panels {
                p.deallocate()
            }
            for p in quantised { p.deallocate() }
        }
    }

    /// Thread `thread`'s part of one forward pass (see the type's comment).
    private func run(thread: Int, work: Workspace, tokens t: Int, layout: Layout, rope: RotaryTable,
                     outputRows: Range<Int>, logits: UnsafeMutablePointer<Float>) {
        let c = configuration, n = threads
        let (width, kv, ff) = (c.embedding, c.keyValueWidth, c.feedForward)
        let xq = work.quantised[thread], normed = work.normed[thread]
        let stride = max(width, ff) / 32      // activation blocks between tokens in xq
        let floatProducts = t >= floatProductTokens
        func normalise(rows: Range<Int>, weight: [Float], quantising: Bool) {
            for (k, i) in rows.enumerated() {
                rmsNorm(work.x + i * width, weight: weight, into: normed + k * width)
                if quantising {
                    GGMLMatmul.quantize(normed + k * width, count: width, into: xq + k * stride * GGMLMatmul.activationBlockBytes, path: path)
                }
            }
        }
        // out[i, rows] += (α/r)·B[rows]·A·x[i] for an adapted projection.
        func adapt(_ l: Int, _ kind: LlamaProjection, _ x: UnsafePointer<Float>, rows: Range<Int>, out: UnsafeMutablePointer<Float>, ldo: Int) {
            adapters?.add(layer: l, kind, input: x, tokens: t, rows: rows, out: out, ldo: ldo, scratch: work.middle[thread])
        }
        func quantise(_ source: UnsafeMutablePointer<Float>, width: Int) {
            if floatProducts { return }
            for i in 0..<t {
                GGMLMatmul.quantize(source + i * width, count: width, into: xq + i * stride * GGMLMatmul.activationBlockBytes, path: path)
            }
        }
        // out[i, rows] (+)= W[rows] · input[i]: from the quantised activations in xq, or for a long prompt from the
        // Float32 `input` [T, W.columns] and W's rows dequantised a panel at a time.
        func product(_ m: Matrix, rows: Range<Int>, tokens: Int, input: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                     ldo: Int, accumulate: Bool = false) {
            guard floatProducts else {
                GGMLMatmul.matmul(m.type, weight: m.base, rowBytes: m.rowBytes, rows: rows, blocks: m.blocks, x: xq, tokens: tokens,
                                  xStride: stride, out: out, ldo: ldo, accumulate: accumulate, path: path)
                return
            }
            let panel = work.panels[thread], k = m.columns
            for start in Swift.stride(from: rows.lowerBound, to: rows.upperBound, by: Self.panelRows) {
                let panelRows = start..<min(start + Self.panelRows, rows.upperBound)
                m.dequantizeRows(panelRows, into: panel)
                Kernels.gemm(transposeA: false, transposeB: true, m: tokens, n: panelRows.count, k: k, alpha: 1, input, lda: k,
                             panel, ldb: k, beta: accumulate ? 1 : 0, out + (start - rows.lowerBound), ldc: ldo)
            }
        }
        for (l, block) in blocks.enumerated() {
            // q, k, v: this thread's rows of the three stacked matrices, then RoPE on them.
            normalise(rows: 0..<t, weight: block.attentionNorm, quantising: !floatProducts)
            let mine = WorkerTeam.share(width + 2 * kv, thread, n)
            let qRows = mine.clamped(to: 0..<width)
            let kRows = mine.clamped(to: width..<(width + kv)), vRows = mine.clamped(to: (width + kv)..<(width + 2 * kv))
            product(block.query, rows: qRows, tokens: t, input: normed, out: work.q + qRows.lowerBound, ldo: width)
            let kLocal = (kRows.lowerBound - width)..<(kRows.upperBound - width)
            let vLocal = (vRows.lowerBound - width - kv)..<(vRows.upperBound - width - kv)
            product(block.key, rows: kLocal, tokens: t, input: normed, out: work.k + kLocal.lowerBound, ldo: kv)
            product(block.value, rows: vLocal, tokens: t, input: normed, out: work.v + vLocal.lowerBound, ldo: kv)
            adapt(l, .query, normed, rows: qRows, out: work.q + qRows.lowerBound, ldo: width)
            adapt(l, .key, normed, rows: kLocal, out: work.k + kLocal.lowerBound, ldo: kv)
            adapt(l, .value, normed, rows: vLocal, out: work.v + vLocal.lowerBound, ldo: kv)
            rotate(work.q, width: width, columns: qRows, tokens: t, rope: rope)
            rotate(work.k, width: kv, columns: kLocal, tokens: t, rope: rope)
            // This thread's columns of the new keys and values into the Float16 caches.
            for i in 0..<t {
                let (keys, values) = layout.cache(i).halfBuffers(layer: l), at = layout.position(i) * kv
                Kernels.narrowToHalfRows(work.k + i * kv + kLocal.lowerBound, sourceStride: kv, rows: 1, count: kLocal.count,
                                         into: keys + at + kLocal.lowerBound, stride: kv)
                Kernels.narrowToHalfRows(work.v + i * kv + vLocal.lowerBound, sourceStride: kv, rows: 1, count: vLocal.count,
                                         into: values + at + vLocal.lowerBound, stride: kv)
            }
            team.barrier()
            // Attention.
            var attended = work.attention
            switch layout {
            case .sequence(let cache, let start) where t > 1:
                // A prompt: this thread's heads, every new token.
                let (keys, values) = cache.halfBuffers(layer: l)
                var widenedHead = -1
                for h in WorkerTeam.share(c.heads, thread, n, align: 1) {
                    let keyHead = h / (c.heads / c.keyValueHeads)
                    if keyHead != widenedHead {
                        widenKeyHead(keyHead, keys: keys, values: values, length: start + t, into: work.widened[thread])
                        widenedHead = keyHead
                    }
                    attend(head: h, tokens: t, start: start, q: work.q, widened: work.widened[thread], out: work.attention,
                           scratch: work.scores[thread])
                }
                team.barrier()
            case .sequence(let cache, let start):
                // One token: the cached positions are shared out instead of the heads, so every cached row is read by
                // one thread only (with 3 key heads on 2 threads a split by heads reads one of them twice). Every
                // thread joins the shares into a buffer of its own (a shared one would be read by one thread while
                // another still writes it).
                let (keys, values) = cache.halfBuffers(layer: l)
                attendOneToken(positions: WorkerTeam.share(start + 1, thread, n, align: 1), q: work.q, keys: keys,
                               values: values, partial: work.partials[thread], scratch: work.scores[thread])
                team.barrier()
                attended = work.combined[thread]
                combinePartials(work.partials, into: attended)
            case .streams(let caches, let positions):
                // Several sequences: this thread's tokens, each over its own cache.
                for i in WorkerTeam.share(t, thread, n, align: 1) {
                    let (keys, values) = caches[i].halfBuffers(layer: l)
                    attendStream(row: i, length: positions[i] + 1, q: work.q, keys: keys, values: values, out: work.attention,
                                 scratch: work.scores[thread])
                }
                team.barrier()
            }
            // x += Wo · attention
            quantise(attended, width: width)
            let oRows = WorkerTeam.share(width, thread, n)
            product(block.output, rows: oRows, tokens: t, input: attended, out: work.x + oRows.lowerBound, ldo: width, accumulate: true)
            adapt(l, .output, attended, rows: oRows, out: work.x + oRows.lowerBound, ldo: width)
            team.barrier()
            // SwiGLU: this thread's rows of gate and up, multiplied as they come.
            normalise(rows: 0..<t, weight: block.feedForwardNorm, quantising: !floatProducts)
            let fRows = WorkerTeam.share(ff, thread, n)
            let g = work.gate[thread], u = work.up[thread], count = fRows.count
            product(block.gate, rows: fRows, tokens: t, input: normed, out: g, ldo: count)
            product(block.up, rows: fRows, tokens: t, input: normed, out: u, ldo: count)
            adapt(l, .gate, normed, rows: fRows, out: g, ldo: count)
            adapt(l, .up, normed, rows: fRows, out: u, ldo: count)
            VectorMath.silu(g, g, t * count)
            for i in 0..<t {
                let h = work.hidden + i * ff + fRows.lowerBound, gi = g + i * count, ui = u + i * count
                for j in 0..<count { h[j] = gi[j] * ui[j] }
            }
            team.barrier()
            // x += Wdown · hidden
            quantise(work.hidden, width: ff)
            product(block.down, rows: oRows, tokens: t, input: work.hidden, out: work.x + oRows.lowerBound, ldo: width, accumulate: true)
            adapt(l, .down, work.hidden, rows: oRows, out: work.x + oRows.lowerBound, ldo: width)
            team.barrier()
        }
        // logits = E · rmsNorm(x) for the rows asked for.
        // The head stays on the block product: usually one row is asked for, and the 49152 × 576 embedding is read once.
        normalise(rows: outputRows, weight: outputNorm, quantising: true)
        let vocabulary = WorkerTeam.share(c.vocabularySize, thread, n)
        GGMLMatmul.matmul(head.type, weight: head.base, rowBytes: head.rowBytes, rows: vocabulary, blocks: head.blocks, x: xq,
                          tokens: outputRows.count, xStride: stride, out: logits + vocabulary.lowerBound, ldo: c.vocabularySize, path: path)
    }

    /// y = x / sqrt(mean(x²) + ε) ⊙ weight for one row of the width.
    private func rmsNorm(_ x: UnsafePointer<Float>, weight: [Float], into y: UnsafeMutablePointer<Float>) {
        let width = configuration.embedding
        var sum: Float = 0
        for j in 0..<width { sum += x[j] * x[j] }
        let scale = 1 / (sum / Float(width) + configuration.normEpsilon).squareRoot()
        weight.withUnsafeBufferPointer { w in
            for j in 0..<width { y[j] = x[j] * scale * w[j] }
        }
    }

    /// RoPE on columns `columns` (whole pairs) of `t` rows `width` apart, in place.
    private func rotate(_ x: UnsafeMutablePointer<Float>, width: Int, columns: Range<Int>, tokens t: Int, rope: RotaryTable) {
        guard !columns.isEmpty else { return }
        let d = configuration.headDim, half = d / 2
        rope.cosines.withUnsafeBufferPointer { cosines in
            rope.sines.withUnsafeBufferPointer { sines in
                for i in 0..<t {
                    let row = x + i * width, cs = cosines.baseAddress! + i * half, sn = sines.baseAddress! + i * half
                    var j = columns.lowerBound
                    while j < columns.upperBound {
                        let pair = (j % d) / 2
                        let (a, b) = (row[j], row[j + 1])
                        row[j] = a * cs[pair] - b * sn[pair]
                        row[j + 1] = a * sn[pair] + b * cs[pair]
                        j += 2
                    }
                }
            }
        }
    }

    /// Key head `keyHead`'s first `length` keys and values from the Float16 cache, widened to Float32 for the prompt's
    /// attention products: [length, D] keys, then [length, D] values.
    private func widenKeyHead(_ keyHead: Int, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, length: Int,
                              into widened: UnsafeMutablePointer<Float>) {
        let d = configuration.headDim, kv = configuration.keyValueWidth
        Kernels.widenHalfRows(keys + keyHead * d, stride: kv, rows: length, count: d, into: widened)
        Kernels.widenHalfRows(values + keyHead * d, stride: kv, rows: length, count: d, into: widened + length * d)
    }

    /// Causal attention of query head h for the `t` new tokens over the cache (its key head's keys and values widened
    /// by `widenKeyHead`), into its D columns of `out`. The tokens go through two small products, as the float path's
    /// attention kernel does.
    private func attend(head h: Int, tokens t: Int, start: Int, q: UnsafeMutablePointer<Float>, widened: UnsafePointer<Float>,
                        out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let c = configuration, d = c.headDim, width = c.embedding
        let length = start + t, scale = 1 / Float(d).squareRoot()
        let query = q + h * d, result = out + h * d, key = widened, value = widened + length * d
        Kernels.gemm(transposeA: false, transposeB: true, m: t, n: length, k: d, alpha: scale, query, lda: width,
                     key, ldb: d, beta: 0, scratch, ldc: length)
        for i in 0..<t {
            let row = scratch + i * length, visible = start + i + 1
            Kernels.softmaxRow(row, row, visible, log: false)
            if visible < length { (row + visible).update(repeating: 0, count: length - visible) }
        }
        Kernels.gemm(transposeA: false, transposeB: false, m: t, n: d, k: length, alpha: 1, scratch, lda: length,
                     value, ldb: d, beta: 0, result, ldc: width)
    }

    /// This thread's share (`positions` of the cache) of one generated token's attention, for every query head: per
    /// head its unnormalised output, maximum score and sum of exponentials, H × (D + 2) floats in `partial`. Each key
    /// head's rows are read once for the query heads sharing it.
    private func attendOneToken(positions: Range<Int>, q: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<UInt16>,
                                values: UnsafeMutablePointer<UInt16>, partial: UnsafeMutablePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>) {
        let c = configuration, d = c.headDim, kv = c.keyValueWidth, group = c.heads / c.keyValueHeads
        let scale = 1 / Float(d).squareRoot()
        let outs = partial, maxima = partial + c.heads * d, sums = maxima + c.heads
        for keyHead in 0..<c.keyValueHeads {
            let h = keyHead * group, offset = positions.lowerBound * kv + keyHead * d
            Kernels.decodeAttentionPartialHalf(query: q + h * d, count: group, key: keys + offset, value: values + offset,
                                               stride: kv, length: positions.count, headSize: d, scale: scale,
                                               scratch: scratch, out: outs + h * d, maxima: maxima + h, sums: sums + h,
                                               vectorised: path != .portable)
        }
    }

    /// Token `row`'s attention over its own cache of `length` positions (a stream of a batched decode step), every head,
    /// into its row of `out`.
    private func attendStream(row: Int, length: Int, q: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<UInt16>,
                              values: UnsafeMutablePointer<UInt16>, out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let c = configuration, d = c.headDim, kv = c.keyValueWidth, group = c.heads / c.keyValueHeads
        let scale = 1 / Float(d).squareRoot()
        for keyHead in 0..<c.keyValueHeads {
            let h = keyHead * group
            Kernels.decodeAttentionHalf(query: q + row * c.embedding + h * d, count: group, key: keys + keyHead * d,
                                        value: values + keyHead * d, stride: kv, length: length, headSize: d, scale: scale,
                                        scratch: scratch, out: out + row * c.embedding + h * d, vectorised: path != .portable)
        }
    }

    /// The softmax over all cached positions from the threads' shares (`attendOneToken`), into row 0 of `out`.
    private func combinePartials(_ partials: [UnsafeMutablePointer<Float>], into out: UnsafeMutablePointer<Float>) {
        let c = configuration, d = c.headDim
        for h in 0..<c.heads {
            Kernels.combineAttentionPartials(partials, head: h, heads: c.heads, headSize: d, into: out + h * d)
        }
    }
}

/// LoRA adapters on the native path: each adapted projection adds (α/r)·B·A·x in Float32 after its block product,
/// two thin products (rank r ≪ width, about 1% of a step's multiply-adds at rank 8 on every projection).
struct LlamaAdapterProducts: @unchecked Sendable {
    /// A [r, in] and B [out, r] of one projection.
    struct Pair { let a: Tensor, b: Tensor, scale: Float }
    let layers: [[LlamaProjection: Pair]]
    let rank: Int

    init(_ lora: LlamaLoRA, model c: LlamaConfiguration, file: String) throws(GGUFError) {
        guard lora.adapters.count == c.layers else {
            throw .badMetadata(file: file, key: "llama.block_count", reason: "the model has \(c.layers) layers, the adapter \(lora.adapters.count)")
        }
        var layers: [[LlamaProjection: Pair]] = []
        for (l, layer) in lora.adapters.enumerated() {
            var pairs: [LlamaProjection: Pair] = [:]
            for (kind, adapter) in layer {
                guard [adapter.outputFeatures, adapter.inputFeatures] == kind.shape(in: c) else {
                    throw .badMetadata(file: file, key: "blk.\(l).\(kind.ggufName).weight",
                                       reason: "the adapter is [\(adapter.outputFeatures), \(adapter.inputFeatures)], the weight \(kind.shape(in: c))")
                }
                pairs[kind] = Pair(a: adapter.down.weight.detached(), b: adapter.up.weight.detached(), scale: adapter.scale)
            }
            layers.append(pairs)
        }
        (self.layers, rank) = (layers, lora.configuration.rank)
    }

    /// out[i, rows] += scale · B[rows] · (A · x[i]) for the `tokens` rows of `input` (each as wide as A's rows).
    func add(layer l: Int, _ kind: LlamaProjection, input x: UnsafePointer<Float>, tokens t: Int, rows: Range<Int>,
             out: UnsafeMutablePointer<Float>, ldo: Int, scratch middle: UnsafeMutablePointer<Float>) {
        guard let pair = layers[l][kind], !rows.isEmpty else { return }
        let (r, width) = (pair.a.shape[0], pair.a.shape[1])
        Kernels.gemm(transposeA: false, transposeB: true, m: t, n: r, k: width, alpha: pair.scale, x, lda: width,
                     pair.a.storage.pointer, ldb: width, beta: 0, middle, ldc: r)
        Kernels.gemm(transposeA: false, transposeB: true, m: t, n: rows.count, k: r, alpha: 1, middle, lda: r,
                     pair.b.storage.pointer + rows.lowerBound * r, ldb: r, beta: 1, out, ldc: ldo)
    }
}
