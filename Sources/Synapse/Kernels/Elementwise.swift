import CSynapseKernels

/// Elementwise kernels: a generic loop specialised per op at compile time (no per-element closure calls), run over
/// contiguous buffers and split across cores when large.

/// A scalar function of one Float, inlined into the loops that use it.
protocol UnaryKernel { static func apply(_ x: Float) -> Float }
/// A scalar function of two Floats, inlined into the broadcasting loops.
protocol BinaryKernel { static func apply(_ a: Float, _ b: Float) -> Float }

enum Kernels {
    /// y[i] = K(x[i]) over `count` elements, in parallel above the threshold.
    @inline(__always)
    static func map<K: UnaryKernel>(_: K.Type, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        Parallel.forRanges(count) { range in
            let xs = x + range.lowerBound, ys = y + range.lowerBound
            for i in 0..<range.count { ys[i] = K.apply(xs[i]) }
        }
    }

    /// Applies a single-threaded buffer function (such as `VectorMath.exp`) over chunks, in parallel above the threshold.
    @inline(__always)
    static func chunked(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                        _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
        Parallel.forRanges(count) { range in body(x + range.lowerBound, y + range.lowerBound, range.count) }
    }

    /// out = K(a, b) with NumPy broadcasting. `aShape`/`bShape` are the operands' shapes; `outShape` their broadcast.
    static func broadcast<K: BinaryKernel>(_: K.Type, _ a: UnsafePointer<Float>, _ aShape: [Int],
                                           _ b: UnsafePointer<Float>, _ bShape: [Int],
                                           _ out: UnsafeMutablePointer<Float>, _ outShape: [Int]) {
        let count = outShape.reduce(1, *)
        if count == 0 { return }
        let aCount = aShape.reduce(1, *), bCount = bShape.reduce(1, *)
        // Fast paths: equal shapes, or one operand a single value.
        if aCount == count && bCount == count {
            if K.self == AddOp.self {
                add(a, b, out, count)
                return
            }
            Parallel.forRanges(count) { r in
                let lhs = a + r.lowerBound, rhs = b + r.lowerBound, dst = out + r.lowerBound
                for i in 0..<r.count { dst[i] = K.apply(lhs[i], rhs[i]) }
            }
            return
        }
        if bCount == 1 && aCount == count {
            let bv = b[0]
            Parallel.forRanges(count) { r in
                let lhs = a + r.lowerBound, dst = out + r.lowerBound
                for i in 0..<r.count { dst[i] = K.apply(lhs[i], bv) }
            }
            return
        }
        if aCount == 1 && bCount == count {
            let av = a[0]
            Parallel.forRanges(count) { r in
                let rhs = b + r.lowerBound, dst = out + r.lowerBound
                for i in 0..<r.count { dst[i] = K.apply(av, rhs[i]) }
            }
            return
        }
        // General case: collapse dimensions, then run the innermost dimension as a tight loop in which each operand
        // either advances (stride 1) or stays put (stride 0, broadcast).
        let plan = BroadcastPlan(aShape: aShape, bShape: bShape, outShape: outShape)
        let inner = plan.innerCount
        let rows = count / inner
        let (sa, sb) = (plan.aInnerStride, plan.bInnerStride)
        Parallel.forRanges(rows, threshold: max(1, Parallel.elementwiseThreshold / inner)) { rowRange in
            var (offA, offB) = plan.offsets(ofRow: rowRange.lowerBound)
            var counter = plan.counter(ofRow: rowRange.lowerBound)
            for row in rowRange {
                let lhs = a + offA, rhs = b + offB, dst = out + row * inner
                switch (sa, sb) {
                case (1, 1): for i in 0..<inner { dst[i] = K.apply(lhs[i], rhs[i]) }
                case (1, 0): let bv = rhs[0]; for i in 0..<inner { dst[i] = K.apply(lhs[i], bv) }
                case (0, 1): let av = lhs[0]; for i in 0..<inner { dst[i] = K.apply(av, rhs[i]) }
                default: let v = K.apply(lhs[0], rhs[0]); for i in 0..<inner { dst[i] = v }
                }
                plan.advance(&counter, &offA, &offB)
            }
        }
    }
}

