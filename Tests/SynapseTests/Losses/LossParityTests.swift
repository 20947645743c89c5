import Testing
@testable import Synapse

/// Every loss against PyTorch (Fixtures/nn.json): values and gradients for each reduction and option.
@Suite(.synapseRuntime) struct LossParityTests {
    static func reduction(_ config: [String: Any]) -> Reduction {
        switch config["reduction"] as? String ?? "mean" {
        case "sum": .sum
        case "none": .none
        default: .mean
        }
    }

    static func loss(_ config: [String: Any], _ input: Tensor, _ targets: Any) -> Tensor {
        let reduction = reduction(config)
        let classWeights = (config["class_weights"] as? [Double])?.map(Float.init)
        let ignoreIndex = config["ignore_index"] as? Int
        let weight = config["weight"].map(Fixtures.tensor)
        switch config["kind"] as! String {
        case "mse": return mseLoss(input, Fixtures.tensor(targets), reduction: reduction)
        case "l1": return l1Loss(input, Fixtures.tensor(targets), reduction: reduction)
        case "quadratic_cost": return quadraticCost(input, Fixtures.tensor(targets))
        case "cross_entropy":
            return crossEntropyLoss(logits: input, targets: targets as! [Int], classWeights: classWeights,
                                    ignoreIndex: ignoreIndex,
                                    labelSmoothing: Float(config["label_smoothing"] as? Double ?? 0), reduction: reduction)
        case "nll":
            return nllLoss(logProbabilities: input, targets: targets as! [Int], classWeights: classWeights,
                           ignoreIndex: ignoreIndex, reduction: reduction)
        case "bce":
            return binaryCrossEntropy(probabilities: input, targets: Fixtures.tensor(targets), weight: weight, reduction: reduction)
        case "bce_logits":
            return binaryCrossEntropyWithLogits(logits: input, targets: Fixtures.tensor(targets), weight: weight,
                                                reduction: reduction)
        case let kind: fatalError("unknown loss kind \(kind)")
        }
    }

    @Test func lossesMatchPyTorch() throws {
        let cases = try Fixtures.json("nn.json")["losses"] as! [[String: Any]]
        #expect(cases.count >= 25)
        for c in cases {
            let name = c["name"] as! String
            let input = Fixtures.tensor((c["inputs"] as! [Any])[0]).requiringGrad()
            let output = Self.loss(c["config"] as! [String: Any], input, c["targets"]!)
            expectClose(output, Fixtures.tensor(c["output"]!), name + " value")
            (output * Fixtures.tensor(c["weight"]!)).sum().backward()
            expectClose(input.grad ?? .zeros(like: input), Fixtures.tensor((c["grads"] as! [Any])[0]), rtol: 1e-5, atol: 1e-5,
                        name + " gradient")
        }
    }
}
