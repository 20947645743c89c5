import Testing
@testable import Synapse

/// Conv1d/Conv2d, the pooling layers and BatchNorm2d: PyTorch's parameter names, shapes and initial ranges, seeded
/// initialisation, running statistics, and a small PyTorch conv net (Fixtures/conv.json, "layer_model") loaded
/// through `load(stateDict:)` and compared in training and eval mode.
@Suite(.synapseRuntime) struct ConvolutionLayerTests {
    @Test func conv2dHasPyTorchsParametersAndInitialRange() {
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2d(6, 8, kernelSize: [3, 5], padding: 1, groups: 2, generator: &rng)
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(conv.weight.shape == [8, 3, 3, 5])
        #expect(conv.bias?.shape == [8])
        #expect(conv.parameterCount == 8 * 3 * 15 + 8)
        // kaiming_uniform(a = √5): U(−1/√fanIn, 1/√fanIn) with fanIn = 3·3·5, and the same bound for the bias.
        let bound = 1 / Float(45).squareRoot()
        let weights = conv.weight.scalars
        #expect(weights.allSatisfy { abs($0) <= bound })
        #expect(weights.map(abs).max()! > 0.9 * bound)
        #expect(conv.bias!.scalars.allSatisfy { abs($0) <= bound })

        var again = RandomGenerator(seed: 1)
        let twin = Conv2d(6, 8, kernelSize: [3, 5], padding: 1, groups: 2, generator: &again)
        #expect(twin.weight.scalars == weights)
        #expect(Conv2d(1, 2, kernelSize: 3, bias: false, generator: &rng).namedParameters().map(\.name) == ["weight"])
    }

    @Test func conv2dForwardIsTheOp() {
        var rng = RandomGenerator(seed: 2)
        let conv = Conv2d(3, 4, kernelSize: 3, stride: 2, padding: 1, generator: &rng)
        let x = Tensor.randn([2, 3, 9, 8], generator: &rng)
        let y = conv(x)
        #expect(y.shape == [2, 4, 5, 4])
        expectClose(y, x.conv2d(weight: conv.weight, bias: conv.bias, stride: 2, padding: 1), "Conv2d")
    }

