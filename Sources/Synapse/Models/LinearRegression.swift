/// Linear regression trained by batch gradient descent, written out step by step as in the course notes.
///
/// The model predicts with a weight per feature and one bias:
///
///     f(x) = w·x + b = w₁x₁ + w₂x₂ + … + wₙxₙ + b
///
/// and measures its fit on m examples with the squared-error cost (the ½ only tidies the derivative):
///
///     J(w, b) = 1/(2m) · Σᵢ (f(xᵢ) − yᵢ)²
///
/// Gradient descent repeats, until the cost stops going down,
///
///     ∂J/∂w = 1/m · Σᵢ (f(xᵢ) − yᵢ)·xᵢ        ∂J/∂b = 1/m · Σᵢ (f(xᵢ) − yᵢ)
///     w ← w − α·∂J/∂w                          b ← b − α·∂J/∂b
///
/// with a *simultaneous* update: both derivatives are computed from the current w and b before either changes.
/// J is convex (a bowl), so with a small enough learning rate α this reaches the one minimum, the least-squares
/// solution the normal equations give in closed form (`closedFormSolution`). Too large an α makes J grow instead;
/// `fit` stops with `LinearRegressionError.diverged` then. Scaling features to similar ranges lets a larger α work.
///
/// ```swift
/// var model = LinearRegression(featureCount: 2)
/// let result = try model.fit(features: x, targets: y, learningRate: 0.1)   // x: [m, 2], y: [m]
/// print(model.weights, model.bias, result.iterations, result.costHistory.last!)
/// let predictions = model.predict(x)
/// ```
public struct LinearRegression: Sendable {
    /// w, one weight per feature (shape [n]).
    public var weights: Tensor
    /// b.
    public var bias: Float

    /// Starts from w = 0, b = 0, as the notes do (the cost is convex, so the start only changes the path).
    public init(featureCount: Int) {
        precondition(featureCount > 0, "LinearRegression: featureCount must be positive, got \(featureCount)")
        weights = .zeros([featureCount])
        bias = 0
    }

    public init(weights: Tensor, bias: Float) {
        precondition(weights.rank == 1, "LinearRegression: weights must be 1-D, got shape \(weights.shape)")
        self.weights = weights.detached()
        self.bias = bias
    }

    /// f(x) = w·x + b for each row of `features` ([m, n]); returns [m].
    public func predict(_ features: Tensor) -> Tensor {
        checkFeatures(features, op: "predict")
        return noGrad { features.matmul(weights.reshaped([weights.count, 1])).reshaped([features.shape[0]]) + bias }
    }

    /// J(w, b) = 1/(2m) Σ (f(xᵢ) − yᵢ)².
    public func cost(features: Tensor, targets: Tensor) -> Float {
        let error = predict(features) - checkedTargets(targets, features)
        return noGrad { (error * error).sum().item } / Float(2 * features.shape[0])
    }

    /// (∂J/∂w, ∂J/∂b) at the current parameters, from the formulas above.
    public func gradients(features: Tensor, targets: Tensor) -> (weights: Tensor, bias: Float) {
        let m = Float(features.shape[0])
        let error = predict(features) - checkedTargets(targets, features)   // f(xᵢ) − yᵢ, shape [m]
        return noGrad {
            let dw = error.reshaped([1, error.count]).matmul(features).reshaped([weights.count]) * (1 / m)
            return (dw, error.sum().item / m)
        }
    }

    /// One gradient-descent step with a simultaneous update; returns the cost *before* the step.
    @discardableResult
    public mutating func step(features: Tensor, targets: Tensor, learningRate: Float) -> Float {
        let before = cost(features: features, targets: targets)
        let (dw, db) = gradients(features: features, targets: targets)   // both from the current w and b …
        weights = noGrad { weights - dw * learningRate }                  // … then both change
        bias -= learningRate * db
        return before
    }

