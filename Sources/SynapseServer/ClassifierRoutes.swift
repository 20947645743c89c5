import Foundation
import Hummingbird
import Synapse

extension SynapseServer {
    static func addClassifierRoutes(to router: Router<Context>, models: ServedModels, configuration c: ServerConfiguration) {
        router.post("/v1/classify") { request, _ in
            let classifier = try requireClassifier(models)
            var request = request
            let bytes = try await bodyBytes(&request, limit: c.maximumBodyBytes)
            let pixels = try inputPixels(bytes)
            let (probabilities, layers) = classifier.classify(pixels)
            guard probabilities.allSatisfy(\.isFinite) else { throw APIError(500, "the network answered NaN; the model file is damaged") }
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
            return json(.object([
                ("model", .string(classifier.id)), ("label", .int(best)), ("class", .string(classifier.classNames[best])),
                ("probabilities", .floats(probabilities)), ("input", .floats(pixels)),
                ("layers", .array(layers.map { .object([("kind", .string($0.kind)), ("activations", .floats($0.values))]) })),
            ]))
        }
        router.get("/v1/classifier") { _, _ in
            let classifier = try requireClassifier(models)
            return json(.object([
                ("model", .string(classifier.id)), ("architecture", .string(classifier.architecture)),
                ("classes", .array(classifier.classNames.map(JSONText.string))),
                ("dense_sizes", classifier.denseSizes.map { .array($0.map(JSONText.int)) } ?? .null),
            ]))
        }
        router.get("/v1/classifier/pattern") { request, _ in
            let classifier = try requireClassifier(models)
            guard let layer = request.uri.queryParameters.get("layer", as: Int.self),
                  let neuron = request.uri.queryParameters.get("neuron", as: Int.self) else {
                throw APIError.invalid("give ?layer=L&neuron=N (whole numbers)")
            }
            return json(.object([("layer", .int(layer)), ("neuron", .int(neuron)),
                                 ("pattern", .floats(try classifier.inputPattern(layer: layer, neuron: neuron)))]))
        }
    }

    static func requireClassifier(_ models: ServedModels) throws(APIError) -> ServedModels.Classifier {
        guard let classifier = models.classifier else {
            throw APIError(404, "this server has no classifier; start it with --classifier runs/mnist/model.safetensors", code: "model_not_found")
        }
        return classifier
    }

    /// A PNG or PGM of any size (prepared the MNIST way, as `synapse predict` does), or `{"pixels": [784 values in
    /// 0...1]}` already prepared (white on black, as the page sends).
    static func inputPixels(_ bytes: [UInt8]) throws(APIError) -> [Float] {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) || bytes.starts(with: Array("P5".utf8)) || bytes.starts(with: Array("P2".utf8)) {
            do {
                return try GrayImage(imageBytes: bytes, name: "the uploaded image").preparedLikeMNIST().pixels
            } catch {
                throw APIError.invalid("\(error)")
            }
        }
        let body = try RequestObject(bytes: bytes)
        guard case .array(let items)? = body.object["pixels"] else {
            throw APIError.invalid("send a PNG or PGM image as the body, or {\"pixels\": [784 numbers in 0...1]}", param: "pixels")
        }
        guard items.count == 784 else { throw APIError.invalid("'pixels' must hold 784 values (28 × 28), got \(items.count)", param: "pixels") }
        var pixels: [Float] = []
        pixels.reserveCapacity(784)
        for item in items {
            guard case .number(let text) = item, let v = Float(text), v.isFinite, (0...1).contains(v) else {
                throw APIError.invalid("'pixels' must be numbers in 0...1 (white ink on black, MNIST's way)", param: "pixels")
            }
            pixels.append(v)
        }
        return pixels
    }
}
