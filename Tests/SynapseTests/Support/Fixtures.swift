import Foundation
import Testing
@testable import Synapse

/// Reads the reference files in Tests/SynapseTests/Fixtures (made by the scripts in scripts/).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// A `{"shape": [...], "data": [...]}` object as a tensor.
    static func tensor(_ object: Any) -> Tensor {
        let dict = object as! [String: Any]
        let shape = (dict["shape"] as! [NSNumber]).map(\.intValue)
        let data = (dict["data"] as! [NSNumber]).map(\.floatValue)
        return Tensor(shape: shape, scalars: data)
    }
}

/// |a − e| ≤ atol + rtol·|e| elementwise, with a message naming the worst element.
func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6, _ label: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs expected \(expected.shape)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let a = actual.scalars, e = expected.scalars
    var worst = 0, worstExcess: Float = 0
    for i in 0..<a.count {
        let excess = abs(a[i] - e[i]) - (atol + rtol * abs(e[i]))
        if excess > worstExcess || (a[i].isNaN != e[i].isNaN) { worst = i; worstExcess = max(excess, .infinity * (a[i].isNaN != e[i].isNaN ? 1 : 0)) }
    }
    #expect(worstExcess <= 0, "\(label): element \(worst) is \(a[worst]), expected \(e[worst])", sourceLocation: sourceLocation)
}
