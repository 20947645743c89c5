import Foundation

/// The notes' backpropagation calculus on the simplest network: one neuron per layer, a⁽ᴸ⁾ = σ(w⁽ᴸ⁾·a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾),
/// cost C = (a⁽ᴸ⁾ − y)². The chain rule gives, factor by factor,
///
///     ∂C/∂w⁽ᴸ⁾   = a⁽ᴸ⁻¹⁾ · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)
///     ∂C/∂b⁽ᴸ⁾   =      1 · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)
///     ∂C/∂a⁽ᴸ⁻¹⁾ =  w⁽ᴸ⁾ · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)
///
/// and one layer down the last factor 2(a⁽ᴸ⁾ − y) is replaced by ∂C/∂a⁽ᴸ⁻¹⁾ — that replacement is backpropagation.
/// The lesson computes every derivative of a three-neuron chain by these formulas and checks each against autograd
/// (the scalar `Value` engine and the tensor engine) and against central finite differences.
public enum BackpropCalculusLesson {
    public static let input = 0.5
    public static let target = 1.0
    public static let weights = [0.8, -1.2, 1.5]
    public static let biases = [0.1, 0.3, -0.2]

    /// C for the given parameters, in Double.
    static func cost(weights w: [Double], biases b: [Double]) -> Double {
        var a = input
        for l in 0..<w.count { a = 1 / (1 + exp(-(w[l] * a + b[l]))) }
        return (a - target) * (a - target)
    }

    public static func run(_ log: LessonLog) throws {
        let depth = weights.count
        log.heading("the chain: a0 → a1 → a2 → a3, one neuron per layer, C = (a3 − y)²")
        var a = [input], z: [Double] = []
        for l in 0..<depth {
            z.append(weights[l] * a[l] + biases[l])
            a.append(1 / (1 + exp(-z[l])))
            log.say("z\(l + 1) = w\(l + 1)·a\(l) + b\(l + 1) = \(LessonLog.format(weights[l]))·\(LessonLog.format(a[l])) + \(LessonLog.format(biases[l])) = \(LessonLog.format(z[l]))   "
                    + "a\(l + 1) = σ(z\(l + 1)) = \(LessonLog.format(a[l + 1]))")
        }
        let c = (a[depth] - target) * (a[depth] - target)
        log.say("C = (a3 − y)² = (\(LessonLog.format(a[depth])) − \(LessonLog.format(target)))² = \(LessonLog.format(c))")

        log.heading("backwards, factor by factor")
        var byFormula: [String: Double] = [:]
        var upstream = 2 * (a[depth] - target)                     // ∂C/∂a3
        log.say("∂C/∂a3 = 2(a3 − y) = \(LessonLog.format(upstream))")
        for l in stride(from: depth - 1, through: 0, by: -1) {
            let n = l + 1
            let slope = a[n] * (1 - a[n])                            // σ′(z) = σ(z)(1 − σ(z))
            let dw = a[l] * slope * upstream, db = slope * upstream, da = weights[l] * slope * upstream
            log.say("σ′(z\(n)) = a\(n)(1 − a\(n)) = \(LessonLog.format(slope))")
            log.say("  ∂C/∂w\(n) = a\(l) · σ′(z\(n)) · ∂C/∂a\(n) = \(LessonLog.format(a[l])) · \(LessonLog.format(slope)) · \(LessonLog.format(upstream)) = \(LessonLog.format(dw))")
            log.say("  ∂C/∂b\(n) =  1 · σ′(z\(n)) · ∂C/∂a\(n) = \(LessonLog.format(db))")
            log.say("  ∂C/∂a\(l) = w\(n) · σ′(z\(n)) · ∂C/∂a\(n) = \(LessonLog.format(weights[l])) · \(LessonLog.format(slope)) · \(LessonLog.format(upstream)) = \(LessonLog.format(da))")
            byFormula["w\(n)"] = dw; byFormula["b\(n)"] = db
            upstream = da
        }
        log.say("each layer down multiplies by one more w·σ′(z); σ′ ≤ 1/4, so early layers get small gradients.")

        compareWithAutograd(log, byFormula: byFormula, cost: c)

        // The chain as a picture: each value with its ∂C/∂(value) below it, each arrow with its local derivative.
        var nodes: [(name: String, value: Double, gradient: Double)] = [("a0", a[0], 0)]
        var factors: [String] = []
        var gradientOfA = [Double](repeating: 0, count: depth + 1)
        gradientOfA[depth] = 2 * (a[depth] - target)
        for l in stride(from: depth - 1, through: 0, by: -1) {
            gradientOfA[l] = weights[l] * a[l + 1] * (1 - a[l + 1]) * gradientOfA[l + 1]
        }
        nodes[0].gradient = gradientOfA[0]
        for l in 0..<depth {
            let slope = a[l + 1] * (1 - a[l + 1])
            nodes.append(("z\(l + 1)", z[l], slope * gradientOfA[l + 1]))
            factors.append("× w\(l + 1) = \(LessonLog.format(weights[l]))")
            nodes.append(("a\(l + 1)", a[l + 1], gradientOfA[l + 1]))
            factors.append("× σ′ = \(String(format: "%.4f", slope))")
        }
        nodes.append(("C", c, 1))
        factors.append("× 2(a3 − y)")
        try log.picture("chain.svg") { try AtomicFile.write(text: chainSVG(nodes, factors), to: URL(fileURLWithPath: $0)) }
    }

