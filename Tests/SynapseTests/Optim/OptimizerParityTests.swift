import Foundation
import Testing
@testable import Synapse

/// Optimizer trajectories, gradient clipping and schedules against PyTorch
/// (Fixtures/optim.json from scripts/make_optim_fixtures.py).
@Suite(.synapseRuntime) struct OptimizerParityTests {
    struct Problem {
        let initial: [Tensor]
        let c: [Tensor]
        let d: [Tensor]

        init(_ fixture: [String: Any]) {
            initial = (fixture["initial"] as! [Any]).map(Fixtures.tensor)
            c = (fixture["c"] as! [Any]).map(Fixtures.tensor)
            d = (fixture["d"] as! [Any]).map(Fixtures.tensor)
        }

        /// Σ c·p² + d·p + 0.1·p⁴, the loss the fixture script minimises.
        func loss(_ parameters: [Tensor]) -> Tensor {
            var total = Tensor(0)
            for (k, p) in parameters.enumerated() {
                total = total + (c[k] * p * p).sum() + (d[k] * p).sum() + (p.pow(4) * 0.1).sum()
            }
            return total
        }
    }

    static func makeOptimizer(_ spec: [String: Any], parameters: [Tensor]) -> Optimizer {
        let options = spec["options"] as! [String: Any]
        let groups = (spec["groups"] as! [[String: Any]]).map { g in
            ParameterGroup(parameters: (g["parameters"] as! [Int]).map { parameters[$0] },
                           learningRate: (g["lr"] as! NSNumber).floatValue,
                           weightDecay: (g["weight_decay"] as! NSNumber).floatValue)
        }
        func option(_ key: String, _ fallback: Float) -> Float { (options[key] as? NSNumber)?.floatValue ?? fallback }
        let betas = (options["betas"] as? [NSNumber])?.map(\.floatValue) ?? [0.9, 0.999]
        switch spec["optimizer"] as! String {
        case "SGD":
            return SGD(groups: groups, momentum: option("momentum", 0), dampening: option("dampening", 0),
                       nesterov: options["nesterov"] as? Bool ?? false)
        case "Adam":
            return Adam(groups: groups, beta1: betas[0], beta2: betas[1], amsgrad: options["amsgrad"] as? Bool ?? false)
        case "AdamW":
            return AdamW(groups: groups, beta1: betas[0], beta2: betas[1], amsgrad: options["amsgrad"] as? Bool ?? false)
        case "RMSprop":
            return RMSProp(groups: groups, alpha: option("alpha", 0.99), momentum: option("momentum", 0),
                           centered: options["centered"] as? Bool ?? false)
        case let other:
            fatalError("no optimizer for fixture type \(other)")
        }
    }

    @Test func trajectoriesMatchPyTorch() throws {
        let fixture = try Fixtures.json("optim.json")
        let problem = Problem(fixture)
        let warm = fixture["warmup_cosine"] as! [String: NSNumber]
        let cases = fixture["cases"] as! [[String: Any]]
        #expect(cases.count == 12)
        for spec in cases {
            let name = spec["name"] as! String
            let parameters = problem.initial.map { Tensor(shape: $0.shape, scalars: $0.scalars).requiringGrad() }
            let optimizer = Self.makeOptimizer(spec, parameters: parameters)
            let extras = spec["extras"] as! [String: Any]
            let scheduler = extras["schedule"] == nil ? nil : LearningRateScheduler(
                optimizer: optimizer,
                schedule: WarmupCosineSchedule(warmupSteps: warm["warmup"]!.intValue, totalSteps: warm["total"]!.intValue,
                                               minimumLearningRate: warm["minimum"]!.floatValue))
            let expectedNorms = (spec["clip_norms"] as! [NSNumber]).map(\.floatValue)
            for (step, expected) in (spec["trajectory"] as! [[Any]]).enumerated() {
                scheduler?.apply(at: step)
                optimizer.zeroGrad()
                problem.loss(parameters).backward()
                if let maxNorm = (extras["clip"] as? NSNumber)?.floatValue {
                    let norm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: maxNorm)
                    #expect(abs(norm - expectedNorms[step]) <= 1e-5 * expectedNorms[step], "\(name) step \(step) norm")
                }
                optimizer.step()
                for (k, e) in expected.enumerated() {
                    expectClose(parameters[k], Fixtures.tensor(e), rtol: 1e-5, atol: 1e-6, "\(name) step \(step) parameter \(k)")
                }
            }
        }
    }

    @Test func clippingMatchesPyTorch() throws {
        let fixture = try Fixtures.json("optim.json")
        let problem = Problem(fixture)
        let clip = fixture["clipping"] as! [String: Any]
        let parameters = problem.initial.map { $0.requiringGrad() }
        problem.loss(parameters).backward()
        let original = parameters.map { $0.grad! }
        func reset() { for (p, g) in zip(parameters, original) { p.grad = Tensor(shape: g.shape, scalars: g.scalars) } }

        reset()
        let norm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: (clip["max_norm"] as! NSNumber).floatValue)
        #expect(abs(norm - (clip["norm"] as! NSNumber).floatValue) <= 1e-5 * norm)
        for (k, e) in (clip["clipped"] as! [Any]).enumerated() { expectClose(parameters[k].grad!, Fixtures.tensor(e), "clipped \(k)") }

        reset()
        GradientClipping.clipByValue(parameters, limit: (clip["clip_value"] as! NSNumber).floatValue)
        for (k, e) in (clip["by_value"] as! [Any]).enumerated() { expectClose(parameters[k].grad!, Fixtures.tensor(e), "by value \(k)") }

        reset()
        let infNorm = GradientClipping.clipByGlobalNorm(parameters, maxNorm: (clip["inf_max_norm"] as! NSNumber).floatValue,
                                                        normType: .infinity)
        #expect(abs(infNorm - (clip["inf_norm"] as! NSNumber).floatValue) <= 1e-6 * infNorm)
        for (k, e) in (clip["inf_clipped"] as! [Any]).enumerated() { expectClose(parameters[k].grad!, Fixtures.tensor(e), "inf clipped \(k)") }
    }

    @Test func schedulesMatchPyTorch() throws {
        let s = try Fixtures.json("optim.json")["schedules"] as! [String: Any]
        let base = (s["base_lr"] as! NSNumber).floatValue
        func check(_ schedule: any LearningRateSchedule, _ entry: String, base: Float, steps: [Int]? = nil) {
            let spec = s[entry] as! [String: Any]
            let expected = (spec["lrs"] as! [NSNumber]).map(\.floatValue)
            for (i, e) in expected.enumerated() {
                let step = steps?[i] ?? i
                let lr = schedule.learningRate(at: step, baseLearningRate: base)
                #expect(abs(lr - e) <= 1e-5 * abs(e) + 1e-9, "\(entry) at \(step): \(lr) vs \(e)")
            }
        }
        check(StepDecaySchedule(stepSize: 3, gamma: 0.5), "step", base: base)
        check(ExponentialSchedule(gamma: 0.9), "exponential", base: base)
        check(CosineAnnealingSchedule(totalSteps: 10, minimumLearningRate: 0.001), "cosine", base: base)
        let warm = s["warmup_cosine"] as! [String: Any]
        check(WarmupCosineSchedule(warmupSteps: 100, totalSteps: 2000, minimumLearningRate: 1e-4), "warmup_cosine",
              base: 1e-3, steps: (warm["steps"] as! [NSNumber]).map(\.intValue))
    }
}
