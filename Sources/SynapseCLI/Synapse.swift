import ArgumentParser
import Synapse

@main
struct SynapseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapse",
        abstract: "Synapse: train and inspect neural networks.",
        version: Synapse.version,
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, BenchCommand.self, GenerateCommand.self, EmbedCommand.self, SimilarityCommand.self])
}
