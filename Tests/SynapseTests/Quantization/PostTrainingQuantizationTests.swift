import Foundation
import Testing
@testable import Synapse

/// Three Gaussian blobs in 12 dimensions: a small task that a tiny MLP learns in a second.
private func blobs(count: Int, seed: UInt64) -> (inputs: Tensor, labels: [Int]) {
    var rng = RandomGenerator(seed: seed)
    let centres: [[Float]] = (0..<3).map { c in (0..<12).map { Float((($0 * 7 + c * 5) % 11)) / 5 - 1 } }
    var values: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let c = i % 3
        labels.append(c)
        values += centres[c].map { $0 + 0.6 * rng.nextNormal() }
    }
    return (Tensor(shape: [count, 12], scalars: values), labels)
}

private func accuracy(_ model: Module, _ data: (inputs: Tensor, labels: [Int])) -> Float {
    let predictions = model.predictClasses(data.inputs)
    return Float(zip(predictions, data.labels).filter { $0 == $1 }.count) / Float(data.labels.count)
}

private func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("synapse-quant-\(UUID().uuidString)-\(name)")
}

private func train(_ model: Sequential, on data: (inputs: Tensor, labels: [Int]), epochs: Int) throws {
    let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 0.01), loss: .crossEntropy)
    _ = try trainer.fit(TrainingData(inputs: data.inputs, labels: data.labels), epochs: epochs, batchSize: 32, seed: 1)
}

