import Synapse
/// Per-layer timings of the MNIST `cnn` workload behind `synapse bench cnn`:
/// conv 3×3 1→32, ReLU, max-pool 2, conv 3×3 32→64, ReLU, max-pool 2, flatten, linear 1600→128, ReLU, linear 10,
/// cross-entropy. `scripts/bench_conv_torch.py` times the same layers in PyTorch with the same rule
/// (median of repeated runs after a warm-up).
///
/// ```swift
/// for layer in ConvBenchmarks.mnistCNN(batch: 64) { print(layer.name, layer.forwardBackwardSeconds) }
/// ```
public enum ConvBenchmarks {
    public struct LayerTiming: Sendable {
        public var name: String
        public var outputShape: [Int]
        /// One forward call (graph recorded, as in training).
        public var forwardSeconds: Double
        /// Forward, then backward from a fixed upstream gradient, into the layer's inputs and parameters.
        public var forwardBackwardSeconds: Double
    }

    /// Times each layer of the workload at `batch` images, then the whole forward + backward pass ("step").
    public static func mnistCNN(batch: Int = 64, minimumSeconds: Double = 0.5) -> [LayerTiming] {
        var rng = RandomGenerator(seed: 3)
        let images = Tensor.uniform([batch, 1, 28, 28], generator: &rng)
        let targets = (0..<batch).map { _ in rng.nextInt(below: 10) }
        let w1 = Tensor.kaimingUniform([32, 1, 3, 3], gain: 1 / Float(3).squareRoot(), generator: &rng).requiringGrad()
        let b1 = Tensor.uniform([32], low: -0.3, high: 0.3, generator: &rng).requiringGrad()
        let w2 = Tensor.kaimingUniform([64, 32, 3, 3], gain: 1 / Float(3).squareRoot(), generator: &rng).requiringGrad()
        let b2 = Tensor.uniform([64], low: -0.05, high: 0.05, generator: &rng).requiringGrad()
        let w3 = Tensor.kaimingUniform([128, 1600], gain: 1 / Float(3).squareRoot(), generator: &rng).requiringGrad()
        let b3 = Tensor.uniform([128], low: -0.02, high: 0.02, generator: &rng).requiringGrad()
        let w4 = Tensor.kaimingUniform([10, 128], gain: 1 / Float(3).squareRoot(), generator: &rng).requiringGrad()
        let b4 = Tensor.uniform([10], low: -0.09, high: 0.09, generator: &rng).requiringGrad()
        let parameters = [w1, b1, w2, b2, w3, b3, w4, b4]

        // Realistic inputs for each layer: the previous layer's output, as a fresh leaf that needs its gradient
        // (except the images, whose gradient training never needs).
        let (a1, r1, p1, a2, r2, _, f, h, hr, logits) = noGrad {
            let a1 = images.conv2d(weight: w1, bias: b1)
            let r1 = a1.relu(), p1 = r1.maxPool2d(kernelSize: 2)
            let a2 = p1.conv2d(weight: w2, bias: b2)
            let r2 = a2.relu(), p2 = r2.maxPool2d(kernelSize: 2)
            let f = p2.flattened()
            let h = f.linear(weight: w3, bias: b3), hr = h.relu()
            return (a1, r1, p1, a2, r2, p2, f, h, hr, hr.linear(weight: w4, bias: b4))
        }
        let layers: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("conv1 1→32 3×3", [images], { $0[0].conv2d(weight: w1, bias: b1) }),
            ("relu1", [a1.requiringGrad()], { $0[0].relu() }),
            ("maxpool1 2×2", [r1.requiringGrad()], { $0[0].maxPool2d(kernelSize: 2) }),
            ("conv2 32→64 3×3", [p1.requiringGrad()], { $0[0].conv2d(weight: w2, bias: b2) }),
            ("relu2", [a2.requiringGrad()], { $0[0].relu() }),
            ("maxpool2 2×2", [r2.requiringGrad()], { $0[0].maxPool2d(kernelSize: 2) }),
            ("linear 1600→128", [f.requiringGrad()], { $0[0].linear(weight: w3, bias: b3) }),
            ("relu3", [h.requiringGrad()], { $0[0].relu() }),
            ("linear 128→10", [hr.requiringGrad()], { $0[0].linear(weight: w4, bias: b4) }),
            ("cross-entropy", [logits.requiringGrad()], { $0[0].crossEntropy(targets: targets) }),
            ("step (all layers)", [images], { x in
                let y = x[0].conv2d(weight: w1, bias: b1).relu().maxPool2d(kernelSize: 2)
                    .conv2d(weight: w2, bias: b2).relu().maxPool2d(kernelSize: 2).flattened()
                    .linear(weight: w3, bias: b3).relu().linear(weight: w4, bias: b4)
                return y.crossEntropy(targets: targets)
            }),
        ]
        var upstreamRNG = RandomGenerator(seed: 4)
        return layers.map { name, inputs, body in
            let shape = noGrad { body(inputs) }.shape
            let upstream = Tensor.randn(shape, generator: &upstreamRNG)
            let forward = Stopwatch.median(minimumRuns: 10, minimumSeconds: minimumSeconds) { _ = body(inputs) }
            let both = Stopwatch.median(minimumRuns: 10, minimumSeconds: minimumSeconds) {
                body(inputs).backward(upstream)
                for t in inputs + parameters { t.zeroGrad() }
            }
            return LayerTiming(name: name, outputShape: shape, forwardSeconds: forward, forwardBackwardSeconds: both)
        }
    }
}
