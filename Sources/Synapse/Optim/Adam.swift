/// Adam (Kingma & Ba) with PyTorch's exact bias correction, optional L2 weight decay and optional AMSGrad —
/// `torch.optim.Adam`.
///
/// With gradient g (plus λ·p when weight decay λ is set), step t, betas β₁ β₂:
///
///     m = m + (1 − β₁)·(g − m)            running mean of gradients
///     v = β₂·v + (1 − β₂)·g²              running mean of squared gradients
///     v̂ = max(v̂, v)                        (AMSGrad only; v̂ replaces v below)
///     p = p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// All three updates happen in one pass over the parameter.
///
/// ```swift
/// let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-3)
/// ```
public class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let amsgrad: Bool
    /// Whether weight decay is decoupled from the gradient (AdamW) instead of added to it (L2, Adam).
    let decoupledWeightDecay: Bool

    public convenience init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad)
    }

    public convenience init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            amsgrad: Bool = false) {
        self.init(groups: groups, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, decoupled: false)
    }

    init(groups: [ParameterGroup], beta1: Float, beta2: Float, epsilon: Float, amsgrad: Bool, decoupled: Bool) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "\(decoupled ? "AdamW" : "Adam"): betas must be in [0, 1), got \(beta1), \(beta2)")
        precondition(epsilon >= 0, "\(decoupled ? "AdamW" : "Adam"): negative epsilon \(epsilon)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupled
        super.init(groups: groups, bufferNames: amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"])
    }

    public override func step() {
        let (b1, b2, eps, amsgrad, decoupled) = (beta1, beta2, epsilon, self.amsgrad, decoupledWeightDecay)
        forEachParameterWithGradientConcurrently { b, s, group in
            let lr = group.learningRate
            // Bias corrections in Double, as PyTorch computes them in Python floats.
            let t = Double(s.step)
            let correction1 = 1 - _pow(Double(b1), t)
            // PyTorch divides √v by √(1 − β₂ᵗ); multiplying by the reciprocal saves a division per element (≤ 1 ulp apart).
            let inverseCorrection2Sqrt = Float(1 / (1 - _pow(Double(b2), t)).squareRoot())
            // AdamW shrinks the weights before the step; Adam adds the decay to the gradient instead.
            let scalars = Kernels.AdamScalars(shrink: decoupled ? 1 - lr * group.weightDecay : 1,
                                              l2: decoupled ? 0 : group.weightDecay, beta1: b1, beta2: b2,
                                              stepSize: Float(Double(lr) / correction1),
                                              inverseCorrection2Sqrt: inverseCorrection2Sqrt, epsilon: eps)
            Kernels.adamStep(parameter: b.parameter, gradient: b.gradient, count: b.count,
                             m: s.buffers[0].optimizerStatePointer, v: s.buffers[1].optimizerStatePointer,
                             peak: amsgrad ? s.buffers[2].optimizerStatePointer : nil, scalars)
        }
    }
}

/// βᵗ for the bias corrections, without importing Foundation into the optimizers.
@inline(__always)
func _pow(_ base: Double, _ exponent: Double) -> Double {
    // Exponents are step counts (whole numbers): square-and-multiply is exact to rounding.
    var result = 1.0, b = base, n = Int(exponent)
    while n > 0 {
        if n & 1 == 1 { result *= b }
        b *= b
        n >>= 1
    }
    return result
}
