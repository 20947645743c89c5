import Foundation

/// The notes' number formats: a value's FP32, FP16 and BF16 bits as sign | exponent | mantissa, what each stores by
/// (−1)^sign · 2^(exponent − bias) · 1.mantissa, each format's range and precision from the same formula, then the
/// absmax example and zero-point quantization of a small tensor, step by step.
public enum FloatFormatsLesson {
    /// A binary floating-point layout.
    public struct Format: Sendable {
        public let name: String
        public let exponentBits: Int
        public let mantissaBits: Int
        public var bias: Int { (1 << (exponentBits - 1)) - 1 }
        /// The largest finite value: the largest exponent below all-ones, every mantissa bit set.
        public var largest: Double { (2 - pow(2, -Double(mantissaBits))) * pow(2, Double((1 << exponentBits) - 2 - bias)) }
        /// The smallest normal value: exponent field 1, mantissa 0.
        public var smallestNormal: Double { pow(2, Double(1 - bias)) }
        /// The gap between 1 and the next value: one unit of the last mantissa bit.
        public var epsilon: Double { pow(2, -Double(mantissaBits)) }

        /// The value a bit pattern stands for, from the formula (normal and subnormal numbers; ±∞ and NaN named).
        public func value(ofBits bits: UInt32) -> Double {
            let sign = (bits >> UInt32(exponentBits + mantissaBits)) & 1
            let exponent = Int((bits >> UInt32(mantissaBits)) & UInt32((1 << exponentBits) - 1))
            let mantissa = Double(bits & UInt32((1 << mantissaBits) - 1))
            let magnitude: Double
            if exponent == (1 << exponentBits) - 1 {
                magnitude = mantissa == 0 ? .infinity : .nan
            } else if exponent == 0 {
                magnitude = pow(2, Double(1 - bias)) * (mantissa / pow(2, Double(mantissaBits)))     // subnormal: 0.m
            } else {
                magnitude = pow(2, Double(exponent - bias)) * (1 + mantissa / pow(2, Double(mantissaBits)))
            }
            return sign == 1 ? -magnitude : magnitude
        }

        /// "0 | 01111011 | 10011001100110011001101"
        public func fields(ofBits bits: UInt32) -> String {
            let total = 1 + exponentBits + mantissaBits
            let text = String(String(bits, radix: 2).reversed()).padding(toLength: total, withPad: "0", startingAt: 0).reversed()
            let digits = Array(text)
            return "\(digits[0]) | \(String(digits[1...exponentBits])) | \(String(digits[(exponentBits + 1)...]))"
        }
    }

    public static let fp32 = Format(name: "FP32", exponentBits: 8, mantissaBits: 23)
    public static let fp16 = Format(name: "FP16", exponentBits: 5, mantissaBits: 10)
    public static let bf16 = Format(name: "BF16", exponentBits: 8, mantissaBits: 7)

    /// The bits each format stores for `x` (round to nearest even), as Synapse converts them.
    static func bits(of x: Float, in format: Format) -> UInt32 {
        switch format.mantissaBits {
        case 23: return x.bitPattern
        case 10: return UInt32(HalfPrecision.float16Bits(from: x))
        default: return UInt32(HalfPrecision.bfloat16Bits(from: x))
        }
    }

    static func decode(_ bits: UInt32, in format: Format) -> Float {
        switch format.mantissaBits {
        case 23: return Float(bitPattern: bits)
        case 10: return HalfPrecision.float(fromFloat16Bits: UInt16(bits))
        default: return HalfPrecision.float(fromBFloat16Bits: UInt16(bits))
        }
    }

