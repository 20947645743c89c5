/// LoRA (Hu et al. 2021), low-rank adaptation: fine-tuning that leaves a pre-trained weight W frozen and learns a
/// correction of rank r beside it,
///
///     y = W·x + (α/r)·B·A·dropout(x)          A: [r, in], B: [out, r]
///
/// so a 576×576 projection trains 2·8·576 = 9,216 numbers at rank 8 instead of 331,776. A starts from Kaiming-uniform
/// (bound 1/√in, PyTorch's `kaiming_uniform_` with a = √5, as PEFT draws it) and B from zeros, so training starts
/// from the base model exactly. After training, (α/r)·B·A can be added into W (`delta`) and the adapter dropped.
///
/// The tensors are named as PEFT names them (`lora_A.weight`, `lora_B.weight`), so a state dict of adapters is
/// PEFT's adapter file.
///
/// ```swift
/// let adapter = LoRAAdapter(inputFeatures: 576, outputFeatures: 576, rank: 8, alpha: 16, generator: &rng)
/// let y = h.linear(frozen: wq) + adapter(h)        // the adapted q projection
/// ```
public final class LoRAAdapter: Module {
    /// `lora_A`: [r, in].
    public let down: Linear
    /// `lora_B`: [out, r].
    public let up: Linear
    public let alpha: Float
    /// Dropout on the adapter's input (PEFT's `lora_dropout`); nil for none.
    public let dropout: Dropout?

    public var rank: Int { down.outputFeatures }
    public var inputFeatures: Int { down.inputFeatures }
    public var outputFeatures: Int { up.outputFeatures }
    /// α/r, the factor on B·A.
    public var scale: Float { alpha / Float(rank) }

    /// A fresh adapter: A from Kaiming-uniform, B zeros.
    public init(inputFeatures: Int, outputFeatures: Int, rank: Int, alpha: Float, dropout: Float = 0,
                generator: inout RandomGenerator) {
        precondition(rank > 0 && inputFeatures > 0 && outputFeatures > 0,
                     "LoRAAdapter: rank \(rank) and features \(inputFeatures) → \(outputFeatures) must be positive")
        let bound = 1 / Float(inputFeatures).squareRoot()
        let a = Tensor.uniform([rank, inputFeatures], low: -bound, high: bound, generator: &generator)
        self.down = Linear(weight: a)
        self.up = Linear(weight: Tensor.zeros([outputFeatures, rank]))
        self.alpha = alpha
        self.dropout = dropout > 0 ? Dropout(probability: dropout, seed: generator.next()) : nil
        super.init()
    }

    /// An adapter with the given A [r, in] and B [out, r] (read from a file).
    public init(a: Tensor, b: Tensor, alpha: Float) {
        precondition(a.rank == 2 && b.rank == 2 && b.shape[1] == a.shape[0],
                     "LoRAAdapter: A \(a.shape) and B \(b.shape) are not [r, in] and [out, r]")
        (down, up, self.alpha, dropout) = (Linear(weight: a), Linear(weight: b), alpha, nil)
        super.init()
    }

    public override func members() -> ModuleMembers {
        var children: [(name: String, module: Module)] = [("lora_A", down), ("lora_B", up)]
        if let dropout { children.append(("lora_dropout", dropout)) }
        return ModuleMembers(children: children)
    }

    /// (α/r)·B·A·dropout(x) for x of shape [..., in]: [..., out]. The scale multiplies the rank-r middle, the
    /// smallest tensor on the way.
    public override func callAsFunction(_ x: Tensor) -> Tensor {
        up(down(dropout.map { $0(x) } ?? x) * scale)
    }

    /// The whole update (α/r)·B·A as one [out, in] matrix, to add into W.
    public var delta: Tensor {
        noGrad { up.weight.matmul(down.weight) * scale }
    }
}

/// A `Linear` layer, frozen, with a LoRA adapter beside it: y = base(x) + adapter(x). Only the adapter trains.
///
/// ```swift
/// let fc = LoRALinear(base: pretrained.fc1, rank: 4, alpha: 8, generator: &rng)
/// let optimizer = AdamW(parameters: fc.parameters(), learningRate: 1e-3)   // A and B only
/// ```
public final class LoRALinear: Module {
    public let base: Linear
    public let adapter: LoRAAdapter

    /// Wraps `base` (its tensors stop requiring gradients) with a fresh adapter.
    public init(base: Linear, rank: Int, alpha: Float, dropout: Float = 0, generator: inout RandomGenerator) {
        base.weight = base.weight.detached()
        base.bias = base.bias?.detached()
        self.base = base
        adapter = LoRAAdapter(inputFeatures: base.inputFeatures, outputFeatures: base.outputFeatures, rank: rank,
                              alpha: alpha, dropout: dropout, generator: &generator)
        super.init()
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("base_layer", base), ("adapter", adapter)])
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { base(x) + adapter(x) }

    /// A plain `Linear` with the update added into its weight: the same function, one product.
    public func merged() -> Linear {
        Linear(weight: base.weight + adapter.delta, bias: base.bias)
    }
}