    @Test func conv1dShapesAndInitialRange() {
        var rng = RandomGenerator(seed: 3)
        let conv = Conv1d(4, 6, kernelSize: 5, padding: .same, generator: &rng)
        #expect(conv.weight.shape == [6, 4, 5])
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= 1 / Float(20).squareRoot() })
        let x = Tensor.randn([2, 4, 11], generator: &rng)
        #expect(conv(x).shape == [2, 6, 11])
        #expect(Conv1d(4, 6, kernelSize: 3, stride: 2, generator: &rng)(x).shape == [2, 6, 5])
    }

    @Test func poolingLayersHaveNoStateAndMatchTheOps() {
        var rng = RandomGenerator(seed: 4)
        let x = Tensor.randn([2, 3, 8, 7], generator: &rng)
        let layers: [(Module, Tensor)] = [
            (MaxPool2d(kernelSize: 2), x.maxPool2d(kernelSize: 2)),
            (MaxPool2d(kernelSize: 3, stride: 2, padding: 1), x.maxPool2d(kernelSize: 3, stride: 2, padding: 1)),
            (AvgPool2d(kernelSize: [2, 3], stride: 1), x.avgPool2d(kernelSize: [2, 3], stride: 1)),
            (AdaptiveAvgPool2d(outputSize: [3, 2]), x.adaptiveAvgPool2d(outputSize: [3, 2])),
            (GlobalAvgPool2d(), x.mean(axes: [2, 3], keepDims: true)),
        ]
        for (layer, expected) in layers {
            #expect(layer.stateDict().isEmpty)
            expectClose(layer(x), expected, rtol: 1e-5, "\(type(of: layer))")
        }
    }

    @Test func batchNorm2dKeepsPyTorchsStateAndRunningStatistics() {
        let norm = BatchNorm2d(3)
        #expect(norm.orderedStateDict().map(\.key) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(norm.namedParameters().map(\.name) == ["weight", "bias"])
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randn([4, 3, 5, 5], generator: &rng) * 2 + 3
        _ = norm(x)
        let batchMean = x.mean(axes: [0, 2, 3])
        expectClose(norm.runningMean!, batchMean * 0.1, rtol: 1e-4, atol: 1e-5, "running_mean after one batch")
        #expect(norm.numBatchesTracked!.item == 1)

        // Eval: a fixed affine map with the running statistics.
        norm.eval()
        let y = norm(x)
        let rm = norm.runningMean!.reshaped(1, 3, 1, 1), rv = norm.runningVar!.reshaped(1, 3, 1, 1)
        expectClose(y, (x - rm) / (rv + 1e-5).sqrt(), rtol: 1e-4, atol: 1e-5, "eval output")
        #expect(norm.numBatchesTracked!.item == 1)

        // momentum nil: the running mean is the plain average of the batch means.
        let cumulative = BatchNorm2d(3, momentum: nil)
        let x2 = Tensor.randn([4, 3, 5, 5], generator: &rng) - 1
        _ = cumulative(x)
        _ = cumulative(x2)
        expectClose(cumulative.runningMean!, (batchMean + x2.mean(axes: [0, 2, 3])) * 0.5, rtol: 1e-4, atol: 1e-5,
                    "cumulative running_mean")

        // Without running statistics the batch's are used in both modes, and there is no buffer to save.
        let untracked = BatchNorm2d(3, affine: false, trackRunningStatistics: false)
        #expect(untracked.stateDict().isEmpty)
        untracked.eval()
        let z = untracked(x)
        expectClose(z.mean(axes: [0, 2, 3]), Tensor.zeros([3]), atol: 1e-5, "untracked eval mean")
    }

    @Test func smallConvNetMatchesPyTorch() throws {
        let fixture = try Fixtures.json("conv.json")["layer_model"] as! [String: Any]
        func tensors(_ key: String) -> [String: Tensor] { (fixture[key] as! [String: Any]).mapValues { Fixtures.tensor($0) } }
        let model = Sequential(
            Conv2d(2, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(4, 6, kernelSize: 3, groups: 2, bias: false), BatchNorm2d(6, momentum: nil),
            AvgPool2d(kernelSize: 2, stride: 1), AdaptiveAvgPool2d(outputSize: 1), Flatten(), Linear(6, 3))
        let state = tensors("state")
        #expect(Set(model.stateDict().keys) == Set(state.keys))
        try model.load(stateDict: state)

        let output = model(Fixtures.tensor(fixture["input"]!))
        expectClose(output, Fixtures.tensor(fixture["train_output"]!), rtol: 1e-4, atol: 1e-5, "train output")
        (output * Fixtures.tensor(fixture["weight"]!)).sum().backward()
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        for (name, expected) in tensors("grads") {
            expectClose(parameters[name]!.grad!, expected, rtol: 1e-4, atol: 1e-5, "gradient of \(name)")
        }
        let after = model.stateDict()
        for (name, expected) in tensors("state_after") {
            expectClose(after[name]!, expected, rtol: 1e-4, atol: 1e-6, "\(name) after the training step")
        }
        model.eval()
        let evalOutput = noGrad { model(Fixtures.tensor(fixture["eval_input"]!)) }
        expectClose(evalOutput, Fixtures.tensor(fixture["eval_output"]!), rtol: 1e-4, atol: 1e-5, "eval output")
    }

    @Test func mnistCNNTrainsEndToEnd() {
        // The workload of `synapse train --model cnn`: shapes, parameter count (PyTorch: 225,034) and gradients.
        var rng = RandomGenerator(seed: 6)
        let model = Sequential(
            Conv2d(1, 32, kernelSize: 3, generator: &rng), ReLU(), MaxPool2d(kernelSize: 2),
            Conv2d(32, 64, kernelSize: 3, generator: &rng), ReLU(), MaxPool2d(kernelSize: 2),
            Flatten(), Linear(1600, 128, generator: &rng), ReLU(), Linear(128, 10, generator: &rng))
        #expect(model.parameterCount == 225_034)
        let summary = model.summary(inputShape: [1, 1, 28, 28])
        #expect(summary.contains("[1, 64, 5, 5]") && summary.contains("225,034"), "\(summary)")
        let x = Tensor.uniform([4, 1, 28, 28], generator: &rng)
        let logits = model(x)
        #expect(logits.shape == [4, 10])
        logits.crossEntropy(targets: [1, 2, 3, 4]).backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
    }

    @Test func conv2dRejectsTheWrongChannelCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Conv2d(3, 4, kernelSize: 3)(Tensor.zeros([1, 2, 8, 8]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Conv2d: expected input [N, 3, H, W], got [1, 2, 8, 8]"))
    }
}
