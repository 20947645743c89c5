import Synapse
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The benchmark behind `synapse bench quant`: int8 inference (`QuantizedLinear`) against Float32 (`Linear`, one
/// OpenBLAS sgemm) on the same layer shapes, at a given batch size.
///
/// The int8 time includes everything a forward pass does: quantizing the input rows, the integer product and the
/// rescale. Batch 1 is a matrix-vector product, bound by reading the weights, where int8's 4× fewer bytes pay off.
///
/// ```swift
/// for r in QuantizationBenchmark.run(batchSizes: [1, 64]) { print(r.name, r.batchSize, r.speedup) }
/// ```
public enum QuantizationBenchmark {
    public struct Result: Sendable {
        /// "linear 784→256" or "mlp 784-256-128-10".
        public var name: String
        public var batchSize: Int
        public var floatSeconds: Double
        public var int8Seconds: Double
        /// A single layer at batch 1 through `cblas_sgemv` (what a Float32 GEMV can do without `Linear`'s sgemm
        /// call); nil for batches and whole models.
        public var sgemvSeconds: Double?
        /// Float32 `Linear` time / int8 time.
        public var speedup: Double { floatSeconds / int8Seconds }
    }

    /// Times a 3×3 convolution (32→64 channels on 14×14), the MNIST mlp's 784→256 and 256→128 layers and the whole mlp (weights small enough to stay in the L2
    /// cache between passes), and with `includeLarge` a 4096→4096 layer whose weights must come from memory, at each
    /// batch size (median of repeated runs).
    public static func run(batchSizes: [Int] = [1, 64], includeLarge: Bool = true, minimumSeconds: Double = 0.5) -> [Result] {
        var rng = RandomGenerator(seed: 3)
        let mlp = MNISTArchitecture.mlp.makeModel(generator: &rng).eval()
        let int8 = PostTrainingQuantization(method: .int8Absmax, granularity: .perChannel).quantize(mlp).model
        var cases: [(String, Module, Module, Int)] = []
        for index in [0, 2] {
            let layer = mlp.layers[index] as! Linear
            cases.append(("linear \(layer.inputFeatures)→\(layer.outputFeatures)", layer, int8.layers[index], layer.inputFeatures))
        }
        cases.append(("mlp 784-256-128-10", mlp, int8, 784))
        // A convolution of an MNIST CNN's second block: 32→64 channels, 3×3, on 14×14 feature maps.
        let conv = Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &rng)
        let convCase = ("conv 32→64 3×3 14×14", conv as Module, QuantizedConv2d(conv, scheme: .absmax, granularity: .perChannel) as Module)
        if includeLarge {
            // 64 MB of Float32 weights: far beyond the caches, so every forward pass streams the weights from memory.
            let large = Linear(4096, 4096, generator: &rng)
            cases.append(("linear 4096→4096", large, QuantizedLinear(large, scheme: .absmax, granularity: .perChannel), 4096))
        }
        var results: [Result] = []
        for batch in batchSizes {
            let images = Tensor.uniform([batch, 32, 14, 14], generator: &rng)
            let convFloat = noGrad { Stopwatch.median(minimumRuns: 20, minimumSeconds: minimumSeconds) { _ = convCase.1(images) } }
            let convInt8 = noGrad { Stopwatch.median(minimumRuns: 20, minimumSeconds: minimumSeconds) { _ = convCase.2(images) } }
            results.append(Result(name: convCase.0, batchSize: batch, floatSeconds: convFloat, int8Seconds: convInt8))
            for (name, float, quantized, inputs) in cases {
                let x = Tensor.uniform([batch, inputs], generator: &rng)
                let floatTime = noGrad { Stopwatch.median(minimumRuns: 20, minimumSeconds: minimumSeconds) { _ = float(x) } }
                let int8Time = noGrad { Stopwatch.median(minimumRuns: 20, minimumSeconds: minimumSeconds) { _ = quantized(x) } }
                var sgemvTime: Double?
                if batch == 1, let layer = float as? Linear {
                    let w = layer.weight.detached(), (n, k) = (layer.outputFeatures, layer.inputFeatures)
                    var y = Tensor.zeros([n])
                    sgemvTime = Stopwatch.median(minimumRuns: 20, minimumSeconds: minimumSeconds) {
                        w.withUnsafeBufferPointer { wp in
                            x.withUnsafeBufferPointer { xp in
                                y.withUnsafeMutableBufferPointer { yp in
                                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, wp.baseAddress, Int32(k),
                                                xp.baseAddress, 1, 0, yp.baseAddress, 1)
                                }
                            }
                        }
                    }
                }
                results.append(Result(name: name, batchSize: batch, floatSeconds: floatTime, int8Seconds: int8Time,
                                      sgemvSeconds: sgemvTime))
            }
        }
        return results
    }
}
