import Foundation

/// The notes' perceptron: a neuron that answers 1 when its weighted sum passes a threshold. First the sweets
/// decision (weights 2, 6, 2, threshold 5: only the favourite sweet matters), then Rosenblatt's learning rule on AND,
/// OR and XOR, then why networks use sigmoid neurons instead: a small change to one weight flips a perceptron
/// network's answers outright, while a sigmoid network's outputs move a little, in proportion to the change — which
/// is what lets gradient descent find its way.
public enum PerceptronLesson {
    public static func run(_ log: LessonLog, seed: UInt64 = 0) throws {
        sweets(log)
        learningRule(log)
        try smallChanges(log, seed: seed)
    }

    /// The truth table of the sweets perceptron over all 8 inputs.
    static func sweets(_ log: LessonLog) {
        log.heading("the sweets perceptron: weights 2, 6, 2, threshold 5")
        let sweets = Perceptron(weights: [2, 6, 2], threshold: 5)
        log.say("x1 x2 x3   2·x1 + 6·x2 + 2·x3   > 5 ?")
        var onlyFavouriteMatters = true
        for row in 0..<8 {
            let x: [Float] = [Float((row >> 2) & 1), Float((row >> 1) & 1), Float(row & 1)]
            let sum = 2 * x[0] + 6 * x[1] + 2 * x[2]
            let answer = sweets.predict(x)
            if answer != x[1] { onlyFavouriteMatters = false }
            log.say(" \(Int(x[0]))  \(Int(x[1]))  \(Int(x[2]))   \(String(format: "%-19d", Int(sum)))  \(Int(answer))")
        }
        log.say("the favourite (weight 6) beats the threshold alone; the other two together (2 + 2 = 4) never do.")
        log.check("the answer equals x2 on all 8 inputs", onlyFavouriteMatters, "truth table above")
    }

