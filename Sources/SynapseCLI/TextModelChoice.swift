import ArgumentParser
import Synapse

/// The model families `synapse train text --model` can build.
enum TextModelChoice: String, CaseIterable, ExpressibleByArgument {
    case lstm, gru, rnn, gpt

    var recurrentKind: RecurrentLanguageModel.Kind? { RecurrentLanguageModel.Kind(rawValue: rawValue) }
}
