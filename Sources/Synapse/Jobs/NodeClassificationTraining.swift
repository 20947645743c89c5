import Foundation

/// Semi-supervised node classification: train a `GCNClassifier` on the labels of a few nodes and predict the rest.
///
/// The loss is cross-entropy on the training nodes only, but every forward pass runs over the whole graph, so the
/// unlabelled nodes shape the result through the graph convolutions: a node ends up near the nodes it is connected to.
/// This is how Zachary's karate club is split with one labelled member per faction.
///
/// ```swift
/// let club = try Graph(directory: "datasets/karate-club")
/// let run = try NodeClassificationTraining(options: .init(seed: 3)).run(on: club, trainNodes: [0, 33])
/// run.accuracy              // on the 32 members whose faction was not given
/// try run.embeddingChart(graph: club, title: "Karate club").write(to: "embeddings.svg")
/// ```
public struct NodeClassificationTraining: Sendable {
    public struct Options: Sendable {
        /// Widths of the GCN layers; the last one is the embedding that gets drawn.
        public var hidden: [Int]
        public var epochs: Int
        public var learningRate: Float
        /// L2 penalty (Adam's weight decay), as in Kipf & Welling's setup.
        public var weightDecay: Float
        public var seed: UInt64

        public init(hidden: [Int] = [16, 2], epochs: Int = 200, learningRate: Float = 0.01, weightDecay: Float = 5e-4,
                    seed: UInt64 = 0) {
            self.hidden = hidden
            self.epochs = epochs
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.seed = seed
        }
    }

    /// What a run produced.
    public struct Result {
        public var model: GCNClassifier
        /// The predicted class of every node.
        public var predictions: [Int]
        /// Fraction of correct predictions on the labelled nodes that were not trained on (`nan` if there are none).
        public var accuracy: Float
        /// The nodes whose labels were used, and the labelled nodes the accuracy was measured on.
        public var trainNodes: [Int]
        public var evaluationNodes: [Int]
        /// [N, hidden.last] node embeddings after training.
        public var embeddings: Tensor
        /// Training loss per epoch.
        public var losses: [Float]
    }

    public var options: Options

    public init(options: Options = Options()) { self.options = options }

    /// Trains on the labels of `trainNodes` (which must be labelled) and evaluates on every other labelled node;
    /// stops on a non-finite loss, naming the epoch, with the parameters from before it.
    ///
    /// With `checkpoint`, the model, Adam's moments, the epoch and the losses so far are written every
    /// `checkpoint.everyEpochs` × `checkpointInterval` epochs and when SIGINT/SIGTERM stops the run after a step
    /// (`TrainingError.interrupted`), together with `carry` (the caller's own progress, such as the seeds already
    /// done). With `resume`, a checkpoint of this seed continues and the run ends as an uninterrupted one would, bit
    /// for bit; one of another seed is left alone (the caller moved on).
    public func run(on graph: Graph, trainNodes: [Int], checkpoint: Checkpointing? = nil, checkpointInterval: Int = 50,
                    carry: [String: String] = [:]) throws -> Result {
        let targets = trainNodes.map { node -> Int in
            guard let label = graph.labels[node] else {
                preconditionFailure("NodeClassificationTraining: training node \(graph.nodeIDs[node]) has no label")
            }
            return label
        }
        let classes = Swift.max(graph.classNames.count, 2)
        var rng = RandomGenerator(seed: options.seed)
        let model = GCNClassifier(inputFeatures: graph.features.shape[1], hidden: options.hidden, classes: classes,
                                  generator: &rng)
        let adjacency = graph.normalizedAdjacency()
        let optimizer = Adam(parameters: model.parameters(), learningRate: options.learningRate,
                             weightDecay: options.weightDecay)
        var losses: [Float] = []
        losses.reserveCapacity(options.epochs)
        let fingerprint = self.fingerprint(graph: graph, trainNodes: trainNodes)
        if let checkpoint, checkpoint.resume, let saved = try Self.checkpointMetadata(at: checkpoint.url),
           saved[Self.seedKey] == String(options.seed) {
            losses = try restore(from: checkpoint.url, fingerprint: fingerprint, model: model, optimizer: optimizer)
        }
        let every = checkpointInterval * (checkpoint?.everyEpochs ?? 1)
        for epoch in losses.count..<options.epochs {
            optimizer.zeroGrad()
            let logits = model(graph.features, adjacency: adjacency)
            let loss = crossEntropyLoss(logits: logits.gather(trainNodes, axis: 0), targets: targets)
            guard loss.item.isFinite else {
                throw TrainingError.nonFiniteLoss(epoch: epoch + 1, batch: 1, step: epoch, loss: loss.item)
            }
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
            try Checkpointing.endOfStep(checkpoint, step: epoch + 1, every: every,
                                        position: "epoch \(epoch + 1) of seed \(options.seed)") { url in
                try save(losses: losses, fingerprint: fingerprint, carry: carry, model: model, optimizer: optimizer, to: url)
            }
        }
        let (predictions, embeddings) = noGrad {
            (model(graph.features, adjacency: adjacency).argmaxRows(), model.embed(graph.features, adjacency: adjacency))
        }
        let trainSet = Set(trainNodes)
        let evaluation = graph.labelledNodes.filter { !trainSet.contains($0) }
        let correct = evaluation.filter { predictions[$0] == graph.labels[$0] }.count
        return Result(model: model, predictions: predictions,
                      accuracy: evaluation.isEmpty ? .nan : Float(correct) / Float(evaluation.count),
                      trainNodes: trainNodes, evaluationNodes: evaluation, embeddings: embeddings, losses: losses)
    }
}

