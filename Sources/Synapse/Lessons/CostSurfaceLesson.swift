import Foundation

/// Linear regression's cost J(w, b) = 1/(2m)·Σ(ŷ − y)² as the bowl the notes draw: first J(w) with b = 0, then the
/// contour map of J(w, b) with the paths of batch, stochastic, mini-batch and momentum gradient descent from one
/// start, a learning rate too small (it crawls) and one too large (it overshoots and diverges). Every path's end is
/// checked against the normal equations' exact minimum.
public enum CostSurfaceLesson {
    /// The data: y = 1.5·x + 2 plus noise, x in [0, 3].
    struct Data {
        let x: [Double], y: [Double]
        var m: Int { x.count }

        func cost(_ w: Double, _ b: Double) -> Double {
            var sum = 0.0
            for i in 0..<m { let e = w * x[i] + b - y[i]; sum += e * e }
            return sum / Double(2 * m)
        }

        /// (∂J/∂w, ∂J/∂b) over the examples `indices`.
        func gradient(_ w: Double, _ b: Double, _ indices: ArraySlice<Int>) -> (Double, Double) {
            var (dw, db) = (0.0, 0.0)
            for i in indices { let e = w * x[i] + b - y[i]; dw += e * x[i]; db += e }
            return (dw / Double(indices.count), db / Double(indices.count))
        }
    }

    /// One way down the bowl.
    struct Walk {
        let name: String
        let batchSize: Int
        let learningRate: Double
        let momentum: Double
    }

    public static func run(_ log: LessonLog, seed: UInt64 = 0) throws {
        var generator = RandomGenerator(seed: seed)
        let m = 40
        let x = (0..<m).map { _ in 3 * Double(generator.nextUniform()) }
        let y = x.map { 1.5 * $0 + 2 + 0.5 * Double(generator.nextNormal()) }
        let data = Data(x: x, y: y)

        let sxx = x.map { $0 * $0 }.reduce(0, +)
        let features = Tensor(x.map(Float.init)), targets = Tensor(y.map(Float.init))
        try parabola(log, data: data, features: features, targets: targets)

        log.heading("J(w, b): a bowl, and the ways down it")
        let exact = try LinearRegression.closedFormSolution(features: features.reshaped([m, 1]), targets: targets)
        let (wMin, bMin) = (Double(exact.weights.item), Double(exact.bias))
        let jMin = data.cost(wMin, bMin)
        log.say("normal equations (AᵀA)θ = Aᵀy: w = \(LessonLog.format(wMin)), b = \(LessonLog.format(bMin)), J = \(LessonLog.format(jMin))")
        // The curvature sets the usable step: J's Hessian is [[mean x², mean x], [mean x, 1]]; gradient descent
        // diverges once α > 2/λmax, and needs about λmax/λmin steps per e-fold along the flattest direction.
        let meanX = x.reduce(0, +) / Double(m), meanXX = sxx / Double(m)
        let trace = meanXX + 1, determinant = meanXX - meanX * meanX
        let lambdaMax = trace / 2 + (trace * trace / 4 - determinant).squareRoot()
        let lambdaMin = trace / 2 - (trace * trace / 4 - determinant).squareRoot()
        log.say("Hessian eigenvalues λmax = \(LessonLog.format(lambdaMax)), λmin = \(LessonLog.format(lambdaMin)): "
                + "steps diverge above α = 2/λmax = \(LessonLog.format(2 / lambdaMax))")

        let epochs = 400
        let walks = [
            Walk(name: "batch, α = 1/λmax", batchSize: m, learningRate: 1 / lambdaMax, momentum: 0),
            Walk(name: "stochastic (1 example), α = 0.1/λmax", batchSize: 1, learningRate: 0.1 / lambdaMax, momentum: 0),
            Walk(name: "mini-batch of 8, α = 0.5/λmax", batchSize: 8, learningRate: 0.5 / lambdaMax, momentum: 0),
            Walk(name: "batch + momentum 0.9, α = 0.1/λmax", batchSize: m, learningRate: 0.1 / lambdaMax, momentum: 0.9),
            Walk(name: "too small: α = 0.01/λmax", batchSize: m, learningRate: 0.01 / lambdaMax, momentum: 0),
            Walk(name: "too large: α = 2.1/λmax", batchSize: m, learningRate: 2.1 / lambdaMax, momentum: 0),
        ]
        let start = (w: -1.0, b: -3.0)
        log.say("every walk starts at w = \(start.w), b = \(start.b) and sees \(epochs) × \(m) = \(epochs * m) examples")
        log.say("walk                                   updates  end w      end b      J(end) − J(min)")
        var paths: [ContourChart.Path] = []
        for (k, walk) in walks.enumerated() {
            let (w, b, points, updates) = walkDown(data, walk, from: start, epochs: epochs, lambdaMax: lambdaMax,
                                                   seed: seed &+ 100 &+ UInt64(k))
            let gap = data.cost(w, b) - jMin
            log.say(walk.name.padding(toLength: 39, withPad: " ", startingAt: 0) + String(format: "%-9d", updates)
                    + LessonLog.format(w).padding(toLength: 11, withPad: " ", startingAt: 0)
                    + LessonLog.format(b).padding(toLength: 11, withPad: " ", startingAt: 0) + LessonLog.format(gap))
            let minimum = (w: wMin, b: bMin, j: jMin)
            checkWalk(log, k, walk, end: (w, b), updates: updates, start: start, minimum: minimum, data: data,
                      features: features, targets: targets, epochs: epochs)
            paths.append(ContourChart.Path(name: walk.name, points: points, dashed: k >= 4))
        }
        var chart = ContourChart(title: "J(w, b) = 1/(2m)·Σ(w·x + b − y)² and six walks down it", xLabel: "w", yLabel: "b",
                                 xRange: -2...4, yRange: -4...6, resolution: 70) { data.cost($0, $1) }
        chart.xTicks = 6
        chart.paths = paths
        chart.marks = [("normal equations", wMin, bMin)]
        try log.picture("cost-surface.svg") { try chart.write(to: $0) }
        log.say("the long narrow valley is the Hessian's λmax/λmin = \(LessonLog.format(lambdaMax / lambdaMin)): batch steps zig-zag")
        log.say("across it, momentum carries speed along it, the stochastic walks jitter around the bottom.")
    }

