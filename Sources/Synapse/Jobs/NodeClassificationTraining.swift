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
    public func run(on graph: Graph, trainNodes: [Int]) throws(TrainingError) -> Result {
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
        for epoch in 0..<options.epochs {
            optimizer.zeroGrad()
            let logits = model(graph.features, adjacency: adjacency)
            let loss = crossEntropyLoss(logits: logits.gather(trainNodes, axis: 0), targets: targets)
            guard loss.item.isFinite else {
                throw .nonFiniteLoss(epoch: epoch + 1, batch: 1, step: epoch, loss: loss.item)
            }
            losses.append(loss.item)
            loss.backward()
            optimizer.step()
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