    /// Runs gradient descent until it converges, or `maxIterations`.
    ///
    /// Converged means the cost changed by less than `costTolerance` (relative to the cost, or absolute when the cost
    /// is below 1) or the gradient's norm ‖(∂J/∂w, ∂J/∂b)‖ fell below `gradientTolerance`.
    ///
    /// - Throws: `LinearRegressionError.diverged` when the cost grows or stops being finite (α too large).
    @discardableResult
    public mutating func fit(features: Tensor, targets: Tensor, learningRate: Float, maxIterations: Int = 100_000,
                             costTolerance: Float = 0, gradientTolerance: Float = 1e-6) throws -> LinearRegressionFit {
        precondition(learningRate > 0, "LinearRegression.fit: learning rate must be positive, got \(learningRate)")
        var history: [Float] = []
        var previous = Float.infinity
        for iteration in 0..<maxIterations {
            let current = cost(features: features, targets: targets)
            history.append(current)
            guard current.isFinite, current <= previous * (1 + 1e-6) + 1e-12 else {
                throw LinearRegressionError.diverged(iteration: iteration, cost: current, learningRate: learningRate)
            }
            let (dw, db) = gradients(features: features, targets: targets)
            let gradientNorm = (noGrad { (dw * dw).sum().item } + db * db).squareRoot()
            if gradientNorm < gradientTolerance {
                return LinearRegressionFit(iterations: iteration, costHistory: history, stoppedBecause: .smallGradient)
            }
            if previous.isFinite, Swift.abs(previous - current) < costTolerance * Swift.max(1, current) {
                return LinearRegressionFit(iterations: iteration, costHistory: history, stoppedBecause: .costStopped)
            }
            previous = current
            weights = noGrad { weights - dw * learningRate }
            bias -= learningRate * db
        }
        return LinearRegressionFit(iterations: maxIterations, costHistory: history, stoppedBecause: .iterationLimit)
    }

    /// The exact least-squares solution from the normal equations (AᵀA)θ = Aᵀy with A = [X | 1], solved in Double by
    /// Gaussian elimination with partial pivoting — what gradient descent converges to.
    ///
    /// - Throws: `LinearRegressionError.singular` when features are linearly dependent (no unique solution).
    public static func closedFormSolution(features: Tensor, targets: Tensor) throws -> LinearRegression {
        precondition(features.rank == 2, "LinearRegression.closedFormSolution: features must be [m, n], got \(features.shape)")
        let (m, n) = (features.shape[0], features.shape[1])
        precondition(targets.shape == [m], "LinearRegression.closedFormSolution: targets of shape \(targets.shape) for \(m) examples")
        let x = features.scalars.map(Double.init), y = targets.scalars.map(Double.init)
        let size = n + 1
        // Augmented matrix [AᵀA | Aᵀy], where column n of A is the constant 1 for the bias.
        var system = [[Double]](repeating: [Double](repeating: 0, count: size + 1), count: size)
        for i in 0..<m {
            for r in 0..<size {
                let ar = r < n ? x[i * n + r] : 1
                for c in 0..<size { system[r][c] += ar * (c < n ? x[i * n + c] : 1) }
                system[r][size] += ar * y[i]
            }
        }
        for column in 0..<size {
            let pivot = (column..<size).max { Swift.abs(system[$0][column]) < Swift.abs(system[$1][column]) }!
            guard Swift.abs(system[pivot][column]) > 1e-12 * Double(m) else { throw LinearRegressionError.singular }
            system.swapAt(column, pivot)
            for r in 0..<size where r != column {
                let factor = system[r][column] / system[column][column]
                for c in column...size { system[r][c] -= factor * system[column][c] }
            }
        }
        let theta = (0..<size).map { system[$0][size] / system[$0][$0] }
        return LinearRegression(weights: Tensor(theta[..<n].map(Float.init)), bias: Float(theta[n]))
    }

    private func checkFeatures(_ features: Tensor, op: String) {
        precondition(features.rank == 2 && features.shape[1] == weights.count,
                     "LinearRegression.\(op): features must be [m, \(weights.count)], got \(features.shape)")
    }

    private func checkedTargets(_ targets: Tensor, _ features: Tensor) -> Tensor {
        precondition(targets.shape == [features.shape[0]],
                     "LinearRegression: targets of shape \(targets.shape) for \(features.shape[0]) examples")
        return targets
    }
}

/// How a `LinearRegression.fit` run ended.
public struct LinearRegressionFit: Sendable {
    public enum StopReason: String, Sendable { case smallGradient, costStopped, iterationLimit }
    /// Updates applied.
    public var iterations: Int
    /// J before each update (and at the end): the learning curve, which should only go down.
    public var costHistory: [Float]
    public var stoppedBecause: StopReason
}

/// Why a linear regression could not be fitted.
public enum LinearRegressionError: Error, CustomStringConvertible, Equatable {
    /// The cost went up or became infinite/NaN: the learning rate is too large for these features.
    case diverged(iteration: Int, cost: Float, learningRate: Float)
    /// The normal equations have no unique solution (a feature is a combination of others, or m ≤ n).
    case singular

    public var description: String {
        switch self {
        case .diverged(let iteration, let cost, let learningRate):
            return "linear regression: cost rose to \(cost) at iteration \(iteration) with learning rate \(learningRate); "
                + "lower the learning rate or scale the features"
        case .singular:
            return "linear regression: the normal equations are singular; remove duplicate or constant features"
        }
    }
}
