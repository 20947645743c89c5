import Foundation
import Synapse

// libFuzzer's two entry points. The harness is chosen by SYNAPSE_FUZZ_TARGET; SYNAPSE_FUZZ_SEEDS=DIR writes that
// harness's seed corpus into DIR and exits (scripts/fuzz.sh does both).

nonisolated(unsafe) var selected: Harness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    let names = harnesses.map(\.name).joined(separator: ", ")
    guard let name = environment["SYNAPSE_FUZZ_TARGET"], let harness = harnesses.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("set SYNAPSE_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selected = harness
    Runtime.configureBLAS()
    if let directory = environment["SYNAPSE_FUZZ_SEEDS"] {
        do {
            let folder = URL(fileURLWithPath: directory)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for seed in try harness.seeds() {
                try Data(seed.bytes).write(to: folder.appendingPathComponent(seed.name))
            }
            try? FileManager.default.removeItem(at: Scratch.directory)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(name): cannot write seeds: \(error)\n".utf8))
            exit(1)
        }
    }
    atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected!.run(bytes)
    return 0
}

// SwiftPM links an executable target with `main` aliased to `SynapseFuzz_main`, so the harness supplies that symbol
// and hands control to libFuzzer's driver (the same one libFuzzer's own `main` calls).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("SynapseFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}