    /// The formula's derivatives against the Value engine, the tensor engine and central differences.
    static func compareWithAutograd(_ log: LessonLog, byFormula: [String: Double], cost c: Double) {
        let depth = weights.count
        log.heading("the same derivatives by autograd and by finite differences")
        // The scalar engine (Double).
        let wv = weights.enumerated().map { Value($0.element, label: "w\($0.offset + 1)") }
        let bv = biases.enumerated().map { Value($0.element, label: "b\($0.offset + 1)") }
        var activation = Value(input, label: "a0")
        for l in 0..<depth { activation = (wv[l] * activation + bv[l]).sigmoid() }
        let costValue = (activation - target).pow(2)
        costValue.backward()
        // The tensor engine (Float).
        let wt = Tensor(weights.map(Float.init)).requiringGrad(), bt = Tensor(biases.map(Float.init)).requiringGrad()
        var at = Tensor(Float(input))
        for l in 0..<depth { at = (wt[row: l] * at + bt[row: l]).sigmoid() }
        let costTensor = (at - Float(target)) * (at - Float(target))
        costTensor.backward()
        let (wGrad, bGrad) = (wt.grad!.scalars, bt.grad!.scalars)

        log.say("parameter  formula       Value engine  tensor engine  finite difference")
        let h = 1e-6
        for l in 0..<depth {
            for kind in ["w", "b"] {
                let name = "\(kind)\(l + 1)"
                var (wPlus, bPlus, wMinus, bMinus) = (weights, biases, weights, biases)
                if kind == "w" { wPlus[l] += h; wMinus[l] -= h } else { bPlus[l] += h; bMinus[l] -= h }
                let central = (cost(weights: wPlus, biases: bPlus) - cost(weights: wMinus, biases: bMinus)) / (2 * h)
                let formula = byFormula[name]!
                let scalar = kind == "w" ? wv[l].grad : bv[l].grad
                let tensor = Double(kind == "w" ? wGrad[l] : bGrad[l])
                log.say(name.padding(toLength: 11, withPad: " ", startingAt: 0)
                        + [formula, scalar, tensor, central].map { LessonLog.format($0).padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
                log.check("∂C/∂\(name): formula = Value autograd", formula, equals: scalar, tolerance: 1e-12)
                log.check("∂C/∂\(name): formula = tensor autograd (Float)", formula, equals: tensor, tolerance: 1e-6)
                log.check("∂C/∂\(name): formula = (C(p+h) − C(p−h))/2h", formula, equals: central, tolerance: 1e-8)
            }
        }
        log.check("C from the Value engine", costValue.data, equals: c, tolerance: 1e-12)

    }

    /// Boxes in a row: value above, ∂C/∂value below (red); arrows labelled with the factor the gradient picks up.
    static func chainSVG(_ nodes: [(name: String, value: Double, gradient: Double)], _ factors: [String]) -> String {
        let boxWidth = 92.0, gap = 46.0, top = 70.0
        let width = 30 + Double(nodes.count) * (boxWidth + gap)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"220\" font-family=\"\(SVGText.fontFamily)\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(width / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"15\">forward values (black) and ∂C/∂value by the chain rule (red)</text>\n"
        for (i, node) in nodes.enumerated() {
            let x = 20 + Double(i) * (boxWidth + gap)
            out += "<rect x=\"\(Int(x))\" y=\"\(Int(top))\" width=\"\(Int(boxWidth))\" height=\"70\" rx=\"8\" fill=\"#f6f6f6\" stroke=\"#555\"/>\n"
            out += "<text x=\"\(Int(x + boxWidth / 2))\" y=\"\(Int(top + 20))\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(node.name)</text>\n"
            out += "<text x=\"\(Int(x + boxWidth / 2))\" y=\"\(Int(top + 40))\" text-anchor=\"middle\" font-size=\"12\">\(String(format: "%.4f", node.value))</text>\n"
            out += "<text x=\"\(Int(x + boxWidth / 2))\" y=\"\(Int(top + 60))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#c0392b\">\(String(format: "%.4f", node.gradient))</text>\n"
            if i + 1 < nodes.count {
                let (x1, x2, y) = (x + boxWidth, x + boxWidth + gap, top + 35)
                out += "<line x1=\"\(Int(x1))\" y1=\"\(Int(y))\" x2=\"\(Int(x2 - 4))\" y2=\"\(Int(y))\" stroke=\"#333\" marker-end=\"url(#arrow)\"/>\n"
                out += "<text x=\"\(Int((x1 + x2) / 2))\" y=\"\(Int(top + 100 + Double(i % 2) * 16))\" text-anchor=\"middle\" font-size=\"10\" fill=\"#c0392b\">\(SVGText.escape(factors[i]))</text>\n"
            }
        }
        out += "<defs><marker id=\"arrow\" markerWidth=\"8\" markerHeight=\"8\" refX=\"6\" refY=\"3\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" fill=\"#333\"/></marker></defs>\n"
        out += "<text x=\"20\" y=\"200\" font-size=\"11\" fill=\"#444\">going left, each red number is the one to its right times the factor under the arrow between them</text>\n"
        return out + "</svg>\n"
    }
}
