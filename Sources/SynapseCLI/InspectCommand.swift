import ArgumentParser
import Foundation
import Synapse

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a GGUF file's metadata and its tensors (type, shape, bytes), with totals by type.")

    @Argument(help: "The model file (.gguf).")
    var file: String

    @Option(help: "Show at most this many items of each array value.")
    var arrayLimit: Int = 8

    func run() throws {
        let gguf = try GGUFFile(path: file)
        print("\(file): GGUF version \(gguf.version), \(gguf.keys.count) metadata entries, \(gguf.tensors.count) tensors, " +
              "alignment \(gguf.alignment), data at byte \(gguf.dataOffset) of \(gguf.byteCount)")
        print("\nmetadata")
        let width = gguf.keys.map(\.count).max() ?? 0
        for key in gguf.keys {
            let value = gguf.metadata[key]!
            print("  " + key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " +
                  value.typeName.padding(toLength: 16, withPad: " ", startingAt: 0) + value.abbreviated(limit: max(1, arrayLimit)))
        }
        print("\ntensors")
        let nameWidth = max(4, gguf.tensors.map(\.name.count).max() ?? 0)
        print("  " + "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  type   " +
              "shape".padding(toLength: 16, withPad: " ", startingAt: 0) + "       bytes")
        var byType: [GGMLType: (tensors: Int, elements: Int, bytes: Int)] = [:]
        for t in gguf.tensors {
            print("  " + t.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  " +
                  t.type.description.padding(toLength: 6, withPad: " ", startingAt: 0) + " " +
                  "\(t.shape)".padding(toLength: 16, withPad: " ", startingAt: 0) + String(t.byteCount).leftPad(12))
            let old = byType[t.type] ?? (0, 0, 0)
            byType[t.type] = (old.tensors + 1, old.elements + t.elementCount, old.bytes + t.byteCount)
        }
        print("\ntotals by type")
        var total = (elements: 0, bytes: 0)
        for (type, v) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            print("  " + type.description.padding(toLength: 6, withPad: " ", startingAt: 0) +
                  String(format: " %4d tensors %12d weights %12d bytes  %.4f bytes/weight", v.tensors, v.elements, v.bytes,
                         Double(v.bytes) / Double(max(v.elements, 1))))
            total = (total.elements + v.elements, total.bytes + v.bytes)
        }
        print(String(format: "  all    %4d tensors %12d weights %12d bytes  %.4f bytes/weight", gguf.tensors.count, total.elements,
                     total.bytes, Double(total.bytes) / Double(max(total.elements, 1))))
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
