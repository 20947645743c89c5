import ArgumentParser
import Foundation
import Synapse
import SynapseBenchmarks

/// Where the text commands look for tiny Shakespeare when no --data is given: ../shared/data/... from the current
/// directory (the package root when run with `swift run`), then from the package root above the executable
/// (.build/<config>/synapse).
func defaultTextFile() -> URL {
    let fromCurrent = TextBenchmark.defaultTextFile()
    if FileManager.default.fileExists(atPath: fromCurrent.path) { return fromCurrent }
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let root = executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return TextBenchmark.defaultTextFile(packageRoot: root)
}

extension RecurrentLanguageModel.Kind: ExpressibleByArgument {}
extension TextBenchmark.Workload: ExpressibleByArgument {}

/// Writes text to standard output at once (generation streams one character at a time), through the same buffer
/// as `print` so the order is kept.
func writeUnbuffered(_ text: String) {
    print(text, terminator: "")
    fflush(nil)  // all C streams: `stdout` itself is not concurrency-safe to name in Swift 6
}
