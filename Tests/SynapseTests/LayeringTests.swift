import Foundation
import Testing

/// The layering rules DEVELOPERS.md states, checked on the source tree: only `Kernels/` reaches C (BLAS and
/// CSynapseKernels) and the fused-loop helpers; the library never sets environment variables except in
/// `Runtime/`'s explicit set-up calls.
@Suite(.synapseRuntime) struct LayeringTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Synapse")

    /// (path relative to Sources/Synapse, text) of every Swift file of the library.
    static func files() throws -> [(path: String, text: String)] {
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        var result: [(String, String)] = []
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let path = String(url.path.dropFirst(sources.path.count + 1))
            result.append((path, try String(contentsOf: url, encoding: .utf8)))
        }
        return result
    }

    @Test func onlyKernelsReachCAndBLAS() throws {
        let files = try Self.files()
        try #require(files.count > 100, "found \(files.count) files under \(Self.sources.path)")
        let forbidden = ["import CBLAS", "import CSynapseKernels", "import Accelerate", "cblas_", "synapse_", "FusedLoop."]
        for (path, text) in files where !path.hasPrefix("Kernels/") {
            for needle in forbidden {
                #expect(!text.contains(needle), "\(path) uses \(needle): move the call behind Kernels/")
            }
        }
    }

    @Test func onlyTheRuntimeSetsTheEnvironment() throws {
        for (path, text) in try Self.files() where path != "Runtime/Runtime.swift" {
            #expect(!text.contains("setenv("), "\(path) calls setenv: process-wide set-up belongs in Runtime/Runtime.swift")
            #expect(!text.contains("getenv("), "\(path) reads the environment: every switch is read in Runtime/Runtime.swift")
        }
    }

    /// Every suite and free test runs after the bootstrap (`SynapseRuntime`), so none races its thread-pool restart.
    @Test func everySuiteCarriesTheBootstrap() throws {
        let tests = Self.sources.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests")
        let enumerator = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)!
        var checked = 0
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            for (n, line) in lines.enumerated() {
                let attribute = line.hasPrefix("@Suite") || line.hasPrefix("@Test")
                    || line.trimmingCharacters(in: .whitespaces).hasPrefix("@Suite")
                if attribute {
                    checked += 1
                    #expect(line.contains(".synapseRuntime"), "\(url.lastPathComponent):\(n + 1) lacks .synapseRuntime")
                }
                if line.hasPrefix("struct ") || line.hasPrefix("final class ") || line.hasPrefix("enum ") {
                    let previous = lines[..<n].last { !$0.hasPrefix("///") } ?? ""
                    let body = lines[(n + 1)...].prefix { !$0.hasPrefix("}") }
                    if body.contains(where: { $0.contains("@Test") }) {
                        #expect(previous.contains("@Suite"), "\(url.lastPathComponent):\(n + 1) holds tests without @Suite(.synapseRuntime)")
                    }
                }
            }
        }
        #expect(checked > 80)
    }
}
