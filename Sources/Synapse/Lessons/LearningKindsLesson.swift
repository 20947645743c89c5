import Foundation

/// The notes' four kinds of machine learning, each run for real at a small size, with the command that runs it at
/// full size: supervised (labelled digits), unsupervised (an autoencoder, no labels), semi-supervised (the karate
/// club from two labelled members) and reinforcement (CartPole, a reward instead of a label).
public enum LearningKindsLesson {
    /// - Parameters:
    ///   - autoencoderEpochs: passes of the autoencoder over `data.train`.
    ///   - reinforceTimesteps: the REINFORCE budget (it stops earlier once CartPole is solved).
    public static func run(_ log: LessonLog, data: MNIST, karateClub: Graph, autoencoderEpochs: Int = 2,
                           reinforceTimesteps: Int = 300_000, seed: UInt64 = 0) throws {
        guard autoencoderEpochs >= 1, reinforceTimesteps >= 1000 else {
            throw LessonError.invalidSetting("learning-kinds: needs at least 1 autoencoder epoch and 1000 environment steps")
        }
        log.heading("supervised: every example comes with its answer")
        log.say("The network sees 28×28 digits with their labels and is corrected on each: the loss measures how far its")
        log.say("probabilities are from the label, and gradient descent lowers it. Full size: synapse train mnist")
        var supervised = MNISTTraining.Options(architecture: .seed, epochs: 1)
        supervised.seed = seed
        let classifier = try MNISTTraining(options: supervised, progress: .off).run(on: data)
        log.say(String(format: "784-16-16-10, 1 epoch on %d images: test accuracy %.2f%% (chance: 10%%)", data.train.count,
                       100 * classifier.testMetrics.accuracy))
        log.check("supervised: well above chance", classifier.testMetrics.accuracy >= 0.5,
                  String(format: "%.2f%% ≥ 50%%", 100 * classifier.testMetrics.accuracy))

        log.heading("unsupervised: no labels, only structure")
        log.say("An autoencoder squeezes each image through 32 numbers and is trained to rebuild it: the target is the")
        log.say("input itself. What it learns (a code for digits) comes from the data alone. Full size: synapse train autoencoder")
        var unsupervised = AutoencoderTraining.Options(epochs: autoencoderEpochs)
        unsupervised.seed = seed
        let autoencoder = try AutoencoderTraining(options: unsupervised, progress: .off).run(on: data)
        // The baseline: rebuild every test image as the mean training image.
        let train = data.train.images.reshaped([data.train.count, 784])
        let mean = train.mean(axis: 0)
        let test = data.test.images.reshaped([data.test.count, 784])
        let difference = test - mean
        let baseline = Double(noGrad { (difference * difference).mean() }.item)
        log.say(String(format: "784-256-64-32 autoencoder, %d epoch%@: test reconstruction MSE %.4f; the mean image's MSE %.4f",
                       autoencoderEpochs, autoencoderEpochs == 1 ? "" : "s", autoencoder.testMSE, baseline))
        // The mean image is the best any input-blind guess can do; a code that carries the digit must beat it clearly.
        log.check("unsupervised: rebuilds digits clearly better than the mean image (MSE < 0.6×)", Double(autoencoder.testMSE) < 0.6 * baseline,
                  String(format: "%.4f < 0.6 × %.4f", autoencoder.testMSE, baseline))

        log.heading("semi-supervised: a few labels and the shape of the data")
        log.say("Zachary's karate club split in two; only the two leaders are labelled. A graph convolutional network")
        log.say("spreads what it knows along the friendships and labels the other 32. Full size: synapse train gcn")
        let degrees = karateClub.degrees
        let leaders = karateClub.classNames.indices.compactMap { c in
            karateClub.labelledNodes.filter { karateClub.labels[$0] == c }.max { degrees[$0] < degrees[$1] }
        }
        let gcn = try NodeClassificationTraining(options: NodeClassificationTraining.Options(seed: seed)).run(on: karateClub, trainNodes: leaders)
        log.say(String(format: "trained on members %@: %.1f%% of the other %d placed in the right group",
                       leaders.map { karateClub.nodeIDs[$0] }.joined(separator: " and "), 100 * gcn.accuracy, gcn.evaluationNodes.count))
        log.check("semi-supervised: two labels are enough (≥ 85% of the rest right)", gcn.accuracy >= 0.85,
                  String(format: "%.1f%%", 100 * gcn.accuracy))

        log.heading("reinforcement: no answers, only rewards")
        log.say("A cart must keep a pole upright; each step it stays up earns 1. Nobody says which push was right: the")
        log.say("agent tries, and the policy gradient makes rewarded actions likelier. Full size: synapse train rl --env cartpole")
        var random = RandomGenerator(seed: seed)
        var randomReturns: [Double] = []
        for episode in 0..<20 {
            var environment = EnvironmentKind.cartpole.make()
            _ = environment.reset(seed: 1_000_000 &+ UInt64(episode))
            var total = 0.0
            while true {
                let step = environment.step(random.nextInt(below: 2))
                total += step.reward
                if step.terminated || step.truncated { break }
            }
            randomReturns.append(total)
        }
        var reinforce = REINFORCE.Options(seed: seed)
        reinforce.totalTimesteps = reinforceTimesteps
        let agent = try REINFORCE(options: reinforce).train(on: .cartpole)
        let returns = evaluatePolicy(agent.agent, environment: .cartpole, episodes: 20)
        let (before, after) = (randomReturns.reduce(0, +) / 20, returns.reduce(0, +) / 20)
        log.say(String(format: "REINFORCE, %d environment steps (%.1f s): mean return %.1f over 20 episodes; pushing at random: %.1f",
                       agent.history.last?.timesteps ?? 0, agent.seconds, after, before))
        log.check("reinforcement: the trained policy balances far longer than random pushes", after > 4 * before,
                  String(format: "%.1f > 4 × %.1f", after, before))
    }
}