    public static func run(_ log: LessonLog, value: Float = 0.1) throws {
        guard value.isFinite else { throw LessonError.invalidSetting("float-formats: --value must be a finite number, got \(value)") }
        let formats = [fp32, fp16, bf16]
        log.heading("\(value) in three formats: (−1)^sign · 2^(exponent − bias) · 1.mantissa")
        for format in formats {
            let pattern = bits(of: value, in: format)
            let byFormula = format.value(ofBits: pattern)
            log.say("\(format.name) (1 + \(format.exponentBits) + \(format.mantissaBits) bits, bias \(format.bias)): \(format.fields(ofBits: pattern))")
            log.say("      stores \(String(format: "%.10g", byFormula)), off by \(String(format: "%.3g", abs(byFormula - Double(value))))")
            log.check("\(format.name): the formula gives the value Synapse decodes", byFormula,
                      equals: Double(decode(pattern, in: format)), tolerance: 0)
        }

        log.heading("range and precision, from the same formula")
        log.say("format  largest          smallest normal   machine epsilon")
        // Each figure is also decoded from its bit pattern by Synapse's converters, an independent route.
        let patterns: [(largest: UInt32, normal: UInt32, nextAfterOne: UInt32)] = [
            (0x7F7F_FFFF, 0x0080_0000, 0x3F80_0001), (0x7BFF, 0x0400, 0x3C01), (0x7F7F, 0x0080, 0x3F81),
        ]
        for (format, pattern) in zip(formats, patterns) {
            log.say(format.name.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + String(format: "%-17.6g%-18.6g%.6g", format.largest, format.smallestNormal, format.epsilon))
            log.check("\(format.name) largest value", format.largest, equals: Double(decode(pattern.largest, in: format)), tolerance: 0)
            log.check("\(format.name) smallest normal", format.smallestNormal, equals: Double(decode(pattern.normal, in: format)), tolerance: 0)
            log.check("\(format.name) epsilon", format.epsilon, equals: Double(decode(pattern.nextAfterOne, in: format)) - 1, tolerance: 0)
        }
        log.check("FP32's figures are Swift's Float constants",
                  fp32.largest == Double(Float.greatestFiniteMagnitude) && fp32.smallestNormal == Double(Float.leastNormalMagnitude)
                    && fp32.epsilon == Double(Float.ulpOfOne), "greatestFiniteMagnitude, leastNormalMagnitude, ulpOfOne")
        log.say("BF16 keeps FP32's 8 exponent bits (the same range, 3.4e38) and gives up mantissa (epsilon 1/128);")
        log.say("FP16 has more mantissa but overflows past 65504, which is why training in it needs loss scaling.")
        log.check("FP16 overflows where BF16 does not", decode(bits(of: 70_000, in: fp16), in: fp16).isInfinite
                    && decode(bits(of: 70_000, in: bf16), in: bf16).isFinite,
                  "70000 → FP16 \(decode(bits(of: 70_000, in: fp16), in: fp16)), BF16 \(decode(bits(of: 70_000, in: bf16), in: bf16))")

        log.heading("absmax quantization: the notes' example")
        let absmax: Float = 3.2, weight: Float = 0.1
        let multiplier = 127 / absmax
        let code = (weight * multiplier).rounded()
        let restored = code * absmax / 127
        log.say("multiplier 127 / absmax = 127 / 3.2 = \(LessonLog.format(Double(multiplier)))")
        log.say("0.1 · 39.6875 = \(LessonLog.format(Double(weight * multiplier))) → round → \(Int(code))")
        log.say("back: 4 · 3.2 / 127 = 12.8 / 127 = \(String(format: "%.4f", restored)), an error of \(String(format: "%.4f", restored - weight))")
        log.say("the notes print 1.008 and 0.008: the decimal point slipped — 4 · 3.2 = 12.8, and 12.8/127 is 0.1008.")
        log.check("round(0.1 · 127/3.2) = 4", Double(code), equals: 4, tolerance: 0)
        log.check("4 · 3.2/127 = 0.1008", Double(restored), equals: 0.1008, tolerance: 5e-5)
        let quantized = QuantizedTensor(Tensor([3.2, 0.1, -1.7, 0.0]), scheme: .absmax, granularity: .perTensor)
        log.check("Synapse's absmax quantizer gives 0.1 the code 4", Double(quantized.values[1]), equals: 4, tolerance: 0)
        log.check("and dequantizes it to 0.1008", Double(quantized.dequantized().scalars[1]), equals: Double(restored), tolerance: 1e-7)
        log.say("the error is at most half a step, 3.2/127/2 = \(String(format: "%.4f", absmax / 254)).")

        log.heading("zero-point quantization of a small tensor, step by step")
        let x: [Float] = [-1.2, 0.0, 0.45, 2.3, 3.1]
        let low = min(x.min()!, 0), high = max(x.max()!, 0)
        let scale = (high - low) / 255
        let zeroPoint = Int32((-128 - low / scale).rounded())
        log.say("x = \(x); min \(low), max \(high)")
        log.say("scale = (max − min) / 255 = \(String(format: "%.6f", scale)); zero point = round(−128 − min/scale) = \(zeroPoint)")
        let codes = x.map { Int32(($0 / scale).rounded()) + zeroPoint }
        let back = codes.map { Float($0 - zeroPoint) * scale }
        log.say("q = round(x / scale) + zero point = \(codes)")
        log.say("x̂ = (q − zero point) · scale = [\(back.map { String(format: "%.4f", $0) }.joined(separator: ", "))]")
        let library = QuantizedTensor(Tensor(x), scheme: .zeroPoint, granularity: .perTensor)
        log.check("Synapse's zero-point quantizer: the same scale", Double(library.scales[0]), equals: Double(scale), tolerance: 1e-9)
        log.check("the same zero point", Double(library.zeroPoints[0]), equals: Double(zeroPoint), tolerance: 0)
        log.check("the same codes", library.values.map(Int32.init) == codes, "\(library.values)")
        log.check("0 comes back exactly", Double(back[1]), equals: 0, tolerance: 0)
        let worst = zip(x, back).map { abs(Double($0 - $1)) }.max()!
        log.check("every error within half a step", worst <= Double(scale) / 2 + 1e-7,
                  "largest \(String(format: "%.5f", worst)) ≤ \(String(format: "%.5f", scale / 2))")

        // A picture of the three layouts for the value.
        let chart = bitLayoutSVG(value: value, formats: formats)
        try log.picture("bit-layouts.svg") { try AtomicFile.write(text: chart, to: URL(fileURLWithPath: $0)) }
    }

