import Foundation
import Testing
@testable import Synapse

/// Fixtures/int8_quantization.json (scripts/make_quant_fixtures.py): scales and zero points from PyTorch's observers
/// and codes from `torch.quantize_per_tensor` / `quantize_per_channel`, including exact ties.
@Suite(.synapseRuntime) struct Int8PyTorchParityTests {
    @Test func scalesZeroPointsAndCodesMatchPyTorch() throws {
        let root = try Fixtures.json("int8_quantization.json")
        let cases = try #require(root["cases"] as? [[String: Any]])
        #expect(cases.count == 9)
        for c in cases {
            let name = c["name"] as! String
            let shape = (c["shape"] as! [NSNumber]).map(\.intValue)
            let x = Tensor(shape: shape, scalars: (c["x"] as! [NSNumber]).map(\.floatValue))
            let scheme = try #require(Int8Scheme(rawValue: c["scheme"] as! String))
            let granularity = try #require(QuantizationGranularity(rawValue: c["granularity"] as! String))
            let expectedScales = (c["scales"] as! [NSNumber]).map(\.floatValue)
            let expectedZeroPoints = (c["zero_points"] as! [NSNumber]).map { Int32($0.intValue) }
            let expectedCodes = (c["codes"] as! [NSNumber]).map { Int8($0.intValue) }

            let q = QuantizedTensor(x, scheme: scheme, granularity: granularity)
            #expect(q.zeroPoints == expectedZeroPoints, "\(name): zero points")
            for (a, b) in zip(q.scales, expectedScales) {
                #expect(abs(a - b) <= b.ulp, "\(name): scale \(a) vs PyTorch \(b)")
            }
            // With PyTorch's own scales, every code is identical (ties to even included).
            let same = QuantizedTensor(x, scales: expectedScales, zeroPoints: expectedZeroPoints, scheme: scheme)
            let mismatches = zip(same.values, expectedCodes).filter { $0 != $1 }.count
            #expect(mismatches == 0, "\(name): \(mismatches) codes differ from PyTorch")
        }
    }
}
