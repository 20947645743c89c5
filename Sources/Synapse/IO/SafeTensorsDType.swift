/// The element types Synapse reads and writes in safetensors files, named as in the file header.
///
/// Floating types convert to and from `Float` tensors; integer types hold raw data such as quantized weights.
///
/// ```swift
/// let entry = SafeTensorsFile.Entry(weights, dtype: .bf16)   // store a Float tensor as BFloat16
/// SafeTensorsDType(rawValue: "F16")?.byteCount                // 2
/// ```
public enum SafeTensorsDType: String, CaseIterable, Sendable, CustomStringConvertible {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i8 = "I8"
    case u8 = "U8"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i8, .u8: 1
        }
    }

    /// Whether a `Float` tensor can be stored in this type (rather than raw integer values).
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: true
        case .i64, .i32, .i8, .u8: false
        }
    }

    public var description: String { rawValue }

    /// The position of this type in the Rust `safetensors` `Dtype` enum. Its writer lays tensors out by descending
    /// rank, then by name, so that wide types come first and every tensor starts aligned to its element size; the
    /// writer here does the same and produces byte-identical files.
    var writerRank: Int {
        switch self {
        case .u8: 0
        case .i8: 1
        case .f16: 2
        case .bf16: 3
        case .i32: 4
        case .f32: 5
        case .f64: 6
        case .i64: 7
        }
    }

    /// Every dtype name the safetensors format defines, to tell "not supported here" from "not a dtype at all".
    static let formatNames: Set<String> = [
        "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16",
        "I32", "U32", "F32", "C64", "F64", "I64", "U64",
    ]
}
