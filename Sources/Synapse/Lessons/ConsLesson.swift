import Foundation

/// The notes' limits of a trained network, shown on MNIST: (a) it answers every input, noise and blank pages
/// included, often confidently — softmax has no "none of these"; (b) it cannot draw, but gradient ascent on the input
/// shows what excites each output most, and it is not a digit; (c) it memorises: with the labels shuffled it still
/// reaches high training accuracy while test accuracy stays at chance.
public enum ConsLesson {
    public static func run(_ log: LessonLog, data: MNIST, epochs: Int = 2, memorizeCount: Int = 2000,
                           memorizeEpochs: Int = 60, seed: UInt64 = 0) throws {
        guard epochs >= 1, memorizeEpochs >= 1 else { throw LessonError.invalidSetting("cons: epochs must be at least 1") }
        guard memorizeCount >= 64 else { throw LessonError.invalidSetting("cons: the memorisation subset needs at least 64 images, got \(memorizeCount)") }
        var options = MNISTTraining.Options(architecture: .mlp, epochs: epochs)
        options.seed = seed
        let trained = try MNISTTraining(options: options, progress: .off).run(on: data)
        let model = trained.model
        log.say(String(format: "a 784-256-128-10 network trained for %d epoch%@: %.2f%% on the test digits", epochs,
                       epochs == 1 ? "" : "s", 100 * trained.testMetrics.accuracy))

        try alwaysAnswers(log, model: model, data: data, seed: seed)
        try cannotDraw(log, model: model)
        try memorises(log, data: data, count: memorizeCount, epochs: memorizeEpochs, seed: seed)
    }

    /// (a) Noise, blank and white pages get answers, most with high confidence.
    static func alwaysAnswers(_ log: LessonLog, model: Sequential, data: MNIST, seed: UInt64) throws {
        log.heading("(a) it always answers")
        var generator = RandomGenerator(seed: seed &+ 7)
        let noiseCount = 100
        let noise = Tensor.uniform([noiseCount, 784], low: 0, high: 1, generator: &generator)
        let probabilities = noGrad { model(noise).softmax() }.scalars
        let confidences = (0..<noiseCount).map { i in probabilities[(i * 10)..<((i + 1) * 10)].max()! }
        let confident = confidences.filter { $0 > 0.5 }.count
        var votes = [Int](repeating: 0, count: 10)
        for i in 0..<noiseCount {
            let row = Array(probabilities[(i * 10)..<((i + 1) * 10)])
            votes[row.firstIndex(of: row.max()!)!] += 1
        }
        log.say("\(noiseCount) images of uniform noise: \(confident) answered with more than 50% confidence; answers per digit \(votes)")
        let examples: [(String, [Float])] = [
            ("noise", Array(noise.scalars[0..<784])),
            ("blank (black)", [Float](repeating: 0, count: 784)),
            ("all white", [Float](repeating: 1, count: 784)),
            ("a real \(data.test.labels[0])", Array(data.test.images.reshaped([data.test.count, 784]).scalars[0..<784])),
        ]
        var series: [LineChart.Series] = []
        for (name, pixels) in examples {
            let p = noGrad { model(Tensor(shape: [1, 784], scalars: pixels)).softmax() }.scalars
            let answer = p.firstIndex(of: p.max()!)!
            log.say("\(name.padding(toLength: 14, withPad: " ", startingAt: 0)) → \(answer) with probability \(String(format: "%.3f", p[answer]))")
            log.check("softmax on \(name) sums to 1: there is no \"not a digit\"", Double(p.reduce(0, +)), equals: 1, tolerance: 1e-5)
            series.append(LineChart.Series(name: name, x: (0..<10).map(Double.init), y: p.map(Double.init), markers: true))
        }
        let blank = noGrad { model(Tensor.zeros([1, 784])).softmax() }.scalars.max()!
        log.check("nonsense gets confident answers (most noise images above 50%)", confident > noiseCount / 2,
                  String(format: "blank: %.3f, noise: %d of %d above 0.5", blank, confident, noiseCount))
        try log.picture("nonsense-inputs.png") {
            try ImageGrid(columns: 4, scale: 4, padding: 2, paddingColor: (128, 128, 128))
                .write(examples.map { GrayImage(width: 28, height: 28, pixels: $0.1) }, to: $0)
        }
        let answers = LineChart(title: "what the network answers", panels: [
            LineChart.Panel(title: "softmax for noise, blank, white and a real digit", xLabel: "digit", yLabel: "probability",
                            series: series, yRange: 0...1),
        ])
        try log.picture("nonsense-answers.svg") { try answers.write(to: $0) }

    }

