/// Synapse: a deep-learning framework in Swift.
///
/// The library is layered the way the notes tell the story: `Tensor` and its `Kernels` at the bottom, reverse-mode
/// `Autograd` over them, differentiable `Ops`, then neural-network modules, losses, optimizers and training.
public enum Synapse {
    /// The library version, recorded in saved models.
    public static let version = "0.1.0"
}