    /// Three rows of coloured bit boxes: sign (red), exponent (green), mantissa (blue).
    static func bitLayoutSVG(value: Float, formats: [Format]) -> String {
        let bitWidth = 18.0, left = 70.0, rowHeight = 64.0
        let width = left + 32 * bitWidth + 30, height = 60 + Double(formats.count) * rowHeight
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"\(SVGText.fontFamily)\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">\(value) as FP32, FP16 and BF16: sign | exponent | mantissa</text>\n"
        for (row, format) in formats.enumerated() {
            let pattern = bits(of: value, in: format)
            let total = 1 + format.exponentBits + format.mantissaBits
            let y = 50 + Double(row) * rowHeight
            out += "<text x=\"10\" y=\"\(Int(y + 13))\" font-size=\"13\">\(format.name)</text>\n"
            for i in 0..<total {
                let bit = (pattern >> UInt32(total - 1 - i)) & 1
                let color = i == 0 ? "#f4b6b6" : i <= format.exponentBits ? "#b9e3b9" : "#b8cdf0"
                out += "<rect x=\"\(Int(left + Double(i) * bitWidth))\" y=\"\(Int(y))\" width=\"\(Int(bitWidth - 1))\" height=\"\(Int(bitWidth))\" fill=\"\(color)\" stroke=\"#555\"/>\n"
                out += "<text x=\"\(Int(left + Double(i) * bitWidth + bitWidth / 2 - 0.5))\" y=\"\(Int(y + 13))\" text-anchor=\"middle\" font-size=\"11\">\(bit)</text>\n"
            }
            out += "<text x=\"\(Int(left))\" y=\"\(Int(y + bitWidth + 16))\" font-size=\"11\" fill=\"#444\">= \(SVGText.escape(String(format: "%.10g", format.value(ofBits: pattern))))   (bias \(format.bias), epsilon \(SVGText.escape(String(format: "%.3g", format.epsilon))))</text>\n"
        }
        return out + "</svg>\n"
    }
}
