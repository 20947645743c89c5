import Foundation

/// cos θ and sin θ for every (position, pair), computed once per call in Double.
struct RotaryTable {
    let headDim: Int
    let cosines: [Float]
    let sines: [Float]

    init<Positions: Collection<Int>>(headDim: Int, positions: Positions, base: Float) {
        self.headDim = headDim
        let half = headDim / 2
        var cosines = [Float](repeating: 0, count: positions.count * half), sines = cosines
        for (t, p) in positions.enumerated() {
            for i in 0..<half {
                let theta = Double(p) * Foundation.pow(Double(base), -2 * Double(i) / Double(headDim))
                cosines[t * half + i] = Float(Foundation.cos(theta))
                sines[t * half + i] = Float(Foundation.sin(theta))
            }
        }
        (self.cosines, self.sines) = (cosines, sines)
    }

    /// Rows are tokens (`rows` = batch · tokens); `inverse` rotates by −θ.
    func rotate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, width: Int, tokens: Int, inverse: Bool) {
        let half = headDim / 2
        cosines.withUnsafeBufferPointer { cosines in
            sines.withUnsafeBufferPointer { sines in
                for row in 0..<rows {
                    let t = row % tokens
                    let (c, s) = (cosines.baseAddress! + t * half, sines.baseAddress! + t * half)
                    let (xr, yr) = (x + row * width, y + row * width)
                    var head = 0
                    while head < width {
                        for i in 0..<half {
                            let (a, b) = (xr[head + 2 * i], xr[head + 2 * i + 1])
                            let sin = inverse ? -s[i] : s[i]
                            yr[head + 2 * i] = a * c[i] - b * sin
                            yr[head + 2 * i + 1] = a * sin + b * c[i]
                        }
                        head += headDim
                    }
                }
            }
        }
    }
}
