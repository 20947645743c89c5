import Foundation

/// A Keras-style overview of a model: one row per layer with its output shape and parameter count.
extension Module {
    /// Runs one forward pass on zeros of `inputShape` (batch dimension included) and tabulates the layers.
    ///
    /// Layers inside a `Sequential` get their own output shapes. The children of a custom module are listed below it
    /// (indented) with their parameter counts; their output shapes are not observable from outside, so they show "-".
    /// The pass runs without gradient recording and in evaluation mode (modes are restored afterwards), so it neither
    /// consumes dropout randomness nor moves BatchNorm's running statistics.
    ///
    /// ```swift
    /// print(Sequential(Linear(784, 16), ReLU(), Linear(16, 10)).summary(inputShape: [1, 784]))
    /// // Layer (type)      Output Shape    Param #
    /// // 0 (Linear)        [1, 16]          12,560
    /// // …
    /// // Total params: 12,730
    /// ```
    public func summary(inputShape: [Int]) -> String {
        let modes = namedModules().map { ($0.module, $0.module.isTraining) }
        eval()
        defer { for (module, mode) in modes { module.train(mode) } }
        var rows: [(layer: String, shape: String, parameters: String)] = []

        func describe(_ module: Module, name: String, input: Tensor?, depth: Int) -> Tensor? {
            let indent = String(repeating: "  ", count: depth)
            let label = indent + (name.isEmpty ? "" : name + " ") + "(\(type(of: module)))"
            if let sequential = module as? Sequential {
                let rowIndex = rows.count
                rows.append((label, input == nil ? "-" : "", ""))
                var x = input
                for (childName, child) in sequential.namedChildren() {
                    x = describe(child, name: childName, input: x, depth: depth + 1)
                }
                if let x { rows[rowIndex].shape = "\(x.shape)" }
                return x
            }
            let output = input.map { module($0) }
            rows.append((label, output.map { "\($0.shape)" } ?? "-", Self.grouped(module.parameterCount)))
            for (childName, child) in module.namedChildren() {
                _ = describe(child, name: childName, input: nil, depth: depth + 1)
            }
            return output
        }

        _ = noGrad { describe(self, name: "", input: Tensor.zeros(inputShape), depth: 0) }

        let header = ("Layer (type)", "Output Shape", "Param #")
        let widths = (max(header.0.count, rows.map(\.layer.count).max() ?? 0) + 2,
                      max(header.1.count, rows.map(\.shape.count).max() ?? 0) + 2,
                      max(header.2.count, rows.map(\.parameters.count).max() ?? 0))
        func line(_ a: String, _ b: String, _ c: String) -> String {
            a.padding(toLength: widths.0, withPad: " ", startingAt: 0) + b.padding(toLength: widths.1, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: widths.2 - c.count) + c
        }
        let rule = String(repeating: "=", count: widths.0 + widths.1 + widths.2)
        let bufferCount = buffers().reduce(0) { $0 + $1.count }
        var lines = [line(header.0, header.1, header.2), rule]
        lines += rows.map { line($0.layer, $0.shape, $0.parameters) }
        lines += [rule,
                  "Total params: \(Self.grouped(parameterCount))",
                  "Non-trainable (buffer) values: \(Self.grouped(bufferCount))"]
        return lines.joined(separator: "\n")
    }

    /// 13002 → "13,002".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }
}
