/// The state a recurrent layer carries between time steps, for every layer: `hidden` is [layers, batch, hidden]
/// (PyTorch's h_n layout, also with batch-first input), `cell` the LSTM's c_n (nil for RNN and GRU).
///
/// For truncated backpropagation through time, feed the previous batch's final state, detached:
///
/// ```swift
/// var state: RecurrentState? = nil
/// for batch in batches {
///     let (output, final) = lstm(batch, state: state)
///     ...                                   // loss, backward, step
///     state = final.detached()              // carry the values, cut the graph
/// }
/// ```
public struct RecurrentState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }

    /// The same values without graph history.
    public func detached() -> RecurrentState { RecurrentState(hidden: hidden.detached(), cell: cell?.detached()) }
}

/// What the three recurrent layers share: PyTorch's parameter names and initialisation, layer stacking, and the
/// splitting and stacking of per-layer states. Subclasses supply the single-layer op.
public class RecurrentLayer: Module {
    public let inputSize: Int
    public let hiddenSize: Int
    public let layerCount: Int
    /// Gates per step: LSTM 4, GRU 3, the plain RNN 1.
    class var gateCount: Int { 1 }
    var gateCount: Int { Self.gateCount }
    /// Per layer, in PyTorch's order: weight_ih_lk [G·H, in], weight_hh_lk [G·H, H], bias_ih_lk, bias_hh_lk [G·H].
    var weightsIH: [Tensor], weightsHH: [Tensor], biasesIH: [Tensor], biasesHH: [Tensor]