    /// J(w, 0) is a parabola; its slope by autograd on tensors against the formula, at w* and at 0.
    static func parabola(_ log: LessonLog, data: Data, features: Tensor, targets: Tensor) throws {
        let (x, y, m) = (data.x, data.y, data.x.count)
        log.heading("J(w) with b = 0: a parabola")
        let sxy = zip(x, y).map(*).reduce(0, +), sxx = x.map { $0 * $0 }.reduce(0, +)
        let wStar = sxy / sxx
        log.say("\(m) points, y = 1.5x + 2 + noise. With b fixed at 0, J(w) = 1/(2m)·Σ(w·xᵢ − yᵢ)² is a parabola in w;")
        log.say("dJ/dw = 1/m·Σ(w·xᵢ − yᵢ)·xᵢ = 0 at w* = Σxᵢyᵢ / Σxᵢ² = \(LessonLog.format(wStar))")
        // The slope at w* and at w = 0 from autograd on tensors, against the formula.
        for w0 in [wStar, 0] {
            let w = Tensor(Float(w0)).requiringGrad()
            let error = w * features - targets
            ((error * error).mean() * 0.5).backward()
            let formula = zip(x, y).map { (w0 * $0.0 - $0.1) * $0.0 }.reduce(0, +) / Double(m)
            log.check("dJ/dw at w = \(LessonLog.format(w0)) by autograd", Double(w.grad!.item), equals: formula, tolerance: 1e-4)
        }
        let ws = (0...120).map { -1 + Double($0) * 5 / 120 }
        let jw = LineChart(title: "J(w) with b = 0", panels: [
            LineChart.Panel(title: "the cost as a function of one weight", xLabel: "w", yLabel: "J(w, 0)", series: [
                LineChart.Series(name: "J(w, 0)", x: ws, y: ws.map { data.cost($0, 0) }, markers: false),
                LineChart.Series(name: "minimum w* = Σxy/Σx²", x: [wStar], y: [data.cost(wStar, 0)], markers: true),
            ]),
        ])
        try log.picture("cost-w.svg") { try jw.write(to: $0) }

    }

