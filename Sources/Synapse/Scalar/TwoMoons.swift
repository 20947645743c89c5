import Foundation

/// Two interleaved half-circles in the plane, one per class: the toy set that a straight line cannot split but a
/// small MLP can (the same shape as scikit-learn's `make_moons`).
///
/// ```swift
/// let moons = TwoMoons(count: 100, noise: 0.1, seed: 1)
/// moons.points[0]   // [x, y]
/// moons.labels[0]   // -1 (upper moon) or +1 (lower moon)
/// ```
public struct TwoMoons: Sendable {
    /// `[x, y]` coordinates.
    public let points: [[Double]]
    /// `-1` for the upper moon, `+1` for the lower one: the sign convention of a hinge loss.
    public let labels: [Double]

    /// `count` points, half per moon (the upper one gets the extra point when `count` is odd), evenly spaced
    /// along each arc, then shifted by Gaussian noise of standard deviation `noise`.
    public init(count: Int, noise: Double = 0.1, seed: UInt64) {
        precondition(count >= 2, "TwoMoons: count must be at least 2, got \(count)")
        precondition(noise >= 0, "TwoMoons: noise must be non-negative, got \(noise)")
        var generator = RandomGenerator(seed: seed)
        let upper = (count + 1) / 2, lower = count / 2
        var points: [[Double]] = [], labels: [Double] = []
        for i in 0..<upper {
            let t = Double.pi * Double(i) / Double(max(upper - 1, 1))
            points.append([cos(t), sin(t)])
            labels.append(-1)
        }
        for i in 0..<lower {
            let t = Double.pi * Double(i) / Double(max(lower - 1, 1))
            points.append([1 - cos(t), 0.5 - sin(t)])
            labels.append(1)
        }
        self.points = points.map { p in [p[0] + noise * generator.gaussian(), p[1] + noise * generator.gaussian()] }
        self.labels = labels
    }
}