extension NodeClassificationTraining {
    /// The checkpoint's metadata key for the seed whose training it holds.
    public static let seedKey = TrainingCheckpoint.prefix + "gcn.seed"
    static let fingerprintKey = TrainingCheckpoint.prefix + "gcn.fingerprint"

    /// The metadata of the checkpoint at `url` (its seed, and what the caller carried), or nil when there is none.
    public static func checkpointMetadata(at url: URL) throws -> [String: String]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try SafeTensorsFile(contentsOf: url).metadata
    }

    /// What must match between the run that wrote a checkpoint and the one resuming it.
    func fingerprint(graph: Graph, trainNodes: [Int]) -> String {
        let o = options
        return "nodes \(graph.nodeCount), edges \(graph.edges.count), features \(graph.features.shape[1]), hidden "
            + o.hidden.map(String.init).joined(separator: ",") + ", epochs \(o.epochs), lr \(o.learningRate.bitPattern), "
            + "weight decay \(o.weightDecay.bitPattern), training nodes " + trainNodes.map(String.init).joined(separator: ",")
    }

    func save(losses: [Float], fingerprint: String, carry: [String: String], model: GCNClassifier, optimizer: Adam,
              to url: URL) throws {
        var (tensors, metadata) = TrainingCheckpoint.modelState(model, optimizer)
        tensors["losses"] = Tensor(shape: [losses.count], scalars: losses)
        metadata.merge(carry) { own, _ in own }
        metadata[Self.seedKey] = String(options.seed)
        metadata[Self.fingerprintKey] = fingerprint
        try SafeTensorsFile(floatTensors: tensors, metadata: metadata).write(to: url)
    }

    /// Restores model and optimizer; returns the losses of the epochs done.
    func restore(from url: URL, fingerprint: String, model: GCNClassifier, optimizer: Adam) throws -> [Float] {
        let name = url.lastPathComponent
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata[Self.fingerprintKey] == fingerprint else {
            throw TrainingError.badCheckpoint(path: name, reason: "it was written for \(file.metadata[Self.fingerprintKey] ?? "another run"); this run has \(fingerprint) (resume with the same graph and settings, or start afresh without --resume)")
        }
        let all = file.floatTensors()
        guard let losses = all["losses"], losses.rank == 1, losses.count <= options.epochs else {
            throw TrainingError.badCheckpoint(path: name, reason: "its losses are missing or longer than --epochs \(options.epochs)")
        }
        try TrainingCheckpoint.restoreModelState(model, optimizer, from: file, tensors: all, name: name)
        return losses.scalars
    }
}

extension NodeClassificationTraining.Result {
    /// The 2-D embeddings as a scatter plot: one dot per node coloured by its true class, a ring around the
    /// training nodes, a cross on wrong predictions, and the graph's edges as faint lines.
    public func embeddingChart(graph: Graph, title: String) -> ScatterChart {
        precondition(embeddings.shape[1] >= 2, "embeddingChart: embeddings are \(embeddings.shape[1])-D, need 2")
        let e = embeddings.scalars
        let width = embeddings.shape[1]
        let train = Set(trainNodes)
        let points = (0..<graph.nodeCount).map { i in
            ScatterChart.Point(x: Double(e[i * width]), y: Double(e[i * width + 1]), group: graph.labels[i] ?? -1,
                               label: graph.nodeIDs[i], highlighted: train.contains(i),
                               flagged: graph.labels[i].map { $0 != predictions[i] } ?? false)
        }
        var chart = ScatterChart(title: title, xLabel: "embedding 1", yLabel: "embedding 2", points: points)
        chart.groupNames = graph.classNames
        chart.links = graph.edges.map { ($0.a, $0.b) }
        chart.note = "ring: labelled for training · ×: misclassified"
        return chart
    }
}
