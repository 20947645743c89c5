// Losses that compare real-valued predictions with real-valued targets of the same shape.

/// Mean squared error, (ŷ − y)² averaged (or summed) over all elements, as PyTorch's `nn.MSELoss`.
///
/// ```swift
/// let loss = mseLoss(model(x), y)       // a scalar; loss.backward()
/// ```
public func mseLoss(_ predictions: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(predictions.shape == targets.shape,
                 "mseLoss: predictions \(predictions.shape) and targets \(targets.shape) differ in shape")
    let difference = predictions - targets
    return (difference * difference).reduced(reduction)
}

/// The quadratic cost of the notes, C = ½·mean((ŷ − y)²): the ½ cancels the 2 of the derivative, so
/// ∂C/∂ŷ = (ŷ − y)/n.
///
/// ```swift
/// let cost = quadraticCost(network(x), y)
/// ```
public func quadraticCost(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
    mseLoss(predictions, targets) * 0.5
}

/// Mean absolute error, |ŷ − y| averaged (or summed), as PyTorch's `nn.L1Loss`; less sensitive to outliers than MSE.
///
/// ```swift
/// let loss = l1Loss(predictions, targets, reduction: .sum)
/// ```
public func l1Loss(_ predictions: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(predictions.shape == targets.shape,
                 "l1Loss: predictions \(predictions.shape) and targets \(targets.shape) differ in shape")
    return (predictions - targets).abs().reduced(reduction)
}
