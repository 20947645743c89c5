/// A fully connected layer: y = x·Wᵀ + b, with the weight laid out [out, in] as in PyTorch.
///
/// Both weight and bias start from U(−1/√in, 1/√in), PyTorch's default. The forward pass is one fused sgemm
/// (`Tensor.linear(weight:bias:)`) with the bias as the starting accumulator; no transposed copies are made.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let layer = Linear(784, 16, generator: &rng)
/// let y = layer(x)                        // [N, 784] → [N, 16]
/// layer.weight.shape                      // [16, 784]
/// ```
public final class Linear: Module {
    public var weight: Tensor
    public var bias: Tensor?

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    /// A layer with freshly initialised parameters drawn from `generator`.
    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputFeatures > 0 && outputFeatures > 0,
                     "Linear: feature counts must be positive, got \(inputFeatures) → \(outputFeatures)")
        (weight, self.bias) = Tensor.defaultLayerParameters(weightShape: [outputFeatures, inputFeatures], bias: bias,
                                                            generator: &generator)
        super.init()
    }

    /// A layer initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inputFeatures, outputFeatures, bias: bias, generator: &generator)
    }

    /// A layer with the given weight [out, in] and optional bias [out] (copied, made trainable).
    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        self.weight = weight.detached().requiringGrad()
        self.bias = bias?.detached().requiringGrad()
        super.init()
    }

    public override func members() -> ModuleMembers { .weightAndBias(weight, bias) }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        input.linear(weight: weight, bias: bias)
    }
}