    /// (b) Gradient ascent on the input: the picture each output likes best.
    static func cannotDraw(_ log: LessonLog, model: Sequential) throws {
        log.heading("(b) it cannot draw — but gradient ascent shows what each output wants")
        // Maximise logit_c − 0.01·‖x‖² over the pixels, kept in [0, 1]: the input the network finds most "c".
        var dreams: [GrayImage] = []
        var confidencesOfDreams: [Float] = []
        for digit in 0..<10 {
            var pixels = [Float](repeating: 0.1, count: 784)
            for _ in 0..<150 {
                let x = Tensor(shape: [1, 784], scalars: pixels).requiringGrad()
                let objective = model(x).slice(axis: 1, digit..<(digit + 1)).sum() - (x * x).sum() * 0.01
                objective.backward()
                let gradient = x.grad!.scalars
                for i in 0..<784 { pixels[i] = min(max(pixels[i] + 0.05 * gradient[i], 0), 1) }
            }
            let p = noGrad { model(Tensor(shape: [1, 784], scalars: pixels)).softmax() }.scalars
            confidencesOfDreams.append(p[digit])
            dreams.append(GrayImage(width: 28, height: 28, pixels: pixels))
        }
        log.say("the network's belief in its own drawing of 0…9: " + confidencesOfDreams.map { String(format: "%.3f", $0) }.joined(separator: " "))
        log.check("each drawing is classified as its digit with ≥ 99% confidence", confidencesOfDreams.allSatisfy { $0 >= 0.99 },
                  "lowest \(String(format: "%.4f", confidencesOfDreams.min()!))")
        try log.picture("what-it-thinks-digits-look-like.png") {
            try ImageGrid(columns: 10, scale: 4, padding: 2, paddingColor: (128, 128, 128)).write(dreams, to: $0)
        }
        log.say("to the network these are perfect digits; to us they are speckled ghosts — a few strokes in the right")
        log.say("places and noise everywhere else: it learned which pixels separate the classes, not what a digit is.")

    }

    /// (c) Shuffled labels learned by heart while test accuracy stays at chance.
    static func memorises(_ log: LessonLog, data: MNIST, count memorizeCount: Int, epochs memorizeEpochs: Int,
                          seed: UInt64) throws {
        log.heading("(c) it memorises: \(memorizeCount.formatted()) training images with shuffled labels")
        let subset = data.train.prefix(memorizeCount)
        var shuffler = RandomGenerator(seed: seed &+ 11)
        let randomLabels = subset.labels.shuffled(using: &shuffler)
        let agree = zip(randomLabels, subset.labels).filter { $0.0 == $0.1 }.count
        log.say("after shuffling, \(agree) of \(subset.count) labels are still right by chance")
        var initGenerator = RandomGenerator(seed: seed &+ 13)
        let memorizer = MNISTArchitecture.mlp.makeModel(generator: &initGenerator)
        let optimizer = Adam(parameters: memorizer.parameters(), learningRate: 1e-3)
        let inputs = subset.images.reshaped([subset.count, 784])
        let testInputs = data.test.images.reshaped([data.test.count, 784])
        func accuracy(_ x: Tensor, _ labels: [Int]) -> Double {
            let predicted = noGrad { memorizer(x) }.argmax(axis: 1).scalars
            return Double(zip(predicted, labels).filter { Int($0.0) == $0.1 }.count) / Double(labels.count)
        }
        var trainCurve: [Double] = [], testCurve: [Double] = []
        var order = Array(0..<subset.count)
        for epoch in 0..<memorizeEpochs {
            order.shuffle(using: &shuffler)
            var start = 0
            while start < subset.count {
                let indices = Array(order[start..<min(subset.count, start + 64)])
                optimizer.zeroGrad()
                let loss = crossEntropyLoss(logits: memorizer(inputs.gather(indices)), targets: indices.map { randomLabels[$0] })
                guard loss.item.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: epoch + 1, batch: start / 64 + 1, step: 0, loss: loss.item)
                }
                loss.backward()
                optimizer.step()
                start += 64
            }
            trainCurve.append(accuracy(inputs, randomLabels))
            testCurve.append(accuracy(testInputs, data.test.labels))
            if epoch % 10 == 9 || epoch == memorizeEpochs - 1 {
                log.say(String(format: "epoch %3d  training accuracy on the shuffled labels %.1f%%  test accuracy %.1f%%",
                               epoch + 1, 100 * trainCurve.last!, 100 * testCurve.last!))
            }
        }
        log.check("it learns the shuffled labels by heart (training accuracy ≥ 90%)", trainCurve.last! >= 0.9,
                  String(format: "%.1f%%", 100 * trainCurve.last!))
        log.check("and learns nothing that generalises (test accuracy ≤ 15%)", testCurve.last! <= 0.15,
                  String(format: "%.1f%%", 100 * testCurve.last!))
        let epochsAxis = (1...memorizeEpochs).map(Double.init)
        let curve = LineChart(title: "memorising random labels", panels: [
            LineChart.Panel(title: "\(memorizeCount) MNIST images with shuffled labels", xLabel: "epoch", yLabel: "accuracy", series: [
                LineChart.Series(name: "training (shuffled labels)", x: epochsAxis, y: trainCurve, markers: false),
                LineChart.Series(name: "test (true labels)", x: epochsAxis, y: testCurve, markers: false),
                LineChart.Series(name: "chance", x: [1, Double(memorizeEpochs)], y: [0.1, 0.1], dashed: true, markers: false),
            ], yRange: 0...1),
        ])
        try log.picture("memorising.svg") { try curve.write(to: $0) }
        log.say("235,146 parameters are enough to store \(memorizeCount.formatted()) arbitrary answers: high training accuracy alone")
        log.say("proves nothing — only held-out data tells learning from memorising.")
    }
}
