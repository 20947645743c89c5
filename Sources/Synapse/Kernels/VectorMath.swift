#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

// Placeholder with libm, replaced by the vectorised implementation on the kernels branch.
enum VectorMath {
    static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = expf(x[i]) } }
    static func log(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = logf(x[i]) } }
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = tanhf(x[i]) } }
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = 1 / (1 + expf(-x[i])) } }
    static func erf(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = erff(x[i]) } }
    static func geluExact(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)) }
    }
    static func geluTanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { let v = x[i]; y[i] = 0.5 * v * (1 + tanhf(0.7978845608028654 * (v + 0.044715 * v * v * v))) }
    }
    static func silu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { for i in 0..<n { y[i] = x[i] / (1 + expf(-x[i])) } }
    static func geluExactBackward(x: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = x[i]
            let cdf = 0.5 * (1 + erff(v * 0.70710678118654752))
            let pdf = expf(-0.5 * v * v) * 0.3989422804014327
            gradInput[i] = gradOutput[i] * (cdf + v * pdf)
        }
    }
    static func geluTanhBackward(x: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = x[i]
            let k: Float = 0.7978845608028654
            let inner = k * (v + 0.044715 * v * v * v)
            let t = tanhf(inner)
            let dinner = k * (1 + 3 * 0.044715 * v * v)
            gradInput[i] = gradOutput[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dinner)
        }
    }
    static func siluBackward(x: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let s = 1 / (1 + expf(-x[i]))
            gradInput[i] = gradOutput[i] * s * (1 + x[i] * (1 - s))
        }
    }
}
