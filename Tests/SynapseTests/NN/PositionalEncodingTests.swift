import Foundation
import Testing
@testable import Synapse

@Suite("SinusoidalPositionalEncoding", .synapseRuntime)
struct PositionalEncodingTests {
    @Test("sin on even features, cos on odd ones, wavelengths growing with the feature index")
    func values() {
        let table = SinusoidalPositionalEncoding.table(length: 6, dimension: 8)
        #expect(table.shape == [6, 8])
        for i in 0..<4 {
            #expect(table[0, 2 * i] == 0 && table[0, 2 * i + 1] == 1)
        }
        for p in 0..<6 {
            for i in 0..<4 {
                let angle = Double(p) / pow(10_000, Double(2 * i) / 8)
                #expect(abs(table[p, 2 * i] - Float(sin(angle))) < 1e-6)
                #expect(abs(table[p, 2 * i + 1] - Float(cos(angle))) < 1e-6)
            }
        }
        // An offset continues the same table (positions of tokens appended later).
        let tail = SinusoidalPositionalEncoding.table(length: 2, dimension: 8, offset: 4)
        #expect(tail.scalars == Array(table.scalars[32...]))
    }
}
