import Foundation

/// A readable, PyTorch-like rendering: nested brackets, aligned numbers, large dimensions elided with "...".
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        var text = "tensor(" + Self.render(self, edgeItems: count > 1000 ? 3 : Int.max)
        if rank != 1 || count > 6 { text += ", shape: \(shape)" }
        if let node {
            text += node.isLeaf ? ", requiresGrad: true" : ", gradFn: \(node.op)"
        }
        return text + ")"
    }

    public var debugDescription: String { description }

    private static func format(_ v: Float, decimals: Int) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        return String(format: "%.\(decimals)f", Double(v))
    }

    private static func render(_ t: Tensor, edgeItems: Int) -> String {
        let values = t.scalars
        let finite = values.filter(\.isFinite)
        let allIntegral = finite.allSatisfy { $0 == $0.rounded() && Swift.abs($0) < 1e7 }
        let largest = finite.map { Swift.abs($0) }.max() ?? 0
        let useScientific = largest >= 1e6 || (largest > 0 && largest < 1e-4)
        let decimals = allIntegral ? 0 : 4
        func cell(_ v: Float) -> String {
            if useScientific && v.isFinite && v != 0 { return String(format: "%.4e", Double(v)) }
            let s = format(v, decimals: decimals)
            return allIntegral && v.isFinite ? s + "." : s
        }
        let width = values.map { cell($0).count }.max() ?? 1
        func pad(_ s: String) -> String { String(repeating: " ", count: Swift.max(0, width - s.count)) + s }
        if t.rank == 0 { return cell(values.first ?? 0) }
        let strides = t.strides
        func block(_ axis: Int, _ offset: Int, indent: Int) -> String {
            let n = t.shape[axis]
            var indices = Array(0..<n)
            var elided = false
            if edgeItems < n && n - edgeItems > edgeItems { indices = Array(0..<edgeItems) + Array((n - edgeItems)..<n); elided = true }
            var parts: [String] = []
            for (j, i) in indices.enumerated() {
                if elided && j == edgeItems { parts.append("...") }
                if axis == t.rank - 1 {
                    parts.append(pad(cell(values[offset + i])))
                } else {
                    parts.append(block(axis + 1, offset + i * strides[axis], indent: indent + 1))
                }
            }
            if axis == t.rank - 1 { return "[" + parts.joined(separator: ", ") + "]" }
            let separator = "," + String(repeating: "\n", count: t.rank - 1 - axis) + String(repeating: " ", count: 7 + indent + 1)
            return "[" + parts.joined(separator: separator) + "]"
        }
        return block(0, 0, indent: 0)
    }
}