    /// A stack with freshly initialised parameters drawn from `generator`.
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0,
                     "\(Self.self): sizes must be positive, got input \(inputSize), hidden \(hiddenSize), layers \(layers)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        layerCount = layers
        func uniform(_ shape: [Int]) -> Tensor { Tensor.recurrentParameter(shape, hiddenSize: hiddenSize, generator: &generator) }
        let g = Self.gateCount * hiddenSize
        (weightsIH, weightsHH, biasesIH, biasesHH) = ([], [], [], [])
        for layer in 0..<layers {
            weightsIH.append(uniform([g, layer == 0 ? inputSize : hiddenSize]))
            weightsHH.append(uniform([g, hiddenSize]))
            if bias {
                biasesIH.append(uniform([g]))
                biasesHH.append(uniform([g]))
            }
        }
        super.init()
    }

    /// A stack initialised from the process-wide generator (see `Random.seed(_:)`).
    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true) {
        var generator = Random.independentGenerator()
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    public var hasBias: Bool { !biasesIH.isEmpty }

    public override func members() -> ModuleMembers {
        var tensors: [(name: String, tensor: Tensor)] = []
        for layer in 0..<layerCount {
            tensors.append(("weight_ih_l\(layer)", weightsIH[layer]))
            tensors.append(("weight_hh_l\(layer)", weightsHH[layer]))
            if hasBias {
                tensors.append(("bias_ih_l\(layer)", biasesIH[layer]))
                tensors.append(("bias_hh_l\(layer)", biasesHH[layer]))
            }
        }
        return ModuleMembers(tensors: tensors, children: extraChildren())
    }

    /// Child modules of a subclass (the notes' RNN output map).
    func extraChildren() -> [(name: String, module: Module)] { [] }

    /// One layer over a batch-first sequence: (outputs [B, T, H], final hidden [B, H], final cell [B, H] or nil).
    func runLayer(_ layer: Int, _ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        preconditionFailure("\(type(of: self)) must implement runLayer")
    }

    /// Runs every layer over batch-first `input` [B, T, inputSize] from `state` (zeros when nil).
    ///
    /// - Returns: the last layer's output at every step [B, T, H] and the final state of every layer.
    public func callAsFunction(_ input: Tensor, state: RecurrentState?) -> (output: Tensor, state: RecurrentState) {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "\(type(of: self)): input must be [batch, steps, \(inputSize)], got \(input.shape)")
        let batch = input.shape[0]
        if let state { checkState(state, batch: batch) }
        return run(batch: batch, state: state) { hidden, cell in runLayer(0, input, hidden: hidden, cell: cell) }
    }

    /// Runs the stack on token ids looked up in `embedding`, as a language model does: the same result as
    /// `self(embedding(tokens: tokens, shape: [batch, steps]), state: state)`.
    ///
    /// When the layer can take its first input projection from upstream (LSTM) and the vocabulary is smaller than
    /// the number of tokens, it projects the embedding table once (E·W_ihᵀ + b_ih, [V, G·H]) and looks the tokens up
    /// in that, instead of projecting every embedded token: for the char-lstm workload a [65, 128]·[128, 1024]
    /// product replaces a [2048, 128]·[128, 1024] one, and likewise for both gradients.
    ///
    /// ```swift
    /// let (y, state) = lstm(tokens: ids, shape: [32, 64], embedding: embed, state: nil)   // y [32, 64, H]
    /// ```
    public func callAsFunction(tokens: [Int], shape: [Int], embedding: Embedding,
                               state: RecurrentState?) -> (output: Tensor, state: RecurrentState) {
        precondition(shape.count == 2 && shape[0] > 0 && shape[0] * shape[1] == tokens.count,
                     "\(type(of: self)): \(tokens.count) tokens do not fill shape \(shape)")
        precondition(embedding.dimension == inputSize,
                     "\(type(of: self)): embedding dimension \(embedding.dimension) differs from the input size \(inputSize)")
        guard acceptsProjectedInput, embedding.paddingIndex == nil, embedding.vocabularySize < tokens.count else {
            return self(embedding(tokens: tokens, shape: shape), state: state)
        }
        let batch = shape[0]
        if let state { checkState(state, batch: batch) }
        var table = embedding.weight.matmul(weightsIH[0].transposed())                 // (V, G·H)
        if hasBias { table = table + biasesIH[0] }
        let projected = Tensor.embedding(tokens, shape: shape, weight: table)          // (B, T, G·H)
        return run(batch: batch, state: state) { hidden, cell in
            runLayer(0, projected: projected, hidden: hidden, cell: cell)
        }
    }

    /// Whether `runLayer(_:projected:hidden:cell:)` is implemented.
    var acceptsProjectedInput: Bool { false }

    /// Layer 0 on an input already multiplied by weight_ih_l0 (with bias_ih_l0 added).
    func runLayer(_ layer: Int, projected: Tensor, hidden: Tensor?, cell: Tensor?) -> (Tensor, Tensor, Tensor?) {
        preconditionFailure("\(type(of: self)) does not take projected input")
    }

    private func checkState(_ state: RecurrentState, batch: Int) {
        precondition(state.hidden.shape == [layerCount, batch, hiddenSize],
                     "\(type(of: self)): initial hidden state must be [\(layerCount), \(batch), \(hiddenSize)], got \(state.hidden.shape)")
        if let cell = state.cell {
            precondition(cell.shape == state.hidden.shape,
                         "\(type(of: self)): initial cell state \(cell.shape) differs from the hidden state \(state.hidden.shape)")
        }
    }

    /// The layer loop: `firstLayer` runs layer 0 from its initial (hidden, cell); each later layer reads the one below.
    private func run(batch: Int, state: RecurrentState?,
                     firstLayer: (Tensor?, Tensor?) -> (Tensor, Tensor, Tensor?)) -> (output: Tensor, state: RecurrentState) {
        func layerSlice(_ t: Tensor?, _ layer: Int) -> Tensor? {
            guard let t else { return nil }
            return layerCount == 1 ? t.reshaped([batch, hiddenSize])
                : t.slice(axis: 0, layer..<(layer + 1)).reshaped([batch, hiddenSize])
        }
        var x: Tensor? = nil
        var hiddens: [Tensor] = [], cells: [Tensor] = []
        for layer in 0..<layerCount {
            let (hidden, cell) = (layerSlice(state?.hidden, layer), layerSlice(state?.cell, layer))
            let (y, h, c) = x.map { runLayer(layer, $0, hidden: hidden, cell: cell) } ?? firstLayer(hidden, cell)
            hiddens.append(h)
            if let c { cells.append(c) }
            x = y
        }
        func stacked(_ list: [Tensor]) -> Tensor {
            layerCount == 1 ? list[0].reshaped([1, batch, hiddenSize]) : Tensor.stack(list, axis: 0)
        }
        return (x!, RecurrentState(hidden: stacked(hiddens), cell: cells.isEmpty ? nil : stacked(cells)))
    }

    /// The output sequence only, from a zero state (so the layer fits in a `Sequential`).
    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input, state: nil).output }
}

extension Tensor {
    /// A trainable recurrent weight or bias drawn as PyTorch draws all of them: U(−1/√H, 1/√H).
    static func recurrentParameter(_ shape: [Int], hiddenSize: Int, generator: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(hiddenSize).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, generator: &generator).requiringGrad()
    }
}
