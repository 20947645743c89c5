import Foundation

/// Acrobot-v1: two links hanging from a pivot, torque applied at the joint between them (−1, 0 or +1 for actions 0,
/// 1, 2); the goal is to swing the tip above a line one link-length over the pivot.
///
/// Sutton's acrobot ("book" dynamics) with Gymnasium's constants, one fourth-order Runge–Kutta step of 0.2 s per
/// action, angles wrapped to [−π, π], velocities clipped to ±4π and ±9π, reward −1 per step until the goal, truncation
/// after 500 steps. As in Gymnasium, the initial state is drawn in float64 and stored as float32, and every formula is
/// evaluated in Gymnasium's order: the system is chaotic, so a different rounding would show up within a few hundred
/// steps.
///
/// Observation: [cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂].
public struct Acrobot: Environment, Sendable {
    public static let dt = 0.2
    public static let linkLength1 = 1.0
    public static let linkMass1 = 1.0
    public static let linkMass2 = 1.0
    public static let linkCenterOfMass1 = 0.5
    public static let linkCenterOfMass2 = 0.5
    public static let linkMomentOfInertia = 1.0
    public static let maxVelocity1 = 4 * Double.pi
    public static let maxVelocity2 = 9 * Double.pi
    public static let torques: [Double] = [-1, 0, 1]

    public let id = "Acrobot-v1"
    public let observationSize = 6
    public let actionCount = 3
    public var maxEpisodeSteps: Int

    /// (θ₁, θ₂, θ̇₁, θ̇₂).
    public private(set) var state: [Double] = [0, 0, 0, 0]
    public private(set) var elapsedSteps = 0
    private var random: NumPyRandom?

    public init(maxEpisodeSteps: Int = 500) {
        precondition(maxEpisodeSteps > 0, "Acrobot: maxEpisodeSteps must be positive, got \(maxEpisodeSteps)")
        self.maxEpisodeSteps = maxEpisodeSteps
    }

    public var stateVector: [Double] { state }

    public var observation: [Float] {
        [Float(cos(state[0])), Float(sin(state[0])), Float(cos(state[1])), Float(sin(state[1])), Float(state[2]),
         Float(state[3])]
    }

    public mutating func reset(seed: UInt64?) -> [Float] {
        if let seed { random = NumPyRandom(seed: seed) }
        if random == nil { random = NumPyRandom(seed: UInt64.random(in: 0...UInt64(UInt32.max))) }
        state = (0..<4).map { _ in Double(Float(random!.uniform(-0.1, 0.1))) }
        elapsedSteps = 0
        return observation
    }

    public var checkpointWords: [UInt64] {
        EnvironmentWords.encode(state: state, elapsedSteps: elapsedSteps, random: random)
    }

    public mutating func restore(checkpointWords words: [UInt64]) -> Bool {
        guard let d = EnvironmentWords.decode(words, stateCount: 4, extraCount: 0) else { return false }
        (state, elapsedSteps, random) = (d.state, d.elapsedSteps, d.random)
        return true
    }

    public mutating func step(_ action: Int) -> EnvironmentStep {
        precondition(action >= 0 && action < 3, "Acrobot.step: action must be 0, 1 or 2, got \(action)")
        precondition(random != nil, "Acrobot.step: call reset before step")
        var next = Self.rungeKutta4(state, torque: Self.torques[action], dt: Self.dt)
        next[0] = Self.wrap(next[0], -Double.pi, Double.pi)
        next[1] = Self.wrap(next[1], -Double.pi, Double.pi)
        next[2] = Swift.min(Swift.max(next[2], -Self.maxVelocity1), Self.maxVelocity1)
        next[3] = Swift.min(Swift.max(next[3], -Self.maxVelocity2), Self.maxVelocity2)
        state = next
        elapsedSteps += 1
        let terminated = -cos(state[0]) - cos(state[1] + state[0]) > 1.0
        return EnvironmentStep(observation: observation, reward: terminated ? 0 : -1, terminated: terminated,
                               truncated: elapsedSteps >= maxEpisodeSteps)
    }

    /// The time derivative of (θ₁, θ₂, θ̇₁, θ̇₂) under a torque a on the second joint.
    static func derivatives(_ s: [Double], torque a: Double) -> [Double] {
        let m1 = linkMass1, m2 = linkMass2, l1 = linkLength1, lc1 = linkCenterOfMass1, lc2 = linkCenterOfMass2
        let i1 = linkMomentOfInertia, i2 = linkMomentOfInertia, g = 9.8
        let (theta1, theta2, dtheta1, dtheta2) = (s[0], s[1], s[2], s[3])
        let d1 = m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * cos(theta2)) + i1 + i2
        let d2 = m2 * ((lc2 * lc2) + l1 * lc2 * cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2)
            + phi2
        let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin(theta2) - phi2)
            / (m2 * (lc2 * lc2) + i2 - (d2 * d2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2]
    }

    /// One classical Runge–Kutta step, combining the stages as Gymnasium's `rk4` does: y + dt/6·(k1 + 2k2 + 2k3 + k4).
    static func rungeKutta4(_ y: [Double], torque: Double, dt: Double) -> [Double] {
        let half = dt / 2.0
        let k1 = derivatives(y, torque: torque)
        let k2 = derivatives((0..<4).map { y[$0] + half * k1[$0] }, torque: torque)
        let k3 = derivatives((0..<4).map { y[$0] + half * k2[$0] }, torque: torque)
        let k4 = derivatives((0..<4).map { y[$0] + dt * k3[$0] }, torque: torque)
        return (0..<4).map { y[$0] + dt / 6.0 * (k1[$0] + 2 * k2[$0] + 2 * k3[$0] + k4[$0]) }
    }

    /// Gymnasium's `wrap`: shifts x by whole periods into [low, high].
    static func wrap(_ x: Double, _ low: Double, _ high: Double) -> Double {
        let period = high - low
        var x = x
        while x > high { x -= period }
        while x < low { x += period }
        return x
    }
}