@Suite(.synapseRuntime) struct PostTrainingQuantizationTests {
    @Test func halfPrecisionModelsStoreHalfTheBytesAndLoadBackAsFloat32() throws {
        var rng = RandomGenerator(seed: 5)
        let model = MNISTArchitecture.seed.makeModel(generator: &rng)
        for method in [QuantizationMethod.fp16, .bf16] {
            let quantized = PostTrainingQuantization(method: method).quantize(model)
            let url = temporaryURL("\(method).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try ClassifierFile.save(quantized, architecture: .seed, dataset: .digits, to: url)
            let raw = try SafeTensorsFile(contentsOf: url)
            #expect(raw.tensors["0.weight"]?.dtype == method.storageDType)
            #expect(raw.metadata[QuantizedModelFile.methodKey] == method.rawValue)
            let (loaded, _) = try ClassifierFile.load(from: url)
            let original = try #require(model.layers[0] as? Linear).weight
            let back = try #require(loaded.layers[0] as? Linear).weight
            // Every weight is the nearest half-precision value, widened exactly.
            let expected = original.scalars.map { method == .fp16 ? Float(float16Bits: $0.float16Bits) : Float(bfloat16Bits: $0.bfloat16Bits) }
            #expect(back.scalars == expected)
            let error = QuantizationError(original: original, reconstructed: back)
            #expect(error.sqnrDecibels > (method == .fp16 ? 60 : 40))
        }
    }

    @Test func int8FileRoundTripIsExactAndFourTimesSmaller() throws {
        var rng = RandomGenerator(seed: 6)
        let model = MNISTArchitecture.seed.makeModel(generator: &rng)
        let x = Tensor.uniform([20, 784], generator: &rng)
        let floatURL = temporaryURL("float.safetensors")
        defer { try? FileManager.default.removeItem(at: floatURL) }
        try ClassifierFile.save(model, architecture: .seed, dataset: .digits, to: floatURL)
        let floatBytes = try SafeTensorsFile(contentsOf: floatURL).tensors.values.reduce(0) { $0 + $1.bytes.count }

        for method in [QuantizationMethod.int8Absmax, .int8ZeroPoint] {
            for granularity in QuantizationGranularity.allCases {
                for calibrate in [false, true] {
                    let ptq = PostTrainingQuantization(method: method, granularity: granularity)
                    let quantized = ptq.quantize(model, calibration: calibrate ? [x] : [], observer: .percentile(99.9))
                    let url = temporaryURL("int8.safetensors")
                    defer { try? FileManager.default.removeItem(at: url) }
                    try ClassifierFile.save(quantized, architecture: .seed, dataset: .digits, to: url)
                    let raw = try SafeTensorsFile(contentsOf: url)
                    #expect(raw.tensors["0.weight"]?.dtype == .i8)
                    #expect(raw.tensors["0.weight.scale"]?.shape == [granularity == .perChannel ? 16 : 1])
                    #expect((raw.tensors["0.weight.zero_point"] != nil) == (method == .int8ZeroPoint))
                    #expect((raw.tensors["0.input.scale"] != nil) == calibrate)
                    let bytes = raw.tensors.values.reduce(0) { $0 + $1.bytes.count }
                    #expect(Double(floatBytes) / Double(bytes) > 3.7, "\(method) \(granularity): \(bytes) vs \(floatBytes) bytes")

                    let (loaded, info) = try ClassifierFile.load(from: url)
                    #expect(info.architecture == .seed)
                    #expect(loaded.layers[0] is QuantizedLinear)
                    let y = noGrad { loaded(x) }
                    #expect(y.scalars == noGrad { quantized.model(x) }.scalars)
                    expectClose(y, noGrad { model(x) }, rtol: 0.1, atol: 0.1, "\(method) \(granularity) calibrated \(calibrate)")
                }
            }
        }
    }

    @Test func damagedInt8FilesAreReportedNotTrapped() throws {
        var rng = RandomGenerator(seed: 7)
        let quantized = PostTrainingQuantization(method: .int8ZeroPoint).quantize(MNISTArchitecture.seed.makeModel(generator: &rng))
        var file = quantized.file(metadata: ["synapse.architecture": "seed"])
        file.tensors["2.weight.zero_point"] = nil
        var template = MNISTArchitecture.seed.makeModel(generator: &rng)
        #expect(throws: SafeTensorsError.self) { try QuantizedModelFile.model(from: file, template: template) }
        file = quantized.file()
        file.tensors["0.weight.scale"] = .init(shape: [3], values: [Float](repeating: 1, count: 3))
        template = MNISTArchitecture.seed.makeModel(generator: &rng)
        #expect(throws: QuantizedModelFile.Error.self) { try QuantizedModelFile.model(from: file, template: template) }
        file = quantized.file()
        file.metadata[QuantizedModelFile.activationsKey] = "sometimes"
        #expect(throws: QuantizedModelFile.Error.self) { try QuantizedModelFile.model(from: file, template: template) }
    }

    @Test func calibrationObserversPickTheRange() {
        var observer = ActivationObserver(method: .minMax)
        observer.observe(Tensor((0..<1000).map { Float($0) / 100 }))
        observer.observe(Tensor([-1, 50]))
        #expect(observer.range == (-1, 50))
        var clipped = ActivationObserver(method: .percentile(99))
        clipped.observe(Tensor((0..<1001).map { Float($0) }))
        #expect(clipped.range == (10, 990))
        if case let .static(scale, zeroPoint, scheme) = clipped.activationQuantization(scheme: .zeroPoint) {
            #expect(scheme == .zeroPoint && zeroPoint == -128 && abs(scale - 990 / 255) < 1e-4)
        } else {
            Issue.record("expected static quantization")
        }
    }

    @Test func ptqAndQatOnASmallModel() throws {
        let trainSet = blobs(count: 600, seed: 1), testSet = blobs(count: 300, seed: 2)
        var rng = RandomGenerator(seed: 3)
        let model = Sequential(Linear(12, 32, generator: &rng), ReLU(), Linear(32, 3, generator: &rng))
        try train(model, on: trainSet, epochs: 8)
        let floatAccuracy = accuracy(model, testSet)
        #expect(floatAccuracy > 0.9)
        let ptq = PostTrainingQuantization(method: .int8Absmax, granularity: .perChannel)
            .quantize(model, calibration: [trainSet.inputs.slice(axis: 0, 0..<128)])
        #expect(abs(accuracy(ptq.model, testSet) - floatAccuracy) <= 0.02)

        var qatRng = RandomGenerator(seed: 3)
        let qat = QATLinear.prepare(Sequential(Linear(12, 32, generator: &qatRng), ReLU(), Linear(32, 3, generator: &qatRng)))
        #expect(qat.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(qat.namedBuffers().map(\.name) == ["0.input_min", "0.input_max", "2.input_min", "2.input_max"])
        try train(qat, on: trainSet, epochs: 8)
        let first = try #require(qat.layers[0] as? QATLinear)
        let observed = try #require(first.observedRange)
        #expect(observed.minimum < -1 && observed.maximum > 1)
        let int8 = QATLinear.convert(qat)
        #expect(int8.layers.allSatisfy { !($0 is QATLinear) })
        // The exported integer network computes what the fake-quantized one did. The two sum the first layer in a
        // different order (Int32 against Float32), so a hidden value sitting on a rounding boundary of the second
        // layer's input quantization may land one step apart; that moves a logit by at most step · max|W₂|, and
        // may happen to a few values only.
        let qatLogits = noGrad { qat.eval()(testSet.inputs) }, int8Logits = noGrad { int8(testSet.inputs) }
        let second = try #require(qat.layers[2] as? QATLinear), secondRange = try #require(second.observedRange)
        let step = (secondRange.maximum - secondRange.minimum) / 255
        let oneStep = step * second.weight.scalars.map(abs).max()!
        expectClose(int8Logits, qatLogits, rtol: 1e-3, atol: 1e-3 + oneStep, "int8 export vs QAT")
        let apart = zip(int8Logits.scalars, qatLogits.scalars).filter { abs($0 - $1) > 1e-3 + 1e-3 * abs($1) }.count
        #expect(apart * 100 <= qatLogits.count, "\(apart) of \(qatLogits.count) logits differ by more than rounding")
        #expect(accuracy(int8, testSet) > 0.9)

        // The export survives its file, and a layer that never trained falls back to dynamic activations.
        let exported = QATLinear.export(qat)
        #expect(exported.activations == "static-zeropoint" && exported.layers.count == 2)
        var templateRng = RandomGenerator(seed: 0)
        let template = { Sequential(Linear(12, 32, generator: &templateRng), ReLU(), Linear(32, 3, generator: &templateRng)) }
        let reloaded = try QuantizedModelFile.model(from: exported.file(), template: template())
        #expect(noGrad { reloaded(testSet.inputs) }.scalars == noGrad { int8(testSet.inputs) }.scalars)
        let untrained = QATLinear.export(QATLinear.prepare(template()))
        #expect(untrained.activations == "dynamic")
        #expect(try QuantizedModelFile.model(from: untrained.file(), template: template()).layers[0] is QuantizedLinear)
    }
}
