import ArgumentParser
import Foundation
import Synapse

/// `--precision` for the commands that train or run tensor models: the precision of their matrix products.
struct PrecisionOptions: ParsableArguments {
    enum Choice: String, ExpressibleByArgument, CaseIterable {
        case float32, bf16
    }

    @Option(help: "Matrix products: float32, or bf16 mixed precision as torch.autocast runs it (bfloat16 operands, Float32 sums; weights, optimizer, norms, softmax and losses stay Float32). bf16 needs AVX512_BF16 (Zen 4, Cooper Lake, Sapphire Rapids); elsewhere the products stay Float32.")
    var precision: Choice = .float32

    /// Sets `Runtime.matmulPrecision`; says so on standard error when bf16 cannot be accelerated here.
    func apply() {
        Runtime.matmulPrecision = precision == .bf16 ? .bfloat16 : .float32
        if precision == .bf16 && !Runtime.bfloat16IsAccelerated {
            FileHandle.standardError.write(Data("note: this CPU has no AVX512_BF16 (or SYNAPSE_KERNELS=portable): --precision bf16 runs Float32 products\n".utf8))
        }
    }
}
