import Testing
@testable import Synapse

/// Convolution and pooling values and gradients against PyTorch (Fixtures/conv.json from
/// scripts/make_conv_fixtures.py), within 1e-4 relative; finite-difference checks; bad-input preconditions.
@Suite(.synapseRuntime) struct ConvolutionTests {
    static let ops: [String: @Sendable ([Tensor]) -> Tensor] = [
        "conv2d_basic": { $0[0].conv2d(weight: $0[1], bias: $0[2]) },
        "conv2d_stride2_pad1": { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1) },
        "conv2d_rect_kernel_stride_pad": { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: [2, 1], padding: .symmetric(1, 2)) },
        "conv2d_dilation": { $0[0].conv2d(weight: $0[1], bias: $0[2], padding: 2, dilation: 2) },
        "conv2d_dilation_stride": { $0[0].conv2d(weight: $0[1], stride: 2, dilation: [2, 1]) },
        "conv2d_groups": { $0[0].conv2d(weight: $0[1], bias: $0[2], padding: 1, groups: 2) },
        "conv2d_depthwise": { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, groups: 3) },
        "conv2d_same_even_kernel": { $0[0].conv2d(weight: $0[1], bias: $0[2], padding: .same) },
        "conv2d_same_dilated": { $0[0].conv2d(weight: $0[1], padding: .same, dilation: 2) },
        "conv2d_pointwise": { $0[0].conv2d(weight: $0[1], bias: $0[2]) },
        "conv2d_pointwise_nobias": { $0[0].conv2d(weight: $0[1]) },
        "conv2d_explicit_padding": {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: [1, 2], padding: .explicit(top: 1, bottom: 0, left: 2, right: 1))
        },
        "conv1d_basic": { $0[0].conv1d(weight: $0[1], bias: $0[2], stride: 2, padding: 1) },
        "conv1d_groups_dilation": { $0[0].conv1d(weight: $0[1], padding: 2, dilation: 2, groups: 2) },
        "conv1d_same": { $0[0].conv1d(weight: $0[1], bias: $0[2], padding: .same) },
        "max_pool_2": { $0[0].maxPool2d(kernelSize: 2) },
        "max_pool_odd_floor": { $0[0].maxPool2d(kernelSize: 2) },
        "max_pool_3_s2_p1": { $0[0].maxPool2d(kernelSize: 3, stride: 2, padding: 1) },
        "max_pool_rect_overlap": { $0[0].maxPool2d(kernelSize: [2, 3], stride: [1, 2], padding: [1, 1]) },
        "avg_pool_2": { $0[0].avgPool2d(kernelSize: 2) },
        "avg_pool_3_s2_p1": { $0[0].avgPool2d(kernelSize: 3, stride: 2, padding: 1) },
        "avg_pool_3_s2_p1_exclude_pad": { $0[0].avgPool2d(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false) },
        "avg_pool_rect_overlap": { $0[0].avgPool2d(kernelSize: [2, 3], stride: [1, 2], padding: [1, 1]) },
        "adaptive_avg_pool_3x2": { $0[0].adaptiveAvgPool2d(outputSize: [3, 2]) },
        "adaptive_avg_pool_upsample": { $0[0].adaptiveAvgPool2d(outputSize: [5, 4]) },
        "global_avg_pool": { $0[0].globalAvgPool2d() },
    ]

    @Test func everyFixtureCaseHasAnOp() throws {
        let cases = try Fixtures.json("conv.json")["cases"] as! [[String: Any]]
        #expect(Set(cases.map { $0["name"] as! String }) == Set(Self.ops.keys))
    }

    @Test(arguments: ConvolutionTests.ops.keys.sorted())
    func valuesAndGradientsMatchPyTorch(_ name: String) throws {
        let cases = try Fixtures.json("conv.json")["cases"] as! [[String: Any]]
        let c = try #require(cases.first { $0["name"] as? String == name }, "no fixture for \(name)")
        let op = Self.ops[name]!
        let inputs = (c["inputs"] as! [Any]).map { Fixtures.tensor($0).requiringGrad() }
        let output = op(inputs)
        expectClose(output, Fixtures.tensor(c["output"]!), rtol: 1e-4, atol: 1e-5, name + " output")
        (output * Fixtures.tensor(c["weight"]!)).sum().backward()
        for (i, expected) in (c["grads"] as! [Any]).enumerated() {
            expectClose(inputs[i].grad ?? .zeros(like: inputs[i]), Fixtures.tensor(expected), rtol: 1e-4, atol: 1e-5,
                        "\(name) gradient \(i)")
        }
    }

    // MARK: Finite differences

    func expectPasses(_ inputs: [Tensor], _ label: String, _ f: ([Tensor]) -> Tensor,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let report = GradCheck.check(inputs, f)
        #expect(report.passed, "\(label): \(report)", sourceLocation: sourceLocation)
    }

    @Test func convolutionGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 11)
        let x = Tensor.randn([2, 4, 5, 6], generator: &rng)
        let w = Tensor.randn([4, 2, 3, 2], generator: &rng) * 0.5
        let b = Tensor.randn([4], generator: &rng)
        let probe = Tensor.randn([2, 4, 3, 3], generator: &rng)
        expectPasses([x, w, b], "grouped strided padded conv2d") { t in
            (t[0].conv2d(weight: t[1], bias: t[2], stride: 2, padding: [1, 0], groups: 2) * probe).sum()
        }
        let pointwise = Tensor.randn([3, 4, 1, 1], generator: &rng)
        expectPasses([x, pointwise], "1×1 conv2d") { t in (t[0].conv2d(weight: t[1]) * t[0].slice(axis: 1, 0..<3)).sum() }
        let sequence = Tensor.randn([2, 3, 7], generator: &rng)
        let w1 = Tensor.randn([2, 3, 3], generator: &rng)
        expectPasses([sequence, w1], "dilated conv1d") { t in
            let y = t[0].conv1d(weight: t[1], padding: .same, dilation: 2)
            return (y * y).sum()
        }
    }

    @Test func poolingGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 12)
        // Shuffled values 0.1 apart keep the winner of every window unique under the finite-difference nudge.
        var values = (0..<180).map { Float($0) * 0.1 - 9 }
        for i in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(i, rng.nextInt(below: i + 1)) }
        let x = Tensor(shape: [2, 3, 5, 6], scalars: values)
        let probe = Tensor.randn([2, 3, 3, 3], generator: &rng)
        expectPasses([x], "max pool 3/2/1") { t in (t[0].maxPool2d(kernelSize: 3, stride: 2, padding: 1) * probe).sum() }
        expectPasses([x], "avg pool 3/2/1") { t in (t[0].avgPool2d(kernelSize: 3, stride: 2, padding: 1) * probe).sum() }
        expectPasses([x], "adaptive avg pool") { t in (t[0].adaptiveAvgPool2d(outputSize: 3) * probe).sum() }
    }

    // MARK: Fast paths agree with the general path

    @Test func pointwisePathMatchesLoweredPath() {
        var rng = RandomGenerator(seed: 13)
        let x = Tensor.randn([3, 5, 4, 6], generator: &rng).requiringGrad()
        let w = Tensor.randn([7, 5, 1, 1], generator: &rng).requiringGrad()
        let fast = x.conv2d(weight: w)
        let g = ConvGeometry(batch: 3, channels: 5, height: 4, width: 6, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1,
                             padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 4, outW: 6)
        let general = Tensor.loweredConv2d(x, weight: w, bias: nil, g, groups: 1)
        expectClose(fast, general, rtol: 1e-5, "1×1 output")
    }

    /// (stride, padding, dilation, groups, bias) cases for the per-image path, on odd sizes.
    static let imageParallelCases: [(Int, Int, Int, Int, Bool)] = [
        (1, 1, 1, 1, true), (2, 1, 1, 1, false), (1, 2, 2, 1, true), (2, 0, 1, 3, true), (1, 1, 1, 6, false),
    ]

    @Test(arguments: imageParallelCases, [true, false])
    func imageParallelPathMatchesLoweredPath(_ c: (Int, Int, Int, Int, Bool), keepColumns: Bool) {
        let (stride, pad, dilation, groups, withBias) = c
        var rng = RandomGenerator(seed: 21)
        let (n, ch, h, wd, o, k) = (5, 6, 13, 11, 12, 3)
        let outH = (h + 2 * pad - dilation * (k - 1) - 1) / stride + 1
        let outW = (wd + 2 * pad - dilation * (k - 1) - 1) / stride + 1
        let g = ConvGeometry(batch: n, channels: ch, height: h, width: wd, kernelH: k, kernelW: k, strideH: stride,
                             strideW: stride, padTop: pad, padLeft: pad, dilationH: dilation, dilationW: dilation,
                             outH: outH, outW: outW)
        let x0 = Tensor.randn([n, ch, h, wd], generator: &rng)
        let w0 = Tensor.randn([o, ch / groups, k, k], generator: &rng) * 0.3
        let b0 = Tensor.randn([o], generator: &rng)
        let probe = Tensor.randn([n, o, outH, outW], generator: &rng)
        var results: [[Tensor]] = []
        for imageParallel in [false, true] {
            let x = x0.detached().requiringGrad(), w = w0.detached().requiringGrad(), b = b0.detached().requiringGrad()
            let bias = withBias ? b : nil
            let y = imageParallel
                ? Tensor.imageParallelConv2d(x, weight: w, bias: bias, g, groups: groups,
                                             savedColumnsLimit: keepColumns ? 1 << 24 : 0)
                : Tensor.loweredConv2d(x, weight: w, bias: bias, g, groups: groups)
            (y * probe).sum().backward()
            results.append([y, x.grad!, w.grad!] + (withBias ? [b.grad!] : []))
        }
        for (name, (a, b)) in zip(["output", "input grad", "weight grad", "bias grad"], zip(results[1], results[0])) {
            expectClose(a, b, rtol: 1e-4, atol: 1e-4, "\(c) \(name)")
        }
    }

    @Test(arguments: [true, false])
    func chunkedBatchMatchesImageByImage(keepColumns: Bool) {
        // 16·3·3 rows × 28·28 columns per image: the column budget holds two images, so a batch of 5 runs as chunks
        // of 2, 2 and 1, and the weight and bias gradients accumulate across chunks (with the forward's columns kept,
        // or recomputed in the backward).
        var rng = RandomGenerator(seed: 15)
        let x = Tensor.randn([5, 16, 30, 30], generator: &rng).requiringGrad()
        let w = (Tensor.randn([8, 16, 3, 3], generator: &rng) * 0.1).requiringGrad()
        let b = Tensor.randn([8], generator: &rng).requiringGrad()
        #expect(Tensor.columnBudget / (16 * 9 * 28 * 28) == 2)
        let probe = Tensor.randn([5, 8, 28, 28], generator: &rng)
        let g = ConvGeometry(batch: 5, channels: 16, height: 30, width: 30, kernelH: 3, kernelW: 3, strideH: 1,
                             strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 28, outW: 28)
        let y = Tensor.loweredConv2d(x, weight: w, bias: b, g, groups: 1, savedColumnsLimit: keepColumns ? 1 << 24 : 0)
        (y * probe).sum().backward()
        var gw = Tensor.zeros(w.shape), gb = Tensor.zeros([8])
        for i in 0..<5 {
            let xi = x.detached().slice(axis: 0, i..<(i + 1)).requiringGrad()
            let wi = w.detached().requiringGrad(), bi = b.detached().requiringGrad()
            let yi = xi.conv2d(weight: wi, bias: bi)
            (yi * probe.slice(axis: 0, i..<(i + 1))).sum().backward()
            expectClose(y.slice(axis: 0, i..<(i + 1)), yi, rtol: 1e-4, atol: 1e-5, "image \(i) output")
            expectClose(x.grad!.slice(axis: 0, i..<(i + 1)), xi.grad!, rtol: 1e-4, atol: 1e-5, "image \(i) input gradient")
            gw = gw + wi.grad!
            gb = gb + bi.grad!
        }
        expectClose(w.grad!, gw, rtol: 1e-4, atol: 1e-3, "weight gradient")
        expectClose(b.grad!, gb, rtol: 1e-4, atol: 1e-3, "bias gradient")
    }

    @Test func maxPoolTiesAndNaNFollowPyTorch() {
        // Many ties: the gradient goes to the first maximum of each window in row-major order, on the unrolled 2×2
        // path and on the general path alike; a NaN in a window wins.
        var rng = RandomGenerator(seed: 14)
        let values = (0..<(2 * 3 * 6 * 8)).map { _ in Float(rng.nextInt(below: 3)) }
        let x = Tensor(shape: [2, 3, 6, 8], scalars: values)
        for (kernel, stride) in [(Size2D(2, 2), Size2D(2, 2)), (Size2D(2, 2), Size2D(2, 1))] {
            let leaf = x.requiringGrad()
            let y = leaf.maxPool2d(kernelSize: kernel, stride: stride)
            y.sum().backward()
            var expected = [Float](repeating: 0, count: x.count)
            var expectedValues: [Float] = []
            for plane in 0..<6 {
                for oh in 0..<y.shape[2] {
                    for ow in 0..<y.shape[3] {
                        var best = -Float.infinity, at = 0
                        for i in 0..<2 {
                            for j in 0..<2 {
                                let flat = plane * 48 + (oh * stride.height + i) * 8 + ow * stride.width + j
                                if values[flat] > best { best = values[flat]; at = flat }
                            }
                        }
                        expected[at] += 1
                        expectedValues.append(best)
                    }
                }
            }
            #expect(y.scalars == expectedValues, "max pool \(kernel) stride \(stride) values")
            #expect(leaf.grad!.scalars == expected, "max pool \(kernel) stride \(stride) gradient")
        }
        var withNaN = Tensor.zeros([1, 1, 2, 4])
        withNaN[0, 0, 1, 0] = .nan
        withNaN[0, 0, 0, 3] = .nan
        #expect(withNaN.maxPool2d(kernelSize: 2).scalars.allSatisfy { $0.isNaN })
        #expect(withNaN.maxPool2d(kernelSize: 2, stride: [2, 1]).scalars.map { $0.isNaN } == [true, false, true])
    }

    // MARK: Bad input

    @Test func channelMismatchStopsNamingShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 8, 8]).conv2d(weight: Tensor.zeros([4, 2, 3, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d: input [1, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3]"))
    }

    @Test func kernelBiggerThanPaddedInputStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).conv2d(weight: Tensor.zeros([1, 1, 5, 5]), padding: 0)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d: kernel 5×5"))
        #expect(message.contains("bigger than the padded input 4×4"))
    }

    @Test func groupsNotDividingChannelsStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 6, 4, 4]).conv2d(weight: Tensor.zeros([4, 2, 3, 3]), groups: 4)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d: groups 4 must divide input channels 6 and output channels 4"))
    }

    @Test func conv1dMessagesNameConv1dAndItsShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).conv1d(weight: Tensor.zeros([4, 3, 7]), padding: 1)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv1d: kernel 7 (dilated 7) is longer than the padded input 6 (input [2, 3, 4], weight [4, 3, 7])"))
    }

    @Test func poolKernelBiggerThanInputStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 2, 2]).maxPool2d(kernelSize: 3)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("maxPool2d: kernel (3, 3) is bigger than the padded input 2×2"))
    }
}
