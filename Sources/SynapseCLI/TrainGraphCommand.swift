import ArgumentParser
import Foundation
import Synapse

struct TrainGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gcn",
        abstract: "Semi-supervised node classification with a graph convolutional network (default: Zachary's karate club).",
        discussion: """
            Trains on the labels of a few nodes only (--train-nodes; default: the best-connected node of each class) \
            and reports the accuracy on every other labelled node, for each of --seeds seeds. Writes to --out: \
            embeddings.svg (the 2-D node embeddings of the first seed's model, edges drawn faintly), loss.svg and \
            results.csv (one line per seed). The graph is read from DIR/nodes.csv and DIR/edges.csv \
            (see docs/graphs-and-autoencoders.md for the format).
            """)

    @Option(help: "Directory with nodes.csv and edges.csv (default: datasets/karate-club).")
    var graph: String?

    @Option(help: "Comma-separated ids of the nodes whose labels are used for training.")
    var trainNodes: String?

    @Option(help: "Comma-separated GCN layer widths; the last is the embedding (2 to draw it).")
    var hidden: String = "16,2"

    @Option(help: "Full-graph training steps.") var epochs: Int = 200
    @Option(help: "Adam learning rate.") var lr: Float = 0.01
    @Option(help: "Number of seeds to train (0, 1, …).") var seeds: Int = 10
    @Option(help: "Directory for the report.") var out: String = "runs/karate"

    @Option(help: "Write --out/checkpoint.safetensors after every N epochs (and when stopped by Ctrl-C or SIGTERM).")
    var checkpointEvery: Int = 50

    @Flag(help: "Continue the run whose checkpoint is in --out (same settings), ending as if it had never stopped.")
    var resume = false

    func validate() throws {
        try OptionLimits.check("--epochs", epochs, limit: OptionLimits.epochs)
        try OptionLimits.check("--seeds", seeds, limit: 10_000)
        _ = try parseSizes(hidden)
        try OptionLimits.check("--checkpoint-every", checkpointEvery, limit: OptionLimits.epochs)
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
    }

    func run() throws {
        try AtomicFile.checkWritable(directory: URL(fileURLWithPath: out))
        let directory = try graph ?? defaultGraphDirectory()
        let club = try Graph(directory: directory)
        guard club.classNames.count >= 2 else {
            throw ValidationError("\(directory)/nodes.csv: needs a 'label' column with at least two classes")
        }
        let widths = try parseSizes(hidden)
        let train = try trainingNodes(club)
        print("graph: \(club.nodeCount) nodes, \(club.edges.count) edges, \(club.features.shape[1]) features\(club.features.shape[1] == club.nodeCount && club.featureNames.isEmpty ? " (one-hot)" : ""), classes \(club.classNames.joined(separator: " / "))")
        if club.duplicateEdgeCount > 0 { print("note: merged \(club.duplicateEdgeCount) duplicate edge rows") }
        print("training on: " + train.map { "\(club.nodeIDs[$0]) (\(club.classNames[club.labels[$0]!]))" }.joined(separator: ", "))

        let outURL = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        let policy = try CheckpointOptions.checkpointing(in: out, every: checkpointEvery, resume: resume)
        // The seeds already done travel in the checkpoint as their results.csv rows.
        let rowsKey = "synapse.gcn.results"
        var rows: [String] = [], firstSeed = 0
        if resume, let saved = try NodeClassificationTraining.checkpointMetadata(at: policy.url) {
            rows = (saved[rowsKey] ?? "").split(separator: "\n").map(String.init)
            guard let seed = saved[NodeClassificationTraining.seedKey].flatMap(Int.init), seed == rows.count, seed < seeds else {
                throw CLIError("--resume: \(policy.url.path) is not a checkpoint of this run (\(seeds) seeds); start afresh without --resume")
            }
            firstSeed = seed
            print("resuming at seed \(seed)" + (seed > 0 ? " (seeds 0–\(seed - 1) done)" : ""))
        }
        var written = ["results.csv"]
        for seed in firstSeed..<seeds {
            let options = NodeClassificationTraining.Options(hidden: widths, epochs: epochs, learningRate: lr, seed: UInt64(seed))
            let result = try exitingOnInterrupt {
                try NodeClassificationTraining(options: options).run(on: club, trainNodes: train, checkpoint: policy,
                                                                     checkpointInterval: 1,
                                                                     carry: [rowsKey: rows.joined(separator: "\n")])
            }
            let wrong = result.evaluationNodes.filter { result.predictions[$0] != club.labels[$0] }.map { club.nodeIDs[$0] }
            let correct = result.evaluationNodes.count - wrong.count
            if result.evaluationNodes.isEmpty {
                // Every labelled node trained: nothing is held out, which is a normal set-up, not an error.
                print(String(format: "seed %2d: no labelled node left out of training to evaluate on", seed))
            } else {
                print(String(format: "seed %2d: accuracy %.1f%% (%d/%d)", seed, 100 * result.accuracy, correct, result.evaluationNodes.count)
                      + (wrong.isEmpty ? "" : ", wrong: \(wrong.joined(separator: " "))"))
            }
            rows.append("\(seed),\(result.accuracy),\(correct),\(result.evaluationNodes.count),\(result.losses.last ?? .nan)")
            if seed == 0 { written += try drawFirstSeed(result, club: club, widths: widths, in: outURL) }
        }
        let accuracies = rows.compactMap { row in row.split(separator: ",").dropFirst().first.flatMap { Float(String($0)) } }
        let measured = accuracies.filter { !$0.isNaN }
        if !measured.isEmpty {
            let mean = measured.reduce(0, +) / Float(measured.count)
            let std = (measured.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(measured.count)).squareRoot()
            print(String(format: "accuracy over %d seeds: mean %.1f%%, std %.1f%%, min %.1f%%, max %.1f%%", measured.count,
                         100 * mean, 100 * std, 100 * measured.min()!, 100 * measured.max()!))
        }

        let csv = (["seed,accuracy,correct,evaluated,final_loss"] + rows).joined(separator: "\n") + "\n"
        try AtomicFile.write(text: csv, to: outURL.appendingPathComponent("results.csv"))
        print("wrote " + written.map { relative(outURL.appendingPathComponent($0).path) }.joined(separator: ", "))
    }

    /// The first seed's loss curve and, for a 2-D embedding, its picture: written as soon as that seed is done, so a
    /// resumed run that starts past it does not need its model.
    func drawFirstSeed(_ first: NodeClassificationTraining.Result, club: Graph, widths: [Int], in outURL: URL) throws -> [String] {
        try LineChart(title: "GCN training loss (seed 0)", panels: [
            .init(title: "cross-entropy on the training nodes", xLabel: "epoch", yLabel: "loss",
                  series: [.init(name: "train", y: first.losses.map(Double.init))]),
        ]).write(to: outURL.appendingPathComponent("loss.svg").path)
        guard widths.last! >= 2 else { return ["loss.svg"] }
        let accuracy = first.accuracy.isNaN ? "no node held out" : String(format: "accuracy %.1f%%", 100 * first.accuracy)
        try first.embeddingChart(graph: club, title: "GCN node embeddings, seed 0 (\(accuracy))")
            .write(to: outURL.appendingPathComponent("embeddings.svg").path)
        return ["loss.svg", "embeddings.svg"]
    }

    /// The nodes given with --train-nodes, or the highest-degree node of each class (the two leaders in the karate club).
    func trainingNodes(_ graph: Graph) throws -> [Int] {
        if let trainNodes {
            return try trainNodes.split(separator: ",").map { raw in
                let id = raw.trimmingCharacters(in: .whitespaces)
                guard let index = graph.nodeIDs.firstIndex(of: id) else {
                    throw ValidationError("--train-nodes: no node '\(id)' in the graph")
                }
                guard graph.labels[index] != nil else { throw ValidationError("--train-nodes: node '\(id)' has no label") }
                return index
            }
        }
        let degrees = graph.degrees
        return graph.classNames.indices.compactMap { c in
            graph.labelledNodes.filter { graph.labels[$0] == c }.max { degrees[$0] < degrees[$1] }
        }
    }
}

/// datasets/karate-club, looked for from the working directory upwards.
func defaultGraphDirectory() throws -> String {
    var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for _ in 0..<6 {
        let candidate = directory.appendingPathComponent("datasets/karate-club")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("nodes.csv").path) { return candidate.path }
        directory.deleteLastPathComponent()
    }
    throw ValidationError("datasets/karate-club not found from here; pass --graph DIR (regenerate it with scripts/make_karate_club.py)")
}