extension Kernels {
    /// y = a + b over `count` contiguous elements (y may be a or b), in parallel above the threshold: the AVX-512
    /// kernel where the CPU has it, else the Swift loop (its reference: `AVX512KernelTests.addMatchesTheSwiftLoop`).
    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    _ count: Int, allowAVX512: Bool = true) {
        let vector = allowAVX512 && CPUFeatures.avx512
        Parallel.forRanges(count) { r in
            let (lhs, rhs, dst) = (a + r.lowerBound, b + r.lowerBound, y + r.lowerBound)
            if vector { return synapse_add_avx512(lhs, rhs, dst, r.count) }
            for i in 0..<r.count { dst[i] = lhs[i] + rhs[i] }
        }
    }
}

/// Index bookkeeping for a broadcast binary op, after merging dimensions that can be walked as one.
struct BroadcastPlan {
    /// Collapsed outer dimensions (all but the innermost) and each operand's element stride along them.
    var outerShape: [Int] = []
    var aStrides: [Int] = []
    var bStrides: [Int] = []
    var innerCount = 1
    var aInnerStride = 1
    var bInnerStride = 1

    init(aShape: [Int], bShape: [Int], outShape: [Int]) {
        let rank = outShape.count
        func paddedStrides(_ shape: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            let strides = Shape.strides(of: padded)
            return (0..<rank).map { padded[$0] == 1 && outShape[$0] != 1 ? 0 : strides[$0] }
        }
        var dims: [(size: Int, sa: Int, sb: Int)] = []
        let sa = paddedStrides(aShape), sb = paddedStrides(bShape)
        for axis in 0..<rank where outShape[axis] != 1 {
            let d = (outShape[axis], sa[axis], sb[axis])
            if let last = dims.last, last.sa == d.1 * d.0, last.sb == d.2 * d.0 {
                dims[dims.count - 1] = (last.size * d.0, d.1, d.2)  // merge: contiguous for both operands
            } else {
                dims.append(d)
            }
        }
        guard let innermost = dims.popLast() else { return }
        innerCount = innermost.size
        aInnerStride = innermost.sa
        bInnerStride = innermost.sb
        outerShape = dims.map(\.size)
        aStrides = dims.map(\.sa)
        bStrides = dims.map(\.sb)
    }

    func counter(ofRow row: Int) -> [Int] {
        var counter = [Int](repeating: 0, count: outerShape.count)
        var rest = row
        for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
            counter[axis] = rest % outerShape[axis]
            rest /= outerShape[axis]
        }
        return counter
    }

    func offsets(ofRow row: Int) -> (Int, Int) {
        let counter = counter(ofRow: row)
        var offA = 0, offB = 0
        for axis in 0..<counter.count {
            offA += counter[axis] * aStrides[axis]
            offB += counter[axis] * bStrides[axis]
        }
        return (offA, offB)
    }

    @inline(__always)
    func advance(_ counter: inout [Int], _ offA: inout Int, _ offB: inout Int) {
        var axis = outerShape.count - 1
        while axis >= 0 {
            counter[axis] += 1
            offA += aStrides[axis]
            offB += bStrides[axis]
            if counter[axis] < outerShape[axis] { return }
            offA -= aStrides[axis] * outerShape[axis]
            offB -= bStrides[axis] * outerShape[axis]
            counter[axis] = 0
            axis -= 1
        }
    }
}

// MARK: The scalar rules the loops are specialised with

enum AddOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum MaxOp: BinaryKernel {
    // NaN propagates, as in torch.maximum.
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b || a.isNaN ? a : b }
}
enum MinOp: BinaryKernel {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b || a.isNaN ? a : b }
}
enum PowOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { powf(a, b) } }
enum EqualOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
enum NotEqualOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 } }
enum LessOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 } }
enum LessEqualOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 } }
enum GreaterOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }
enum GreaterEqualOp: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }

enum NegOp: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { -x } }
enum AbsOp: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { Swift.abs(x) } }
enum SqrtOp: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() } }
enum SquareOp: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x * x } }
enum ReluOp: UnaryKernel {
    // A plain compare-select (SIMD pointwiseMax would scalarise at the default target, see the performance notes),
    // written so that NaN passes through as in PyTorch instead of hiding a diverged model behind zeros.
    @inline(__always) static func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
}
enum SignOp: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) } }

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif
