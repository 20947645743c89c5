/// Threshold-free measures of how well a score separates two groups, for anomaly detection: does the score rank
/// the anomalous examples above the normal ones?
///
/// ```swift
/// let auroc = ROC.areaUnderCurve(normal: errorsOnDigits, anomalous: errorsOnFashion)   // 0.5 = chance, 1 = perfect
/// let threshold = ROC.quantile(trainingErrors, 0.99)
/// ```
public enum ROC {
    /// The area under the ROC curve: the probability that a randomly chosen anomalous example scores higher than a
    /// randomly chosen normal one, ties counting one half (the Mann–Whitney U statistic, normalised). `nan` when
    /// either group is empty or any score is NaN (a NaN cannot be ranked; sorting it would fake a perfect score).
    public static func areaUnderCurve(normal: [Float], anomalous: [Float]) -> Double {
        guard !normal.isEmpty, !anomalous.isEmpty, !normal.contains(where: \.isNaN), !anomalous.contains(where: \.isNaN)
        else { return .nan }
        // Rank all scores together (ties get their average rank) and sum the anomalous ranks.
        let all = normal.map { ($0, false) } + anomalous.map { ($0, true) }
        let sorted = all.sorted { $0.0 < $1.0 }
        var anomalousRankSum = 0.0
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1].0 == sorted[i].0 { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where sorted[k].1 { anomalousRankSum += averageRank }
            i = j + 1
        }
        let (m, n) = (Double(anomalous.count), Double(normal.count))
        return (anomalousRankSum - m * (m + 1) / 2) / (m * n)
    }

    /// The q-quantile of `values` (0 ≤ q ≤ 1) with linear interpolation between order statistics (NumPy's default).
    public static func quantile(_ values: [Float], _ q: Double) -> Float {
        precondition(q >= 0 && q <= 1, "ROC.quantile: q = \(q) is outside [0, 1]")
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = Float(position - Double(lower))
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The fraction of `scores` above `threshold`.
    public static func fractionAbove(_ scores: [Float], threshold: Float) -> Double {
        guard !scores.isEmpty else { return .nan }
        return Double(scores.filter { $0 > threshold }.count) / Double(scores.count)
    }
}
