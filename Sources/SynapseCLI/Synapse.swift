import ArgumentParser
import Synapse

@main
struct SynapseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synapse",
        abstract: "Synapse: train and inspect neural networks.",
        version: Synapse.version,
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, GenerateCommand.self, ChatCommand.self,
                      TokenizeCommand.self, InspectCommand.self,
                      FinetuneCommand.self, ExportCommand.self, EmbedCommand.self, SimilarityCommand.self, GraphCommand.self, QuantizeCommand.self,
                      AnomalyCommand.self, PlayCommand.self, LessonCommand.self, ServeCommand.self, BenchCommand.self])

    /// The process-wide set-up a command-line run wants (OpenBLAS's best kernels, quiet idle threads), then parsing.
    static func main() async {
        Runtime.configureBLAS()
        await main(nil)
    }
}

/// A failure the user can fix, printed as one line (without the usage text ArgumentParser adds to `ValidationError`).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
