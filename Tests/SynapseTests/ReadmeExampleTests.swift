import Testing
import Synapse

/// The README's example, kept compiling and correct.
@Test(.synapseRuntime) func readmeExample() {
    // A neuron: a = tanh(w·x + b), then backpropagation by the chain rule.
    let x = Tensor([2.0, 0.0])                       // inputs
    let w = Tensor([-3.0, 1.0]).requiringGrad()      // weights
    let b = Tensor(6.8813735870195432).requiringGrad()  // bias
    let a = ((x * w).sum() + b).tanh()               // forward pass
    a.backward()                                     // backward pass
    #expect(abs(a.item - 0.7071) < 1e-4)
    #expect(abs(w.grad![0] - 1.0) < 1e-4)            // ∂a/∂w1 = x1·(1 − a²)
    #expect(abs(b.grad!.item - 0.5) < 1e-4)          // ∂a/∂b  = 1 − a²
}
