import Foundation

/// The variants of gradient descent side by side on the notes' 784-16-16-10 network: batch (every example per
/// update), stochastic (one), mini-batch (32), each with and without momentum, all from the same initial weights
/// and seeing the same number of examples. What differs is how many updates those examples buy, how noisy each one
/// is, and what an epoch costs.
public enum GradientDescentLesson {
    struct Variant {
        let name: String
        /// nil: the whole training set.
        let batchSize: Int?
        let learningRate: Float
        let momentum: Float
    }

    public static func run(_ log: LessonLog, data: MNIST, trainCount: Int = 2000, epochs: Int = 20, seed: UInt64 = 0) throws {
        guard trainCount >= 32 else { throw LessonError.invalidSetting("gradient-descent: the training subset needs at least 32 images, got \(trainCount)") }
        guard epochs >= 1 else { throw LessonError.invalidSetting("gradient-descent: epochs must be at least 1, got \(epochs)") }
        let train = data.train.prefix(trainCount)
        let count = train.count
        let images = train.images.reshaped([count, 784])
        let test = data.test
        let testImages = test.images.reshaped([test.count, 784])
        // Momentum μ multiplies the long-run step by 1/(1 − μ): the momentum runs take a ten times smaller rate so
        // that both walk at the same average speed and the difference is the smoothing.
        let variants = [
            Variant(name: "batch (all \(count))", batchSize: nil, learningRate: 3, momentum: 0),
            Variant(name: "batch + momentum", batchSize: nil, learningRate: 0.3, momentum: 0.9),
            Variant(name: "mini-batch 32", batchSize: 32, learningRate: 1, momentum: 0),
            Variant(name: "mini-batch 32 + momentum", batchSize: 32, learningRate: 0.1, momentum: 0.9),
            Variant(name: "stochastic (1)", batchSize: 1, learningRate: 0.1, momentum: 0),
            Variant(name: "stochastic + momentum", batchSize: 1, learningRate: 0.01, momentum: 0.9),
        ]
        log.heading("six ways to spend \(epochs) × \(count.formatted()) = \((epochs * count).formatted()) examples on the 784-16-16-10 network")
        log.say("variant                     lr     updates  s/epoch   train loss  test accuracy")
        var series: [LineChart.Series] = []
        var finalLoss: [Double] = []
        var initialLoss = 0.0
        for (k, variant) in variants.enumerated() {
            var generator = RandomGenerator(seed: seed)
            let model = MNISTArchitecture.seed.makeModel(generator: &generator)   // the same start for every variant
            let optimizer = SGD(parameters: model.parameters(), learningRate: variant.learningRate, momentum: variant.momentum)
            let batchSize = variant.batchSize ?? count
            func trainingLoss() -> Double { Double(noGrad { crossEntropyLoss(logits: model(images), targets: train.labels) }.item) }
            var losses = [trainingLoss()], seen = [0.0]
            initialLoss = losses[0]
            var shuffler = RandomGenerator(seed: seed &+ 1)
            var order = Array(0..<count)
            var updates = 0, seconds = 0.0
            for epoch in 0..<epochs {
                order.shuffle(using: &shuffler)
                let started = Stopwatch.now()
                var start = 0
                while start < count {
                    let indices = Array(order[start..<min(count, start + batchSize)])
                    let batch = batchSize == count ? images : images.gather(indices)
                    let targets = batchSize == count ? train.labels : indices.map { train.labels[$0] }
                    optimizer.zeroGrad()
                    let loss = crossEntropyLoss(logits: model(batch), targets: targets)
                    guard loss.item.isFinite else {
                        throw TrainingError.nonFiniteLoss(epoch: epoch + 1, batch: start / batchSize + 1, step: updates + 1, loss: loss.item)
                    }
                    loss.backward()
                    optimizer.step()
                    updates += 1
                    start += batchSize
                }
                seconds += Stopwatch.now() - started
                losses.append(trainingLoss())
                seen.append(Double((epoch + 1) * count))
            }
            let predictions = noGrad { model(testImages) }.argmax(axis: 1).scalars.map { Int($0) }
            let accuracy = Double(zip(predictions, test.labels).filter { $0.0 == $0.1 }.count) / Double(test.count)
            log.say(variant.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + LessonLog.format(Double(variant.learningRate)).padding(toLength: 7, withPad: " ", startingAt: 0)
                    + String(format: "%-9d%-10.3f%-12.4f%.2f%%", updates, seconds / Double(epochs), losses.last!, 100 * accuracy))
            finalLoss.append(losses.last!)
            series.append(LineChart.Series(name: variant.name, x: seen, y: losses,
                                           color: LineChart.palette[k / 2], dashed: k % 2 == 1, markers: false))
        }
        for (variant, loss) in zip(variants, finalLoss) {
            log.check("\(variant.name) lowers the loss", loss < initialLoss,
                      "\(LessonLog.format(initialLoss)) → \(LessonLog.format(loss))")
        }
        log.check("for the same examples seen, mini-batches beat one full-batch update per epoch", finalLoss[2] < finalLoss[0],
                  "train loss \(LessonLog.format(finalLoss[2])) (mini-batch) < \(LessonLog.format(finalLoss[0])) (batch)")
        let chart = LineChart(title: "gradient descent variants", panels: [
            LineChart.Panel(title: "training loss against examples seen", xLabel: "examples seen", yLabel: "cross-entropy",
                            series: series),
        ])
        try log.picture("loss-curves.svg") { try chart.write(to: $0) }
        log.say("batch descent makes one careful update per epoch; stochastic makes one per example, cheap and noisy, and")
        log.say("pays the per-update cost \(count.formatted()) times an epoch; mini-batches get most of both.")
    }
}
