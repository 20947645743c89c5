/// Factories: constant, range and random tensors, and the standard weight initialisers.
extension Tensor {
    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "full: negative dimension in \(shape)")
        return Tensor(shape: shape, storage: TensorStorage(repeating: value, count: shape.reduce(1, *)))
    }

    /// All zeros: `Tensor.zeros([2, 3])`.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    /// All ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
    /// Zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { full(other.shape, 0) }
    /// Ones with the shape of `other`.
    public static func ones(like other: Tensor) -> Tensor { full(other.shape, 1) }

    /// `start, start + step, …` up to but excluding `end`, like `torch.arange`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        var result = Tensor(uninitializedShape: [count])
        result.withUnsafeMutableBufferPointer { out in
            for i in 0..<count { out[i] = start + Float(i) * step }
        }
        return result
    }

    /// `count` evenly spaced values from `start` to `end` inclusive, like `torch.linspace`.
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: negative count \(count)")
        var result = Tensor(uninitializedShape: [count])
        let step = count > 1 ? (end - start) / Float(count - 1) : 0
        result.withUnsafeMutableBufferPointer { out in
            for i in 0..<count { out[i] = start + Float(i) * step }
            if count > 1 { out[count - 1] = end }
        }
        return result
    }

    /// The n×n identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var result = zeros([n, n])
        result.withUnsafeMutableBufferPointer { out in
            for i in 0..<n { out[i * n + i] = 1 }
        }
        return result
    }

    // MARK: Random

    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               generator: inout RandomGenerator) -> Tensor {
        var result = Tensor(uninitializedShape: shape)
        let scale = high - low
        result.withUnsafeMutableBufferPointer { out in
            for i in out.indices { out[i] = low + scale * generator.nextUniform() }
        }
        return result
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              generator: inout RandomGenerator) -> Tensor {
        var result = Tensor(uninitializedShape: shape)
        result.withUnsafeMutableBufferPointer { out in
            for i in out.indices { out[i] = mean + std * generator.nextNormal() }
        }
        return result
    }

    /// Standard normal samples (`torch.randn`).
    public static func randn(_ shape: [Int], generator: inout RandomGenerator) -> Tensor {
        normal(shape, generator: &generator)
    }

    /// Standard normal samples from the process-wide generator (see `Random.seed`).
    public static func randn(_ shape: [Int]) -> Tensor {
        Random.withGenerator { normal(shape, generator: &$0) }
    }

    /// Uniform [0, 1) samples from the process-wide generator.
    public static func rand(_ shape: [Int]) -> Tensor {
        Random.withGenerator { uniform(shape, generator: &$0) }
    }

    // MARK: Initialisers

    /// Fan-in and fan-out of a weight shaped like PyTorch's: [out, in] or [out, in, k…].
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fans: weight of shape \(shape) needs at least 2 dimensions")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)); keeps variance across tanh/sigmoid layers.
    public static func xavierUniform(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = fans(of: shape)
        let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
        return uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Xavier/Glorot normal: N(0, gain²·2 / (fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = fans(of: shape)
        return normal(shape, std: gain * (2 / Float(fanIn + fanOut)).squareRoot(), generator: &generator)
    }

    /// Kaiming/He uniform for ReLU layers: U(−b, b) with b = gain·√(3 / fanIn), gain = √2 by default.
    public static func kaimingUniform(_ shape: [Int], gain: Float = Float(2).squareRoot(),
                                      generator: inout RandomGenerator) -> Tensor {
        let bound = gain * (3 / Float(fans(of: shape).fanIn)).squareRoot()
        return uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// PyTorch's default parameters for a layer (nn.Linear, nn.ConvNd): weight and optional bias both drawn from
    /// U(−1/√fanIn, 1/√fanIn), with fanIn = in/groups·kernel size; both require grad.
    public static func defaultLayerParameters(weightShape: [Int], bias: Bool,
                                              generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor?) {
        let bound = 1 / Float(fans(of: weightShape).fanIn).squareRoot()
        let weight = uniform(weightShape, low: -bound, high: bound, generator: &generator).requiringGrad()
        let bias = bias ? uniform([weightShape[0]], low: -bound, high: bound, generator: &generator).requiringGrad() : nil
        return (weight, bias)
    }

    /// Orthogonal initialisation (Saxe et al.), as `torch.nn.init.orthogonal_`: a Gaussian matrix made orthonormal
    /// (rows or columns, whichever are fewer) by QR with R's diagonal made positive, times `gain`. Reinforcement-learning
    /// policies start this way (stable-baselines3: gain √2 for hidden layers, 0.01 for the action layer, 1 for the value).
    public static func orthogonal(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        precondition(shape.count >= 2, "orthogonal: weight of shape \(shape) needs at least 2 dimensions")
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        // Orthonormalise the `short` vectors of length `long` by modified Gram–Schmidt in Double: the Q of a QR
        // factorisation with a positive diagonal in R, which is what PyTorch's sign correction produces.
        let (long, short) = (Swift.max(rows, columns), Swift.min(rows, columns))
        var vectors = (0..<(short * long)).map { _ in Double(generator.nextNormal()) }   // [short][long]
        for i in 0..<short {
            for j in 0..<i {
                var dot = 0.0
                for k in 0..<long { dot += vectors[i * long + k] * vectors[j * long + k] }
                for k in 0..<long { vectors[i * long + k] -= dot * vectors[j * long + k] }
            }
            var norm = 0.0
            for k in 0..<long { norm += vectors[i * long + k] * vectors[i * long + k] }
            norm = norm.squareRoot()
            for k in 0..<long { vectors[i * long + k] /= norm }
        }
        var scalars = [Float](repeating: 0, count: rows * columns)
        for i in 0..<short {
            for k in 0..<long {
                // rows ≥ columns: the vectors are Q's columns; otherwise they are its rows.
                let index = rows >= columns ? k * columns + i : i * columns + k
                scalars[index] = gain * Float(vectors[i * long + k])
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Kaiming/He normal: N(0, gain² / fanIn), gain = √2 by default.
    public static func kaimingNormal(_ shape: [Int], gain: Float = Float(2).squareRoot(),
                                     generator: inout RandomGenerator) -> Tensor {
        normal(shape, std: gain / Float(fans(of: shape).fanIn).squareRoot(), generator: &generator)
    }
}
