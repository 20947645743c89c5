import Foundation
import Testing
@testable import Synapse

@Suite(.synapseRuntime) struct QuantizedConv2dTests {
    @Test func integerConvolutionMatchesTheDequantizedConvolution() {
        var rng = RandomGenerator(seed: 11)
        let conv = Conv2d(3, 5, kernelSize: [3, 2], stride: [2, 1], padding: 1, generator: &rng)
        let x = Tensor.uniform([2, 3, 7, 6], low: -1, high: 2, generator: &rng)
        let float = noGrad { conv(x) }
        for scheme in Int8Scheme.allCases {
            for granularity in QuantizationGranularity.allCases {
                // Static per-tensor input quantization commutes with im2col (padding is an exact 0), so the integer
                // result equals a Float32 convolution of the dequantized input and weight.
                let (scale, zeroPoint) = scheme.parameters(minimum: -1, maximum: 2)
                let layer = QuantizedConv2d(conv, scheme: scheme, granularity: granularity,
                                            activations: .static(scale: scale, zeroPoint: zeroPoint, scheme: scheme))
                let y = noGrad { layer(x) }
                #expect(y.shape == float.shape)
                let dequantizedInput = QuantizedTensor(x, scales: [scale], zeroPoints: [zeroPoint], scheme: scheme).dequantized()
                let reference = noGrad { dequantizedInput.conv2d(weight: layer.weight.dequantized(), bias: conv.bias, stride: [2, 1], padding: 1) }
                expectClose(y, reference, rtol: 1e-4, atol: 1e-5, "\(scheme) \(granularity)")
                expectClose(y, float, rtol: 0.05, atol: 0.05, "\(scheme) \(granularity) vs float")
                // Dynamic: every patch gets its own step.
                let dynamic = noGrad { QuantizedConv2d(conv, scheme: scheme, granularity: granularity)(x) }
                expectClose(dynamic, float, rtol: 0.05, atol: 0.05, "dynamic vs float")
            }
        }
    }

    @Test func smallCNNThroughPTQAndItsFile() throws {
        var rng = RandomGenerator(seed: 12)
        let make = { (rng: inout RandomGenerator) in
            Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1, generator: &rng), ReLU(), MaxPool2d(kernelSize: 2),
                       Flatten(), Linear(4 * 4 * 4, 3, generator: &rng))
        }
        let model = make(&rng)
        let x = Tensor.uniform([6, 1, 8, 8], generator: &rng)
        for method in QuantizationMethod.allCases {
            let quantized = PostTrainingQuantization(method: method, granularity: .perChannel)
                .quantize(model, calibration: method.int8Scheme == nil ? [] : [x])
            if method.int8Scheme != nil {
                #expect(quantized.model.layers[0] is QuantizedConv2d && quantized.model.layers[4] is QuantizedLinear)
            }
            #expect(quantized.layers.map(\.name) == ["0", "4"])
            let file = quantized.file()
            #expect(file.tensors["0.weight"]?.dtype == method.storageDType)
            let y = noGrad { quantized.model(x) }
            expectClose(y, noGrad { model(x) }, rtol: 0.05, atol: 0.05, "\(method) vs float")
            let reloaded: Sequential
            if method.int8Scheme != nil {
                reloaded = try QuantizedModelFile.model(from: try SafeTensorsFile(bytes: file.serialized()), template: make(&rng))
            } else {
                reloaded = make(&rng)
                try reloaded.load(stateDict: try SafeTensorsFile(bytes: file.serialized()).floatTensors())
            }
            #expect(noGrad { reloaded(x) }.scalars == y.scalars, "\(method): reloaded model differs")
        }
    }
}

@Suite(.synapseRuntime) struct QATConv2dTests {
    @Test func fakeQuantizedConvolutionTrainsAndExportsToTheSameIntegers() throws {
        var rng = RandomGenerator(seed: 13)
        let model = QATLinear.prepare(Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1, generator: &rng), ReLU(),
                                                 Flatten(), Linear(4 * 6 * 6, 2, generator: &rng)))
        #expect(model.layers[0] is QATConv2d && model.layers[3] is QATLinear)
        #expect(model.namedBuffers().map(\.name) == ["0.input_min", "0.input_max", "3.input_min", "3.input_max"])
        // Two classes: bright top half or bright bottom half.
        var images: [Float] = [], labels: [Int] = []
        for i in 0..<64 {
            let top = i % 2 == 0
            for r in 0..<6 { for _ in 0..<6 { images.append((r < 3) == top ? 0.8 + 0.2 * rng.nextUniform() : 0.2 * rng.nextUniform()) } }
            labels.append(top ? 0 : 1)
        }
        let x = Tensor(shape: [64, 1, 6, 6], scalars: images)
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: 0.02), loss: .crossEntropy)
        _ = try trainer.fit(TrainingData(inputs: x, labels: labels), epochs: 5, batchSize: 16, seed: 2)
        let conv = try #require(model.layers[0] as? QATConv2d)
        let observed = try #require(conv.observedRange)
        #expect(observed.minimum >= 0 && observed.maximum <= 1)
        let exported = QATLinear.export(model)
        #expect(exported.model.layers[0] is QuantizedConv2d)
        expectClose(noGrad { exported.model(x) }, noGrad { model.eval()(x) }, rtol: 1e-3, atol: 1e-3, "int8 export vs QAT")
        let predictions = exported.model.predictClasses(x)
        #expect(zip(predictions, labels).filter { $0 == $1 }.count >= 60)
    }
}