    /// One walk of `epochs` passes from `start`: its end, the points drawn (every update of the first two epochs,
    /// then one per epoch) and the update count. A diverging walk stops after 12 updates.
    static func walkDown(_ data: Data, _ walk: Walk, from start: (w: Double, b: Double), epochs: Int, lambdaMax: Double,
                         seed: UInt64) -> (w: Double, b: Double, points: [(x: Double, y: Double)], updates: Int) {
        let m = data.x.count
        var (w, b) = start, (vw, vb) = (0.0, 0.0)
        var order = Array(0..<m)
        var shuffler = RandomGenerator(seed: seed)
        let stepsPerEpoch = (m + walk.batchSize - 1) / walk.batchSize
        var points = [(x: w, y: b)], updates = 0
        let diverging = walk.learningRate * lambdaMax > 2
        walking: for _ in 0..<epochs {
            if walk.batchSize < m { order.shuffle(using: &shuffler) }
            for s in 0..<stepsPerEpoch {
                let (dw, db) = data.gradient(w, b, order[(s * walk.batchSize)..<min(m, (s + 1) * walk.batchSize)])
                (vw, vb) = (walk.momentum * vw + dw, walk.momentum * vb + db)   // PyTorch's SGD momentum buffer
                (w, b) = (w - walk.learningRate * vw, b - walk.learningRate * vb)
                updates += 1
                // Every update of the first two epochs, then one point per epoch: the SVG stays small.
                if updates <= 2 * stepsPerEpoch || s == stepsPerEpoch - 1 { points.append((w, b)) }
                if diverging && updates == 12 { break walking }        // far enough to see it leave
            }
        }
        return (w, b, points, updates)
    }

    /// What each of the six walks should show.
    static func checkWalk(_ log: LessonLog, _ k: Int, _ walk: Walk, end: (w: Double, b: Double), updates: Int,
                          start: (w: Double, b: Double), minimum: (w: Double, b: Double, j: Double), data: Data,
                          features: Tensor, targets: Tensor, epochs: Int) {
        let (w, b) = end, (wMin, bMin, jMin) = minimum, m = data.x.count
        let gap = data.cost(w, b) - jMin
            switch k {
            case 0:
                log.check("batch gradient descent ends at the normal equations' w", w, equals: wMin, tolerance: 1e-4)
                log.check("batch gradient descent ends at the normal equations' b", b, equals: bMin, tolerance: 1e-4)
                // The same walk by LinearRegression.step on tensors: two implementations of one formula.
                var model = LinearRegression(weights: Tensor([Float(start.w)]), bias: Float(start.b))
                for _ in 0..<epochs { model.step(features: features.reshaped([m, 1]), targets: targets, learningRate: Float(walk.learningRate)) }
                log.check("LinearRegression.step on tensors walks to the same point", Double(model.weights.item), equals: w, tolerance: 1e-3)
            case 1, 2:
                log.check("\(walk.batchSize == 1 ? "stochastic" : "mini-batch") ends near the minimum (within 5% of J)",
                          gap <= 0.05 * jMin, "J(end) − J(min) = \(LessonLog.format(gap)) ≤ \(LessonLog.format(0.05 * jMin))")
            case 3:
                log.check("momentum ends at the minimum", abs(w - wMin) + abs(b - bMin) < 1e-3,
                          "|Δw| + |Δb| = \(String(format: "%.1e", abs(w - wMin) + abs(b - bMin)))")
            case 4:
                log.check("too small a step is still far from the minimum", gap > 0.01 * (data.cost(start.w, start.b) - jMin),
                          "J(end) − J(min) = \(LessonLog.format(gap)) after \(updates) updates, > 1% of the start's")
            default:
                log.check("too large a step climbs out of the bowl", data.cost(w, b) > data.cost(start.w, start.b),
                          "J went from \(LessonLog.format(data.cost(start.w, start.b))) to \(LessonLog.format(data.cost(w, b))) in \(updates) updates")
            }
    }
}
