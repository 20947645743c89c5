#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

// Losses for yes/no targets in [0, 1], one per output element. Both are fused: one pass forward, the closed-form
// derivative backward, so saturated inputs cannot produce NaN through a chain of log and division ops.

/// Binary cross-entropy from probabilities p ∈ [0, 1], as PyTorch's `nn.BCELoss`:
/// −(y·log p + (1 − y)·log(1 − p)), each log clamped at −100 so p = 0 or 1 gives a large finite loss.
///
/// The gradient is (p − y)/max(p(1 − p), 1e-12), as PyTorch computes it. Prefer `binaryCrossEntropyWithLogits` on
/// raw scores: it is more stable than a sigmoid followed by this loss.
///
/// ```swift
/// let loss = binaryCrossEntropy(probabilities: model(x).sigmoid(), targets: labels)
/// ```
public func binaryCrossEntropy(probabilities: Tensor, targets: Tensor, weight: Tensor? = nil,
                               reduction: Reduction = .mean) -> Tensor {
    precondition(probabilities.shape == targets.shape,
                 "binaryCrossEntropy: probabilities \(probabilities.shape) and targets \(targets.shape) differ in shape")
    let n = probabilities.count
    var out = Tensor.zeros(probabilities.shape)
    probabilities.withUnsafeBufferPointer { p in
        targets.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { l in
                for i in 0..<n {
                    precondition(p[i] >= 0 && p[i] <= 1, "binaryCrossEntropy: probability \(p[i]) is outside [0, 1]")
                    l[i] = -(y[i] * max(logf(p[i]), -100) + (1 - y[i]) * max(logf(1 - p[i]), -100))
                }
            }
        }
    }
    let (pd, yd, needY) = (probabilities.detached(), targets.detached(), targets.requiresGrad)
    var losses = Tensor.record(out, op: "binary_cross_entropy", inputs: [probabilities, targets]) { g in
        var gp = Tensor.zeros(pd.shape), gy = Tensor.zeros(pd.shape)
        pd.withUnsafeBufferPointer { p in
            yd.withUnsafeBufferPointer { y in
                g.withUnsafeBufferPointer { gs in
                    gp.withUnsafeMutableBufferPointer { dp in
                        for i in 0..<n { dp[i] = gs[i] * (p[i] - y[i]) / max(p[i] * (1 - p[i]), 1e-12) }
                    }
                    if needY {
                        gy.withUnsafeMutableBufferPointer { dy in
                            for i in 0..<n { dy[i] = -gs[i] * (max(logf(p[i]), -100) - max(logf(1 - p[i]), -100)) }
                        }
                    }
                }
            }
        }
        return [gp, needY ? gy : nil]
    }
    if let weight { losses = losses * weight }
    return losses.reduced(reduction)
}

/// Binary cross-entropy from raw scores (logits) z, as PyTorch's `nn.BCEWithLogitsLoss`: the sigmoid is folded into
/// the loss and computed stably as max(z, 0) − z·y + log(1 + e^−|z|), which never overflows. ∂/∂z = σ(z) − y.
///
/// ```swift
/// let loss = binaryCrossEntropyWithLogits(logits: model(x), targets: labels)
/// ```
public func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, weight: Tensor? = nil,
                                         reduction: Reduction = .mean) -> Tensor {
    precondition(logits.shape == targets.shape,
                 "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) differ in shape")
    let n = logits.count
    var out = Tensor.zeros(logits.shape)
    logits.withUnsafeBufferPointer { z in
        targets.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { l in
                for i in 0..<n { l[i] = max(z[i], 0) - z[i] * y[i] + log1pf(expf(-abs(z[i]))) }
            }
        }
    }
    let (zd, yd, needY) = (logits.detached(), targets.detached(), targets.requiresGrad)
    var losses = Tensor.record(out, op: "binary_cross_entropy_with_logits", inputs: [logits, targets]) { g in
        var gz = Tensor.zeros(zd.shape), gy = Tensor.zeros(zd.shape)
        zd.withUnsafeBufferPointer { z in
            yd.withUnsafeBufferPointer { y in
                g.withUnsafeBufferPointer { gs in
                    gz.withUnsafeMutableBufferPointer { dz in
                        for i in 0..<n {
                            // σ(z) without overflow for large |z|.
                            let e = expf(-abs(z[i]))
                            let sigmoid = z[i] >= 0 ? 1 / (1 + e) : e / (1 + e)
                            dz[i] = gs[i] * (sigmoid - y[i])
                        }
                    }
                    if needY {
                        gy.withUnsafeMutableBufferPointer { dy in for i in 0..<n { dy[i] = -gs[i] * z[i] } }
                    }
                }
            }
        }
        return [gz, needY ? gy : nil]
    }
    if let weight { losses = losses * weight }
    return losses.reduced(reduction)
}
