import ArgumentParser
import Synapse

/// The model families `synapse train text --model` can build.
extension TextTraining.Architecture: ExpressibleByArgument {}
