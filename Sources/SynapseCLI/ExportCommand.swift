import ArgumentParser
import Foundation
import Synapse

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Merge a LoRA adapter into its GGUF base model and write a new GGUF file (for llama.cpp and the rest).",
        discussion: """
            Each adapted matrix becomes W + (α/r)·B·A and is re-quantised to its own block type (or --type); \
            every other tensor and all metadata are copied unchanged. The file is written atomically.
            """)

    @Option(help: "The base model (.gguf) the adapter was trained on.") var model: String
    @Option(help: "The adapter: a PEFT folder from `synapse finetune`, or its adapter_model.safetensors.") var adapter: String
    @Option(help: "The merged model to write (.gguf).") var out: String
    @Option(help: "Format of the merged matrices: same (each keeps its own), q4_0, q4_1, q8_0, f16, bf16 or f32.")
    var type: String = "same"

    func validate() throws {
        if type != "same" && Self.parseType(type) == nil {
            throw ValidationError("--type must be same, q4_0, q4_1, q8_0, f16, bf16 or f32, got \(type.debugDescription)")
        }
    }

    static func parseType(_ text: String) -> GGMLType? {
        GGMLBlocks.writable.first { $0.description.lowercased() == text.lowercased() }
    }

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        try AtomicFile.checkWritable(file: outURL)
        let start = Date()
        let gguf = try GGUFFile(path: model)
        let lora = try LoRAAdapterFile.load(URL(fileURLWithPath: adapter), model: try LlamaConfiguration(gguf: gguf))
        let report = try AdapterExport.merge(base: gguf, adapter: lora, type: type == "same" ? nil : Self.parseType(type), to: outURL)
        print(String(format: "merged %d matrices (update RMS %.2e, re-quantisation error RMS %.2e), copied %d tensors; wrote %@ (%.1f MB) in %.1f s",
                     report.mergedTensors, report.updateRMS, report.roundingRMS, report.copiedTensors, relative(out),
                     Double(report.bytes) / 1e6, Date().timeIntervalSince(start)))
        if report.roundingRMS > report.updateRMS {
            print("note: the re-quantisation error is larger than the update; --type q8_0 or f16 keeps more of it")
        }
    }
}
