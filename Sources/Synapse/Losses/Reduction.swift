/// How a loss combines its per-element (or per-example) values: `.mean` (the default everywhere), `.sum`, or `.none`
/// to keep them all. The same enum the fused cross-entropy op takes.
public typealias Reduction = Tensor.Reduction

extension Tensor {
    /// Applies `reduction` to a tensor of per-element losses.
    func reduced(_ reduction: Reduction) -> Tensor {
        switch reduction {
        case .none: self
        case .sum: sum()
        case .mean: mean()
        }
    }
}
