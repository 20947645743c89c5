import Foundation

/// CartPole-v1: balance a pole hinged on a cart by pushing the cart left (action 0) or right (action 1).
///
/// Barto, Sutton and Anderson's cart-pole with Gymnasium's constants, Euler integration every 0.02 s and its
/// rules: reward +1 for every step including the last, termination when the pole leans past 12° or the cart leaves
/// ±2.4, truncation after 500 steps. The state is kept in Double, as Gymnasium keeps it in float64, and every formula is
/// evaluated in Gymnasium's order, so trajectories agree with Gymnasium's to the last bit of the Float observations
/// (checked against fixtures in `EnvironmentTests`).
///
/// Observation: [cart position, cart velocity, pole angle (rad), pole angular velocity].
public struct CartPole: Environment, Sendable {
    public static let gravity = 9.8
    public static let cartMass = 1.0
    public static let poleMass = 0.1
    public static let totalMass = poleMass + cartMass
    /// Half the pole's length.
    public static let halfPoleLength = 0.5
    public static let poleMassLength = poleMass * halfPoleLength
    public static let forceMagnitude = 10.0
    /// Seconds between state updates.
    public static let tau = 0.02
    public static let angleThreshold = 12 * 2 * Double.pi / 360
    public static let positionThreshold = 2.4

    public let id = "CartPole-v1"
    public let observationSize = 4
    public let actionCount = 2
    public var maxEpisodeSteps: Int

    /// (x, ẋ, θ, θ̇).
    public private(set) var state: (x: Double, xDot: Double, theta: Double, thetaDot: Double) = (0, 0, 0, 0)
    public private(set) var elapsedSteps = 0
    private var random: NumPyRandom?
    private var stepsBeyondTerminated: Int?

    public init(maxEpisodeSteps: Int = 500) {
        precondition(maxEpisodeSteps > 0, "CartPole: maxEpisodeSteps must be positive, got \(maxEpisodeSteps)")
        self.maxEpisodeSteps = maxEpisodeSteps
    }

    public var stateVector: [Double] { [state.x, state.xDot, state.theta, state.thetaDot] }

    public var observation: [Float] { [Float(state.x), Float(state.xDot), Float(state.theta), Float(state.thetaDot)] }

    public mutating func reset(seed: UInt64?) -> [Float] {
        if let seed { random = NumPyRandom(seed: seed) }
        if random == nil { random = NumPyRandom(seed: UInt64.random(in: 0...UInt64(UInt32.max))) }
        // np_random.uniform(-0.05, 0.05, size=(4,)): four draws in state order.
        state = (random!.uniform(-0.05, 0.05), random!.uniform(-0.05, 0.05), random!.uniform(-0.05, 0.05),
                 random!.uniform(-0.05, 0.05))
        elapsedSteps = 0
        stepsBeyondTerminated = nil
        return observation
    }

    public var checkpointWords: [UInt64] {
        // stepsBeyondTerminated: 0 for none, n + 1 for n.
        EnvironmentWords.encode(state: stateVector, elapsedSteps: elapsedSteps, random: random,
                                extra: [stepsBeyondTerminated.map { UInt64($0) + 1 } ?? 0])
    }

    public mutating func restore(checkpointWords words: [UInt64]) -> Bool {
        guard let d = EnvironmentWords.decode(words, stateCount: 4, extraCount: 1), d.extra[0] <= UInt64(Int.max) else {
            return false
        }
        state = (d.state[0], d.state[1], d.state[2], d.state[3])
        (elapsedSteps, random) = (d.elapsedSteps, d.random)
        stepsBeyondTerminated = d.extra[0] == 0 ? nil : Int(d.extra[0] - 1)
        return true
    }

    public mutating func step(_ action: Int) -> EnvironmentStep {
        precondition(action == 0 || action == 1, "CartPole.step: action must be 0 or 1, got \(action)")
        precondition(random != nil, "CartPole.step: call reset before step")
        let (x, xDot, theta, thetaDot) = state
        let force = action == 1 ? Self.forceMagnitude : -Self.forceMagnitude
        let cosTheta = cos(theta)
        let sinTheta = sin(theta)
        // The pole's angular acceleration from the equations of motion (Florian's corrected form, as Gymnasium has it).
        let temp = (force + Self.poleMassLength * (thetaDot * thetaDot) * sinTheta) / Self.totalMass
        let thetaAcc = (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.halfPoleLength * (4.0 / 3.0 - Self.poleMass * (cosTheta * cosTheta) / Self.totalMass))
        let xAcc = temp - Self.poleMassLength * thetaAcc * cosTheta / Self.totalMass
        state = (x + Self.tau * xDot, xDot + Self.tau * xAcc, theta + Self.tau * thetaDot, thetaDot + Self.tau * thetaAcc)
        elapsedSteps += 1

        let terminated = state.x < -Self.positionThreshold || state.x > Self.positionThreshold
            || state.theta < -Self.angleThreshold || state.theta > Self.angleThreshold
        var reward = 1.0
        if terminated {
            // Gymnasium pays the step that ends the episode and nothing for steps taken after it.
            if let beyond = stepsBeyondTerminated {
                stepsBeyondTerminated = beyond + 1
                reward = 0
            } else {
                stepsBeyondTerminated = 0
            }
        }
        return EnvironmentStep(observation: observation, reward: reward, terminated: terminated,
                               truncated: elapsedSteps >= maxEpisodeSteps)
    }
}
