import Foundation

/// The agent's networks: a policy that maps an observation to a probability for each action, and a value function
/// that estimates the return to expect from that observation.
///
/// Two separate multi-layer perceptrons with tanh (stable-baselines3's `MlpPolicy`: 64-64 each by default),
/// orthogonally initialised with SB3's gains (√2 hidden, 0.01 for the action logits so the first policy is close to
/// uniform, 1 for the value) and zero biases. The parameter names are SB3's state-dict keys
/// (`mlp_extractor.policy_net.0.weight`, `action_net.weight`, `value_net.bias`, …), so a policy saved by Synapse
/// lines up with one saved by `model.policy.state_dict()`.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let agent = ActorCritic(observationSize: 4, actionCount: 2, generator: &rng)
/// let (logits, values) = agent(observations)    // [N, 4] → [N, 2], [N]
/// ```
public final class ActorCritic: Module {
    /// Holds the two torsos under SB3's names.
    final class Extractor: Module {
        let policyNet: Sequential
        let valueNet: Sequential
        init(policyNet: Sequential, valueNet: Sequential) {
            self.policyNet = policyNet
            self.valueNet = valueNet
            super.init()
        }
        override func members() -> ModuleMembers {
            ModuleMembers(children: [("policy_net", policyNet), ("value_net", valueNet)])
        }
    }

    let extractor: Extractor
    public let actionNet: Linear
    public let valueNet: Linear
    public let observationSize: Int
    public let actionCount: Int
    public let hidden: [Int]

    public var policyNet: Sequential { extractor.policyNet }
    public var valueTorso: Sequential { extractor.valueNet }

    public init(observationSize: Int, actionCount: Int, hidden: [Int] = [64, 64], generator: inout RandomGenerator) {
        precondition(observationSize > 0 && actionCount > 1 && !hidden.isEmpty && hidden.allSatisfy { $0 > 0 },
                     "ActorCritic: needs a positive observation size, at least 2 actions and positive hidden widths, got \(observationSize), \(actionCount), \(hidden)")
        self.observationSize = observationSize
        self.actionCount = actionCount
        self.hidden = hidden
        func torso(_ rng: inout RandomGenerator) -> Sequential {
            var layers: [Module] = []
            var width = observationSize
            for next in hidden {
                layers.append(Self.orthogonalLinear(width, next, gain: Float(2).squareRoot(), &rng))
                layers.append(Tanh())
                width = next
            }
            return Sequential(layers)
        }
        let policy = torso(&generator)
        let value = torso(&generator)
        extractor = Extractor(policyNet: policy, valueNet: value)
        actionNet = Self.orthogonalLinear(hidden.last!, actionCount, gain: 0.01, &generator)
        valueNet = Self.orthogonalLinear(hidden.last!, 1, gain: 1, &generator)
        super.init()
    }

    static func orthogonalLinear(_ input: Int, _ output: Int, gain: Float, _ rng: inout RandomGenerator) -> Linear {
        Linear(weight: Tensor.orthogonal([output, input], gain: gain, generator: &rng), bias: Tensor.zeros([output]))
    }

    public override func members() -> ModuleMembers {
        ModuleMembers(children: [("mlp_extractor", extractor), ("action_net", actionNet), ("value_net", valueNet)])
    }

    /// Action logits [N, actions] and state values [N] for observations [N, observationSize].
    public func callAsFunction(_ observations: Tensor) -> (logits: Tensor, values: Tensor) {
        precondition(observations.rank == 2 && observations.shape[1] == observationSize,
                     "ActorCritic: observations must be [N, \(observationSize)], got \(observations.shape)")
        return (actionNet(extractor.policyNet(observations)), valueNet(extractor.valueNet(observations)).reshaped([-1]))
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor { self(input).logits }

    /// Action logits only (acting needs no value).
    public func logits(_ observations: Tensor) -> Tensor { actionNet(extractor.policyNet(observations)) }

    /// The most probable action for each observation [N, observationSize] (deterministic evaluation).
    public func greedyActions(_ observations: Tensor) -> [Int] { noGrad { logits(observations).argmaxRows() } }
}

/// A categorical distribution over actions given by logits, one row per state.
public struct Categorical {
    /// [N, actions] log-probabilities.
    public let logProbabilities: Tensor

    public init(logits: Tensor) {
        precondition(logits.rank == 2, "Categorical: logits must be [N, actions], got \(logits.shape)")
        logProbabilities = logits.logSoftmax(axis: 1)
    }

    /// log π(a|s) of the given actions, [N], differentiable.
    public func logProbability(of actions: [Int]) -> Tensor {
        let (rows, classes) = (logProbabilities.shape[0], logProbabilities.shape[1])
        precondition(actions.count == rows, "Categorical.logProbability: \(actions.count) actions for \(rows) rows")
        var oneHot = [Float](repeating: 0, count: rows * classes)
        for (i, a) in actions.enumerated() {
            precondition(a >= 0 && a < classes, "Categorical.logProbability: action \(a) outside 0..<\(classes)")
            oneHot[i * classes + a] = 1
        }
        return (logProbabilities * Tensor(shape: [rows, classes], scalars: oneHot)).sum(axis: 1)
    }

    /// −Σ p log p per row, [N], differentiable.
    public func entropy() -> Tensor { -(logProbabilities.exp() * logProbabilities).sum(axis: 1) }

    /// One action per row drawn from the distribution (inverse CDF on one uniform draw each).
    public func sample(generator: inout RandomGenerator) -> [Int] {
        let (rows, classes) = (logProbabilities.shape[0], logProbabilities.shape[1])
        let logp = logProbabilities.scalars
        return (0..<rows).map { i in
            let u = Double(generator.nextUniform())
            var cumulative = 0.0
            for a in 0..<(classes - 1) {
                cumulative += Foundation.exp(Double(logp[i * classes + a]))
                if u < cumulative { return a }
            }
            return classes - 1
        }
    }
}
