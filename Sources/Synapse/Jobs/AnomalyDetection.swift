/// Telling inputs from another distribution apart from the ones a model was trained on, two ways:
/// - an autoencoder's **reconstruction error**: it learned to rebuild typical inputs only, so unusual ones come back
///   badly;
/// - a classifier's **maximum softmax probability** (MSP), the usual baseline: low confidence suggests an unusual
///   input. It is weak because a classifier is often confidently wrong on nonsense: it must pick one of its classes.
///
/// Both are scored with the AUROC of separating the test images (anomalous) from the normal ones.
///
/// ```swift
/// let (ae, info) = try AutoencoderFile.load(from: aeURL)
/// let (classifier, _) = try ClassifierFile.load(from: classifierURL)
/// let result = AnomalyDetection.evaluate(autoencoder: ae, threshold: info.threshold, classifier: classifier,
///                                        normal: mnist.test.images, anomalous: fashion.test.images)
/// result.autoencoderAUROC     // ≈ 0.99
/// result.classifierAUROC      // noticeably lower
/// ```
public enum AnomalyDetection {
    public struct Result: Sendable {
        /// Reconstruction errors (per-pixel MSE) of the normal and of the anomalous images.
        public var normalErrors: [Float]
        public var anomalousErrors: [Float]
        public var autoencoderAUROC: Double
        /// 1 − max softmax probability of the classifier, for the normal and anomalous images (with a classifier).
        public var normalUncertainty: [Float]?
        public var anomalousUncertainty: [Float]?
        public var classifierAUROC: Double?
        /// The autoencoder's stored threshold, and the fraction of each set above it.
        public var threshold: Float?
        public var normalFlagged: Double?
        public var anomalousFlagged: Double?
    }

    public static func evaluate(autoencoder: Autoencoder, threshold: Float?, classifier: Module?, normal: Tensor,
                                anomalous: Tensor) -> Result {
        let normalErrors = autoencoder.reconstructionErrors(normal)
        let anomalousErrors = autoencoder.reconstructionErrors(anomalous)
        var result = Result(normalErrors: normalErrors, anomalousErrors: anomalousErrors,
                            autoencoderAUROC: ROC.areaUnderCurve(normal: normalErrors, anomalous: anomalousErrors))
        if let classifier {
            let n = classifier.maxSoftmaxProbabilities(normal).map { 1 - $0 }
            let a = classifier.maxSoftmaxProbabilities(anomalous).map { 1 - $0 }
            result.normalUncertainty = n
            result.anomalousUncertainty = a
            result.classifierAUROC = ROC.areaUnderCurve(normal: n, anomalous: a)
        }
        if let threshold {
            result.threshold = threshold
            result.normalFlagged = ROC.fractionAbove(normalErrors, threshold: threshold)
            result.anomalousFlagged = ROC.fractionAbove(anomalousErrors, threshold: threshold)
        }
        return result
    }
}

extension Module {
    /// The largest softmax probability of each row's class scores: the classifier's confidence in its prediction.
    /// Runs in evaluation mode without a graph (the module is left in evaluation mode).
    public func maxSoftmaxProbabilities(_ inputs: Tensor, batchSize: Int = 1000) -> [Float] {
        eval()
        var result: [Float] = []
        result.reserveCapacity(inputs.shape[0])
        noGrad {
            let n = inputs.shape[0]
            for start in stride(from: 0, to: n, by: batchSize) {
                let probabilities = self(inputs.slice(axis: 0, start..<Swift.min(n, start + batchSize))).softmax(axis: 1)
                result += probabilities.max(axis: 1).scalars
            }
        }
        return result
    }
}

/// The verdict of `synapse predict --check`: is one input like the autoencoder's training data?
///
/// ```swift
/// let (ae, info) = try AutoencoderFile.load(from: url)
/// let verdict = try DistributionCheck(autoencoder: ae, info: info, input: image.tensor(batched: true))
/// if verdict.isOutOfDistribution { print(verdict) }
/// ```
public struct DistributionCheck: Sendable, CustomStringConvertible {
    /// The input's reconstruction error (per-pixel MSE).
    public var error: Float
    /// The threshold from the autoencoder's training errors.
    public var threshold: Float
    /// True above the threshold, and when the error is NaN (nothing says the input is like the training data).
    public var isOutOfDistribution: Bool { !(error <= threshold) }

    /// Checks one input row ([1, sizes.first] or [sizes.first]). Throws when the file stored no threshold.
    public init(autoencoder: Autoencoder, info: AutoencoderFile.Info, input: Tensor, name: String = "autoencoder") throws {
        guard let threshold = info.threshold else {
            throw AutoencoderFile.Error.badMetadata(file: name, key: AutoencoderFile.thresholdKey, value: "(missing)")
        }
        self.threshold = threshold
        error = autoencoder.reconstructionErrors(input.reshaped([1, input.count]))[0]
    }

    public var description: String {
        if error.isNaN {
            return "warning: the reconstruction error is NaN: the input or the autoencoder is damaged; the prediction above is not to be trusted"
        }
        let ratio = threshold > 0 ? String(format: "%.1f×", error / threshold) : "∞×"
        return isOutOfDistribution
            ? String(format: "warning: this input looks out of distribution: reconstruction error %.4f is above the threshold %.4f (%@); the prediction above is not to be trusted",
                     error, threshold, ratio)
            : String(format: "check: reconstruction error %.4f is within the threshold %.4f: the input looks like the training data",
                     error, threshold)
    }
}

extension AnomalyDetection.Result {
    /// The distributions of the reconstruction error on the normal and anomalous images (fraction of images per
    /// bin, 40 bins up to the anomalous images' 99th percentile), with the stored threshold as a vertical line.
    public func errorHistogram(title: String, normalName: String, anomalousName: String) -> LineChart {
        let top = Swift.max(ROC.quantile(anomalousErrors, 0.99), ROC.quantile(normalErrors, 0.99), 1e-6)
        let bins = 40
        let width = Double(top) / Double(bins)
        func histogram(_ values: [Float]) -> [Double] {
            var counts = [Double](repeating: 0, count: bins)
            for v in values { counts[Swift.min(bins - 1, Int(Double(v) / width))] += 1 }
            return counts.map { $0 / Double(Swift.max(values.count, 1)) }
        }
        let centers = (0..<bins).map { (Double($0) + 0.5) * width }
        let n = histogram(normalErrors), a = histogram(anomalousErrors)
        var series: [LineChart.Series] = [
            .init(name: normalName, x: centers, y: n, markers: false),
            .init(name: anomalousName, x: centers, y: a, markers: false),
        ]
        if let threshold {
            let peak = Swift.max(n.max() ?? 0, a.max() ?? 0)
            series.append(.init(name: "threshold", x: [Double(threshold), Double(threshold)], y: [0, peak],
                                color: "#444444", dashed: true, markers: false))
        }
        var chart = LineChart(title: title, panels: [
            .init(title: String(format: "AUROC %.4f", autoencoderAUROC), xLabel: "reconstruction error (per-pixel MSE)",
                  yLabel: "fraction of images", series: series),
        ])
        chart.columns = 1
        chart.panelWidth = 640
        return chart
    }
}
