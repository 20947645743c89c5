import Foundation

/// `synapse export`: a LoRA adapter merged into its base model, W ← W + (α/r)·B·A for every adapted matrix, each
/// merged matrix re-quantised to the base's block type (or another), written as a new GGUF file that llama.cpp and
/// every other GGUF reader load like the original. Everything else — metadata, tokenizer, norms, the matrices the
/// adapter does not touch — is copied byte for byte.
///
/// Re-quantising adds back a rounding error of the block format's size; the report compares it with the size of the
/// update, since at 4 bits a small update can be partly lost in it (Q8_0 or F16 keep it).
///
/// ```swift
/// let report = try AdapterExport.merge(base: gguf, adapter: lora, to: URL(fileURLWithPath: "merged.gguf"))
/// ```
public enum AdapterExport {
    public struct Report: Sendable {
        public var mergedTensors: Int
        public var copiedTensors: Int
        public var bytes: Int
        /// Root mean square of the merged updates (α/r)·B·A.
        public var updateRMS: Double
        /// Root mean square of what re-quantisation changed in the merged matrices.
        public var roundingRMS: Double
    }

    /// Merges `adapter` into `base` and writes the result to `url`; `type` re-quantises the merged matrices to another
    /// format (nil: each keeps its own).
    public static func merge(base: GGUFFile, adapter: LlamaLoRA, type: GGMLType? = nil, to url: URL) throws -> Report {
        let c = try LlamaConfiguration(gguf: base)
        _ = try LlamaAdapterProducts(adapter, model: c, file: base.path)    // every shape checked first
        if let type, !GGMLBlocks.writable.contains(type) {
            throw GGUFError.badMetadata(file: base.path, key: "-", reason: "\(type) cannot be written; use \(GGMLBlocks.writable.map(\.description).joined(separator: ", "))")
        }
        var merged: [String: (LoRAAdapter, Int)] = [:]
        for (l, layer) in adapter.adapters.enumerated() {
            for (kind, a) in layer { merged["blk.\(l).\(kind.ggufName).weight"] = (a, l) }
        }
        var writer = GGUFWriter()
        writer.copyMetadata(from: base)
        var report = Report(mergedTensors: 0, copiedTensors: 0, bytes: 0, updateRMS: 0, roundingRMS: 0)
        var updateSquares = 0.0, roundingSquares = 0.0, mergedElements = 0
        for info in base.tensors {
            guard let (lora, _) = merged[info.name] else {
                writer.addTensor(info.name, dimensions: info.dimensions, type: info.type, bytes: base.data(of: info), owner: base.file)
                report.copiedTensors += 1
                continue
            }
            let target = type ?? info.type
            guard GGMLBlocks.writable.contains(target) else {
                throw GGUFError.unsupportedBlockType(file: base.path, tensor: info.name, type: target)
            }
            let delta = lora.delta
            let weight = try GGMLMatrix(info, of: base).dequantized() + delta
            let requantised = GGMLMatrix(quantizing: weight, to: target)
            updateSquares += delta.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }
            let back = requantised.dequantized()
            roundingSquares += zip(back.scalars, weight.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            mergedElements += weight.count
            requantised.withBytes { bytes, owner in
                writer.addTensor(info.name, dimensions: info.dimensions, type: target, bytes: bytes, owner: owner)
            }
            report.mergedTensors += 1
        }
        try writer.write(to: url)
        report.bytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        report.updateRMS = (updateSquares / Double(max(mergedElements, 1))).squareRoot()
        report.roundingRMS = (roundingSquares / Double(max(mergedElements, 1))).squareRoot()
        return report
    }
}
