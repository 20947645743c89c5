import Foundation
import Testing
@testable import Synapse

/// Accuracy and special-value tests for the vectorised transcendental kernels, against double-precision libm.
@Suite(.synapseRuntime) struct VectorMathTests {
    typealias Kernel = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    /// Every `stride`-th float (by bit pattern) in [lo, hi], so the sweep is dense in every binade, tiny ones included.
    static func sweep(_ lo: Float, _ hi: Float, stride: UInt32) -> [Float] {
        precondition(lo <= hi)
        var values: [Float] = []
        func walk(from a: Float, to b: Float, sign: Float) {
            var bits = a.bitPattern
            while bits <= b.bitPattern {
                values.append(sign * Float(bitPattern: bits))
                let (next, overflow) = bits.addingReportingOverflow(stride)
                if overflow { break }
                bits = next
            }
        }
        if lo < 0 { walk(from: max(0, -hi), to: -lo, sign: -1) }
        if hi >= 0 { walk(from: max(0, lo), to: hi, sign: 1) }
        return values
    }

    static func apply(_ kernel: Kernel, _ xs: [Float]) -> [Float] {
        var ys = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in kernel(x.baseAddress!, y.baseAddress!, xs.count) }
        }
        return ys
    }

    /// Largest error in units of the last place of the correctly rounded result (subnormal results use the
    /// subnormal spacing). Results whose reference overflows or is NaN must match exactly and are counted apart.
    static func maxUlpError(_ kernel: Kernel, _ xs: [Float], _ reference: (Double) -> Double)
        -> (ulp: Double, worst: Float, mismatchedSpecials: [Float]) {
        let ys = apply(kernel, xs)
        var maxUlp = 0.0
        var worst: Float = 0
        var mismatched: [Float] = []
        for (x, y) in zip(xs, ys) {
            let exact = reference(Double(x))
            let rounded = Float(exact)
            if exact.isNaN || rounded.isInfinite {
                if !(exact.isNaN && y.isNaN) && y != rounded { mismatched.append(x) }
                continue
            }
            let error = abs(Double(y) - exact) / Double(rounded.magnitude.ulp)
            if !(error <= maxUlp) {  // also catches a NaN result
                maxUlp = error.isNaN ? .infinity : error
                worst = x
            }
        }
        return (maxUlp, worst, mismatched)
    }

    static func expectUlp(_ name: String, _ kernel: Kernel, _ xs: [Float], within bound: Double,
                          _ reference: (Double) -> Double) {
        let result = maxUlpError(kernel, xs, reference)
        #expect(result.ulp <= bound, "\(name): \(result.ulp) ulp at x = \(result.worst)")
        #expect(result.mismatchedSpecials.isEmpty, "\(name): overflow/NaN mismatch at \(result.mismatchedSpecials.prefix(5))")
    }

    static func sigmoidReference(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    // MARK: Accuracy sweeps

    @Test func expIsWithinTwoUlpFromUnderflowToOverflow() {
        // [-110, 90] covers the subnormal results, the flush to zero and the overflow to +inf.
        Self.expectUlp("exp", VectorMath.exp, Self.sweep(-110, 90, stride: 8191), within: 2) { Foundation.exp($0) }
    }

    @Test func logIsWithinTwoUlpOverAllPositiveFloats() {
        // Every binade from the smallest subnormal to the largest finite float.
        let xs = Self.sweep(Float.leastNonzeroMagnitude, .greatestFiniteMagnitude, stride: 8191)
        Self.expectUlp("log", VectorMath.log, xs, within: 2) { Foundation.log($0) }
        // Near 1 the result is tiny and relative accuracy is the hard part.
        Self.expectUlp("log near 1", VectorMath.log, Self.sweep(0.5, 2, stride: 97), within: 2) { Foundation.log($0) }
    }

    @Test func tanhIsWithinTwoUlp() {
        Self.expectUlp("tanh", VectorMath.tanh, Self.sweep(-12, 12, stride: 8191), within: 2) { Foundation.tanh($0) }
        // Both sides of the switch between the polynomial and the exp formula at |x| = 0.625.
        Self.expectUlp("tanh switch", VectorMath.tanh, Self.sweep(0.5, 0.75, stride: 31), within: 2) { Foundation.tanh($0) }
    }

    @Test func sigmoidIsWithinThreeUlpOnBothTails() {
        Self.expectUlp("sigmoid", VectorMath.sigmoid, Self.sweep(-110, 30, stride: 8191), within: 3,
                       Self.sigmoidReference)
    }

    @Test func erfIsWithinThreeUlp() {
        Self.expectUlp("erf", VectorMath.erf, Self.sweep(-5, 5, stride: 8191), within: 3) { Foundation.erf($0) }
        // Both sides of the switch between the two polynomials at |x| = 1, and of the saturation at 3.92.
        Self.expectUlp("erf switch", VectorMath.erf, Self.sweep(0.9, 1.1, stride: 31), within: 3) { Foundation.erf($0) }
        Self.expectUlp("erf tail", VectorMath.erf, Self.sweep(3.8, 4.0, stride: 31), within: 3) { Foundation.erf($0) }
    }

    @Test func siluIsWithinFourUlpWhereTheResultIsNormal() {
        // Below about -87 the sigmoid factor is subnormal and only absolutely accurate.
        Self.expectUlp("silu", VectorMath.silu, Self.sweep(-85, 30, stride: 8191), within: 4) {
            $0 * Self.sigmoidReference($0)
        }
    }

    // MARK: Special values

    @Test func expSpecialValues() {
        let xs: [Float] = [0, -0, 1, .infinity, -.infinity, .nan, 88.72283, 88.72284, 89, 1e30, -1e30, -87.5, -103, -104, -200]
        let ys = Self.apply(VectorMath.exp, xs)
        #expect(ys[0] == 1 && ys[1] == 1)
        #expect(abs(ys[2] - Float(M_E)) <= Float(M_E).ulp)
        #expect(ys[3] == .infinity && ys[4] == 0 && ys[5].isNaN)
        #expect(ys[6].isFinite && ys[6] > 3.4e38, "largest finite exp")
        #expect(ys[7] == .infinity && ys[8] == .infinity && ys[9] == .infinity)
        #expect(ys[10] == 0)
        #expect(ys[11].isSubnormal && ys[12].isSubnormal, "gradual underflow like libm")
        #expect(ys[13] == 0 && ys[14] == 0)
    }

    @Test func logSpecialValues() {
        let xs: [Float] = [1, 0, -0, -1, -.infinity, .infinity, .nan, .leastNonzeroMagnitude, .leastNormalMagnitude,
                           .greatestFiniteMagnitude, Float(M_E)]
        let ys = Self.apply(VectorMath.log, xs)
        #expect(ys[0] == 0)
        #expect(ys[1] == -.infinity && ys[2] == -.infinity)
        #expect(ys[3].isNaN && ys[4].isNaN)
        #expect(ys[5] == .infinity && ys[6].isNaN)
        #expect(ys[7] == Float(Foundation.log(Double(Float.leastNonzeroMagnitude))))
        #expect(ys[8] == Float(Foundation.log(Double(Float.leastNormalMagnitude))))
        #expect(ys[9] == Float(Foundation.log(Double(Float.greatestFiniteMagnitude))))
        #expect(abs(ys[10] - 1) <= Float(1).ulp)
    }

    @Test func tanhSaturatesExactly() {
        let xs: [Float] = [10, -10, 9.1, -9.1, 100, -1e30, .infinity, -.infinity, .nan, 0, -0]
        let ys = Self.apply(VectorMath.tanh, xs)
        #expect(Array(ys[0..<8]) == [1, -1, 1, -1, 1, -1, 1, -1])
        #expect(ys[8].isNaN)
        #expect(ys[9] == 0 && ys[10] == 0)
    }

    @Test func sigmoidSpecialValuesHaveNoNaN() {
        let xs: [Float] = [0, .infinity, -.infinity, 1000, -1000, -88, -100, .nan]
        let ys = Self.apply(VectorMath.sigmoid, xs)
        #expect(ys[0] == 0.5)
        #expect(ys[1] == 1 && ys[2] == 0 && ys[3] == 1 && ys[4] == 0)
        #expect(ys[5] > 0 && ys[6] > 0, "tiny but positive, like the exact value")
        #expect(ys[7].isNaN)
    }

    @Test func erfSaturatesExactly() {
        let xs: [Float] = [3.92, -3.92, 5, -5, 1e30, .infinity, -.infinity, .nan, 0]
        let ys = Self.apply(VectorMath.erf, xs)
        #expect(Array(ys[0..<7]) == [1, -1, 1, -1, 1, 1, -1])
        #expect(ys[7].isNaN && ys[8] == 0)
        let below = Self.apply(VectorMath.erf, Self.sweep(0, 3.92, stride: 1023))
        #expect(below.allSatisfy { $0 <= 1 }, "never above 1")
    }

    // MARK: Buffer handling

    @Test func resultsDoNotDependOnPositionOrTail() {
        // 16-float blocks plus a 5-float tail; each value must come out the same when processed alone.
        let xs: [Float] = (0..<37).map { Float($0) * 0.37 - 6.5 }
        let kernels: [(String, Kernel)] = [
            ("exp", VectorMath.exp), ("log", VectorMath.log), ("tanh", VectorMath.tanh),
            ("sigmoid", VectorMath.sigmoid), ("erf", VectorMath.erf), ("geluExact", VectorMath.geluExact),
            ("geluTanh", VectorMath.geluTanh), ("silu", VectorMath.silu),
        ]
        for (name, kernel) in kernels {
            let whole = Self.apply(kernel, xs)
            let single = xs.map { Self.apply(kernel, [$0])[0] }
            let sameBits = zip(whole, single).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(sameBits, "\(name): block and tail results differ")
            // In place, starting at an odd offset so the blocks are unaligned.
            var buffer = [Float(0)] + xs
            buffer.withUnsafeMutableBufferPointer { b in
                kernel(UnsafePointer(b.baseAddress! + 1), b.baseAddress! + 1, xs.count)
            }
            #expect(buffer[0] == 0, "\(name): wrote before the range")
            #expect(zip(buffer.dropFirst(), whole).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "\(name): in-place result differs")
        }
        // A zero count touches nothing.
        var untouched: [Float] = [7]
        untouched.withUnsafeMutableBufferPointer { b in VectorMath.exp(UnsafePointer(b.baseAddress!), b.baseAddress!, 0) }
        #expect(untouched == [7])
    }

    // MARK: Activations against PyTorch's formulas

    static func geluExactReference(_ x: Double) -> Double { 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())) }
    static func geluTanhReference(_ x: Double) -> Double {
        0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// The fixture tolerance used against PyTorch: 1e-5 relative plus 1e-6 absolute.
    static func expectClose(_ name: String, _ actual: [Float], _ xs: [Float], _ reference: (Double) -> Double) {
        var failures: [Float] = []
        for (x, y) in zip(xs, actual) {
            let exact = reference(Double(x))
            if !(abs(Double(y) - exact) <= 1e-5 * abs(exact) + 1e-6) { failures.append(x) }
        }
        #expect(failures.count == 0, "\(name): off at \(failures.count) points, first x = \(failures.prefix(5))")
    }

    @Test func geluAndSiluMatchTheirFormulas() {
        let xs = Self.sweep(-20, 20, stride: 8191) + [0, -0, 1e-30, -1e-30, 30, -30]
        Self.expectClose("geluExact", Self.apply(VectorMath.geluExact, xs), xs, Self.geluExactReference)
        Self.expectClose("geluTanh", Self.apply(VectorMath.geluTanh, xs), xs, Self.geluTanhReference)
        Self.expectClose("silu", Self.apply(VectorMath.silu, xs), xs) { $0 * Self.sigmoidReference($0) }
        // Large magnitudes: identity on the right, zero on the left, no NaN.
        let big: [Float] = [1e6, -1e6, 1e20, -1e20]
        for kernel in [VectorMath.geluExact, VectorMath.geluTanh, VectorMath.silu] as [Kernel] {
            let ys = Self.apply(kernel, big)
            #expect(ys[0] == 1e6 && ys[2] == 1e20)
            #expect(ys[1] == 0 && ys[3] == 0)
        }
    }

    // MARK: Backward kernels

    typealias BackwardKernel = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    static func applyBackward(_ kernel: BackwardKernel, _ xs: [Float], _ gs: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            gs.withUnsafeBufferPointer { g in
                out.withUnsafeMutableBufferPointer { o in kernel(x.baseAddress!, g.baseAddress!, o.baseAddress!, xs.count) }
            }
        }
        return out
    }

    @Test func backwardKernelsMatchAnalyticDerivatives() {
        let xs = Self.sweep(-12, 12, stride: 16381)
        // Gradients of both signs and various sizes, so the g-scaling is checked too.
        let gs: [Float] = xs.indices.map { Float(($0 * 7919) % 201 - 100) / 37 }
        func normalPdf(_ x: Double) -> Double { Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }
        func normalCdf(_ x: Double) -> Double { 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) }
        func geluTanhDerivative(_ x: Double) -> Double {
            let k = (2 / Double.pi).squareRoot()
            let t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        }
        func siluDerivative(_ x: Double) -> Double {
            let s = Self.sigmoidReference(x)
            return s * (1 + x * (1 - s))
        }
        let cases: [(String, BackwardKernel, (Double) -> Double)] = [
            ("geluExactBackward", { x, g, out, n in
                var (y, cdf) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
                VectorMath.geluExact(x, &y, cdf: &cdf, n)
                VectorMath.geluExactBackward(x: x, cdf: cdf, gradOutput: g, gradInput: out, count: n)
             },
             { normalCdf($0) + $0 * normalPdf($0) }),
            ("geluTanhBackward", { VectorMath.geluTanhBackward(x: $0, gradOutput: $1, gradInput: $2, count: $3) },
             geluTanhDerivative),
            ("siluBackward", { VectorMath.siluBackward(x: $0, gradOutput: $1, gradInput: $2, count: $3) },
             siluDerivative),
            // These two take the forward output; feed them the exact output so only the backward formula is tested.
            ("tanhBackward", { x, g, out, n in
                let y = (0..<n).map { Float(Foundation.tanh(Double(x[$0]))) }
                VectorMath.tanhBackward(output: y, gradOutput: g, gradInput: out, count: n)
             }, { 1 - Foundation.pow(Foundation.tanh($0), 2) }),
            ("sigmoidBackward", { x, g, out, n in
                let y = (0..<n).map { Float(Self.sigmoidReference(Double(x[$0]))) }
                VectorMath.sigmoidBackward(output: y, gradOutput: g, gradInput: out, count: n)
             }, { Self.sigmoidReference($0) * (1 - Self.sigmoidReference($0)) }),
        ]
        for (name, kernel, derivative) in cases {
            let out = Self.applyBackward(kernel, xs, gs)
            var failures: [Float] = []
            for i in xs.indices {
                let exact = Double(gs[i]) * derivative(Double(xs[i]))
                if !(abs(Double(out[i]) - exact) <= 1e-5 * abs(exact) + 1e-6 * max(1, abs(Double(gs[i])))) {
                    failures.append(xs[i])
                }
            }
            #expect(failures.count == 0, "\(name): off at \(failures.count) points, first x = \(failures.prefix(5))")
            // gradInput aliasing gradOutput (the in-place form autograd uses) gives the same values.
            var inPlace = gs
            xs.withUnsafeBufferPointer { x in
                inPlace.withUnsafeMutableBufferPointer { g in
                    kernel(x.baseAddress!, UnsafePointer(g.baseAddress!), g.baseAddress!, xs.count)
                }
            }
            #expect(inPlace == out, "\(name): in-place result differs")
        }
    }
}
