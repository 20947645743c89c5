/// Training curves as an SVG line chart (Visualization/SVGChart.swift).
extension TrainingHistory {
    /// Panels for loss (train and validation), accuracy (when measured) and learning rate, against the epoch.
    ///
    /// ```swift
    /// try history.chart(title: "MNIST MLP").write(to: "runs/mlp/curves.svg")
    /// ```
    public func chart(title: String = "") -> LineChart {
        let epochs = records.map { Double($0.epoch) }
        /// The epochs where `metric` was measured, and its values there.
        func series(_ name: String, _ metric: TrainingMetric, dashed: Bool = false) -> LineChart.Series? {
            let points = records.compactMap { r in metric.value(in: r).map { (Double(r.epoch), Double($0)) } }
            guard !points.isEmpty else { return nil }
            return LineChart.Series(name: name, x: points.map(\.0), y: points.map(\.1), dashed: dashed)
        }
        var panels = [LineChart.Panel(title: "loss", xLabel: "epoch", yLabel: "loss",
                                      series: [series("train", .trainLoss), series("validation", .validationLoss, dashed: true)]
                                          .compactMap { $0 })]
        let accuracy = [series("train", .trainAccuracy), series("validation", .validationAccuracy, dashed: true)].compactMap { $0 }
        if !accuracy.isEmpty {
            panels.append(LineChart.Panel(title: "accuracy", xLabel: "epoch", yLabel: "accuracy", series: accuracy))
        }
        panels.append(LineChart.Panel(title: "learning rate", xLabel: "epoch", yLabel: "lr",
                                      series: [LineChart.Series(name: "lr", x: epochs, y: records.map { Double($0.learningRate) })]))
        return LineChart(title: title, panels: panels)
    }
}
