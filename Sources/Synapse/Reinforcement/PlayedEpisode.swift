import Foundation

/// One episode played by an agent, and its picture: an animated SVG of the cart and pole (or the acrobot's two
/// links) moving as they moved, at the environment's own time step, with a strip of still frames beneath it for
/// viewers that do not animate.
public struct PlayedEpisode: Sendable {
    public var environment: EnvironmentKind
    /// The physical state before the first action and after each one.
    public var states: [[Double]]
    public var actions: [Int]
    public var totalReward: Double
    public var terminated: Bool

    public var length: Int { actions.count }

    /// Plays one episode from `reset(seed:)` choosing actions with `policy` (given the observation).
    public static func play(_ kind: EnvironmentKind, seed: UInt64, policy: ([Float]) -> Int) -> PlayedEpisode {
        var env = kind.make()
        var observation = env.reset(seed: seed)
        var episode = PlayedEpisode(environment: kind, states: [env.stateVector], actions: [], totalReward: 0, terminated: false)
        while true {
            let action = policy(observation)
            let step = env.step(action)
            episode.actions.append(action)
            episode.states.append(env.stateVector)
            episode.totalReward += step.reward
            if step.isDone {
                episode.terminated = step.terminated
                return episode
            }
            observation = step.observation
        }
    }

    /// The episode with the agent's greedy policy.
    public static func play(_ kind: EnvironmentKind, agent: ActorCritic, seed: UInt64) -> PlayedEpisode {
        play(kind, seed: seed) { observation in
            agent.greedyActions(Tensor(shape: [1, observation.count], scalars: observation))[0]
        }
    }

    /// Seconds of simulated time per step (CartPole 0.02 s, Acrobot 0.2 s); the animation runs in real time.
    var secondsPerStep: Double { environment == .cartpole ? CartPole.tau : Acrobot.dt }

    public func svg(title: String? = nil, stills: Int = 6) -> String {
        let width = 640.0, sceneHeight = 300.0, stripHeight = stills > 0 ? 130.0 : 0, top = 34.0
        let height = top + sceneHeight + stripHeight + 10
        let duration = max(secondsPerStep * Double(max(length, 1)), 0.1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(SVGText.escape(title ?? "\(environment.gymnasiumID): return \(format(totalReward)) in \(length) steps (\(terminated ? "terminated" : "time limit"))"))</text>

            """
        // The scene, animated: `frames` gives each element's transform per step, played once per `duration`, looped.
        svg += "<g transform=\"translate(0 \(top))\">\n"
        svg += scene(width: width, height: sceneHeight, animated: true, state: states[0], duration: duration)
        // A time bar under the scene.
        svg += "<rect x=\"20\" y=\"\(sceneHeight - 8)\" width=\"0\" height=\"4\" fill=\"#1f77b4\"><animate attributeName=\"width\" values=\"0;\(width - 40)\" dur=\"\(format(duration))s\" repeatCount=\"indefinite\"/></rect>\n"
        svg += "</g>\n"
        if stills > 0 {
            let cell = (width - 20) / Double(stills)
            for k in 0..<stills {
                let step = stills == 1 ? 0 : Int((Double(k) / Double(stills - 1) * Double(states.count - 1)).rounded())
                let x = 10 + Double(k) * cell
                svg += "<g transform=\"translate(\(format(x)) \(format(top + sceneHeight + 8))) scale(\(format(cell / width)))\">\n"
                svg += "<rect width=\"\(width)\" height=\"\(sceneHeight)\" fill=\"#f7f7f7\" stroke=\"#ccc\" stroke-width=\"3\"/>\n"
                svg += scene(width: width, height: sceneHeight, animated: false, state: states[step], duration: duration)
                svg += "</g>\n"
                svg += "<text x=\"\(format(x + cell / 2))\" y=\"\(format(top + sceneHeight + 8 + sceneHeight * cell / width + 16))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">step \(step)</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    private func scene(width: Double, height: Double, animated: Bool, state: [Double], duration: Double) -> String {
        func animation(_ type: String, _ values: [String]) -> String {
            guard animated else { return "" }
            return "<animateTransform attributeName=\"transform\" type=\"\(type)\" values=\"\(values.joined(separator: ";"))\" dur=\"\(format(duration))s\" calcMode=\"discrete\" repeatCount=\"indefinite\"/>"
        }
        switch environment {
        case .cartpole:
            // The track spans ±2.4 (where the episode ends); the pole is 1.0 long (twice the half-length).
            let scale = (width - 80) / (2 * CartPole.positionThreshold * 1.05)
            let trackY = height * 0.72, centre = width / 2
            let poleLength = 2 * CartPole.halfPoleLength * scale
            let cartX = centre + state[0] * scale
            let xs = states.map { "\(format(centre + $0[0] * scale)) \(format(trackY))" }
            let angles = states.map { "\(format($0[2] * 180 / .pi))" }
            let limit = CartPole.positionThreshold * scale
            return """
                <line x1="\(format(centre - limit))" y1="\(format(trackY))" x2="\(format(centre + limit))" y2="\(format(trackY))" stroke="#333" stroke-width="2"/>
                <line x1="\(format(centre - limit))" y1="\(format(trackY - 8))" x2="\(format(centre - limit))" y2="\(format(trackY + 8))" stroke="#d62728" stroke-width="2"/>
                <line x1="\(format(centre + limit))" y1="\(format(trackY - 8))" x2="\(format(centre + limit))" y2="\(format(trackY + 8))" stroke="#d62728" stroke-width="2"/>
                <g transform="translate(\(format(cartX)) \(format(trackY)))">\(animation("translate", xs))
                <rect x="-30" y="-18" width="60" height="30" rx="3" fill="#444"/>
                <g transform="rotate(\(format(state[2] * 180 / .pi)))">\(animation("rotate", angles))
                <rect x="-5" y="\(format(-poleLength - 10))" width="10" height="\(format(poleLength))" rx="3" fill="#c98b4b" transform="translate(0 8)"/>
                </g>
                <circle r="5" fill="#8888cc"/>
                </g>

                """
        case .acrobot:
            // Two links of length 1 hanging from the pivot; the goal line is one link above it.
            let scale = height * 0.21, pivotX = width / 2, pivotY = height * 0.5
            let first = states.map { "\(format(-$0[0] * 180 / .pi))" }
            let second = states.map { "\(format(-$0[1] * 180 / .pi))" }
            let link = format(scale)
            return """
                <line x1="\(format(pivotX - 2.4 * scale))" y1="\(format(pivotY - scale))" x2="\(format(pivotX + 2.4 * scale))" y2="\(format(pivotY - scale))" stroke="#2ca02c" stroke-dasharray="6 4"/>
                <g transform="translate(\(format(pivotX)) \(format(pivotY)))">
                <g transform="rotate(\(format(-state[0] * 180 / .pi)))">\(animation("rotate", first))
                <line x1="0" y1="0" x2="0" y2="\(link)" stroke="#1f77b4" stroke-width="10" stroke-linecap="round"/>
                <g transform="translate(0 \(link))"><g transform="rotate(\(format(-state[1] * 180 / .pi)))">\(animation("rotate", second))
                <line x1="0" y1="0" x2="0" y2="\(link)" stroke="#ff7f0e" stroke-width="10" stroke-linecap="round"/>
                </g><circle r="5" fill="#444"/></g>
                </g>
                <circle r="6" fill="#444"/>
                </g>

                """
        }
    }

    private func format(_ value: Double) -> String { SVGText.coordinate(value) }
}