    /// The perceptron rule on the three two-input logic functions.
    static func learningRule(_ log: LessonLog) {
        log.heading("the perceptron rule: w ← w + η·(y − ŷ)·x, b ← b + η·(y − ŷ)")
        let inputs: [[Float]] = [[0, 0], [0, 1], [1, 0], [1, 1]]
        for (name, targets) in [("AND", [Float(0), 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("XOR", [0, 1, 1, 0])] {
            let perceptron = Perceptron(inputCount: 2)
            let mistakes = perceptron.learn(inputs: inputs, targets: targets, epochs: 100)
            let correct = zip(inputs, targets).filter { perceptron.predict($0.0) == $0.1 }.count
            let w = perceptron.weight.scalars
            log.say("\(name.padding(toLength: 4, withPad: " ", startingAt: 0)) \(mistakes.count) epochs, mistakes per epoch "
                    + "\(mistakes.prefix(8).map(String.init).joined(separator: " "))\(mistakes.count > 8 ? " …" : ""); "
                    + "w = [\(LessonLog.format(Double(w[0]))), \(LessonLog.format(Double(w[1])))], b = \(LessonLog.format(Double(perceptron.bias.item))); "
                    + "\(correct)/4 right")
            if name == "XOR" {
                log.check("XOR is never learned (100 epochs, a mistake in every one)",
                          mistakes.count == 100 && mistakes.allSatisfy { $0 > 0 } && correct < 4,
                          "\(correct)/4 right after 100 epochs")
            } else {
                log.check("\(name) is learned", correct == 4 && mistakes.last == 0,
                          "4/4 right after \(mistakes.count) epochs")
            }
        }
        log.say("XOR needs (0,1) and (1,0) on one side of a line and (0,0), (1,1) on the other: adding the two pairs'")
        log.say("inequalities gives w1 + w2 + 2b > 0 and ≤ 0 at once. No single line does it; a hidden layer does.")
    }

    /// A 2-8-1 network trained with sigmoids, then run with steps instead: nudge one weight, count what changes.
    static func smallChanges(_ log: LessonLog, seed: UInt64) throws {
        log.heading("why sigmoid neurons: nudge one weight by a little")
        let (points, labels, hidden, output) = trainCircleNetwork(seed: seed)
        let count = labels.count
        // The same weights, two kinds of neuron.
        func outputs(step: Bool) -> [Float] {
            noGrad {
                let activation: (Tensor) -> Tensor = step
                    ? { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 > 0 ? 1 : 0 }) }   // the perceptron's step
                    : { $0.sigmoid() }
                return activation(output(activation(hidden(points)))).scalars
            }
        }
        let sigmoidBefore = outputs(step: false), stepBefore = outputs(step: true)
        let accuracy = zip(sigmoidBefore, labels).filter { (p: Float, label: Float) in (p > 0.5 ? Float(1) : 0) == label }.count
        let stepAccuracy = zip(stepBefore, labels).filter { $0.0 == $0.1 }.count
        log.say("a 2-8-1 network trained (Adam, 400 steps) to tell points inside a circle from points outside:")
        log.say("\(accuracy)/\(count) right with sigmoid neurons, \(stepAccuracy)/\(count) with the same weights as perceptrons")

        // The output weight of the most influential hidden neuron: nudging it by Δ moves the output's weighted sum
        // by Δ·h, with h in (0, 1) for a sigmoid neuron and exactly 0 or 1 for a perceptron.
        let outputWeights = output.weight.scalars
        let nudged = outputWeights.indices.max { abs(outputWeights[$0]) < abs(outputWeights[$1]) }!
        let original = outputWeights[nudged]
        func change(by delta: Float) -> (sigmoid: [Float], step: [Float]) {
            output.weight.withSharedMutableStorage { $0[nudged] = original + delta }
            defer { output.weight.withSharedMutableStorage { $0[nudged] = original } }
            return (outputs(step: false), outputs(step: true))
        }
        // Sweep Δ over [−4, 4]: the first nudge (smallest |Δ|) at which some perceptron answer flips.
        let sweep = (0...400).map { Double($0) / 50 - 4 }
        var flipsAt = [Double](repeating: .infinity, count: count)
        for amount in sweep {
            let (_, p) = change(by: Float(amount))
            for i in 0..<count where p[i] != stepBefore[i] && abs(amount) < abs(flipsAt[i]) { flipsAt[i] = amount }
        }
        let probe = (0..<count).min { abs(flipsAt[$0]) < abs(flipsAt[$1]) }!
        guard flipsAt[probe].isFinite else {
            throw LessonError.invalidSetting("perceptron: no nudge in [-4, 4] flips a perceptron answer (seed \(seed)); try another --seed")
        }
        func meanChange(_ before: [Float], _ after: [Float]) -> Double {
            zip(before, after).map { abs(Double($0.1 - $0.0)) }.reduce(0, +) / Double(count)
        }
        // A small nudge: every sigmoid output moves a little, in proportion; no perceptron output moves at all.
        let small: Float = 0.05
        let (sigmoidSmall, stepSmall) = change(by: small)
        let (sigmoidHalf, _) = change(by: small / 2)
        let (smallMean, halfMean) = (meanChange(sigmoidBefore, sigmoidSmall), meanChange(sigmoidBefore, sigmoidHalf))
        let stepMovedSmall = zip(stepBefore, stepSmall).filter { $0.0 != $0.1 }.count
        log.say("the output weight from hidden neuron \(nudged + 1) (\(String(format: "%.3f", original))) += \(small):")
        log.say("  sigmoids:    \(zip(sigmoidBefore, sigmoidSmall).filter { $0.0 != $0.1 }.count) of \(count) outputs move, on average by "
                + String(format: "%.5f, at most by %.4f", smallMean, zip(sigmoidBefore, sigmoidSmall).map { abs(Double($0.1 - $0.0)) }.max() ?? 0))
        log.say("  perceptrons: \(stepMovedSmall) of \(count) outputs change: the nudge tells gradient descent nothing")
        log.check("half the nudge moves the sigmoid outputs half as much (the output is differentiable in the weight)",
                  abs(smallMean / halfMean - 2) < 0.05,
                  String(format: "mean change %.6f vs %.6f, ratio %.3f", smallMean, halfMean, smallMean / halfMean))
        // The smallest nudge that changes a perceptron answer: then answers jump all the way.
        let delta = Float(flipsAt[probe])
        let (sigmoidAfter, stepAfter) = change(by: delta)
        let stepChanges = zip(stepBefore, stepAfter).map { abs($0.1 - $0.0) }
        let flips = stepChanges.filter { $0 > 0 }.count
        let crossed = zip(sigmoidBefore, sigmoidAfter).filter { ($0.0 > 0.5) != ($0.1 > 0.5) }.count
        log.say("the same weight += \(delta), the smallest nudge (in steps of 0.02) that changes any perceptron answer:")
        log.say("  perceptrons: \(flips) of \(count) outputs flip all the way (0 ↔ 1) at once; the other \(count - flips) do not move")
        log.say("  sigmoids:    on average by \(String(format: "%.4f", meanChange(sigmoidBefore, sigmoidAfter))); \(crossed) cross 0.5")
        log.check("perceptron outputs either stay or jump by exactly 1",
                  flips > 0 && stepChanges.allSatisfy { $0 == 0 || $0 == 1 }, "\(flips) jumps of 1, \(count - flips) of 0")

        try drawSweep(log, sweep: sweep, probe: probe, weight: nudged) { change(by: $0) }
    }

    /// Points in [-1, 1]² labelled by whether they lie inside a circle of radius 0.7, and a 2-8-1 sigmoid network
    /// trained on them with Adam for 400 steps.
    static func trainCircleNetwork(seed: UInt64) -> (points: Tensor, labels: [Float], hidden: Linear, output: Linear) {
        var generator = RandomGenerator(seed: seed)
        let count = 1000
        let points = Tensor.uniform([count, 2], low: -1, high: 1, generator: &generator)
        let xy = points.scalars
        let labels: [Float] = (0..<count).map { i in
            let (px, py) = (xy[2 * i], xy[2 * i + 1])
            return px * px + py * py < 0.49 ? 1 : 0
        }
        let hidden = Linear(2, 8, generator: &generator), output = Linear(8, 1, generator: &generator)
        let optimizer = Adam(parameters: hidden.parameters() + output.parameters(), learningRate: 0.05)
        let targets = Tensor(shape: [count, 1], scalars: labels)
        for _ in 0..<400 {
            optimizer.zeroGrad()
            let loss = binaryCrossEntropyWithLogits(logits: output(hidden(points).sigmoid()), targets: targets)
            loss.backward()
            optimizer.step()
        }
        return (points, labels, hidden, output)
    }

    /// One input near the boundary as the weight is swept: the perceptron's step against the sigmoid's curve.
    static func drawSweep(_ log: LessonLog, sweep: [Double], probe: Int, weight nudged: Int,
                          change: (Float) -> (sigmoid: [Float], step: [Float])) throws {
        var sigmoidCurve: [Double] = [], stepCurve: [Double] = []
        for amount in sweep {
            let (s, p) = change(Float(amount))
            sigmoidCurve.append(Double(s[probe])); stepCurve.append(Double(p[probe]))
        }
        let chart = LineChart(title: "one point, one weight changed", panels: [
            LineChart.Panel(title: "output weight \(nudged + 1) + Δ", xLabel: "Δ", yLabel: "network output", series: [
                LineChart.Series(name: "sigmoid neurons", x: sweep, y: sigmoidCurve, markers: false),
                LineChart.Series(name: "perceptrons (steps)", x: sweep, y: stepCurve, dashed: true, markers: false),
            ], yRange: -0.05...1.05),
        ])
        try log.picture("small-changes.svg") { try chart.write(to: $0) }
    }
}
