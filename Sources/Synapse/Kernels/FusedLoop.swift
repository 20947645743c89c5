/// The vector loop every optimizer update runs: 16 floats at a time, the remainder as one zero-padded vector, so each
/// formula is written once and compiles to packed SSE/AVX arithmetic (including `sqrtps`) at the default target.
/// Zero padding is harmless: the padded lanes are computed and never stored.
enum FusedLoop {
    typealias Vector = SIMD16<Float>

    /// Calls `body(start, lanes)` for consecutive blocks of at most 16 elements covering `range`.
    @inline(__always)
    static func blocks(_ range: Range<Int>, _ body: (Int, Int) -> Void) {
        var i = range.lowerBound
        let end = range.upperBound
        while i + 16 <= end {
            body(i, 16)
            i += 16
        }
        if i < end { body(i, end - i) }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ lanes: Int) -> Vector {
        if lanes == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self) }
        var v = Vector()
        for l in 0..<lanes { v[l] = p[i + l] }
        return v
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ lanes: Int) -> Vector {
        load(UnsafePointer(p), i, lanes)
    }

    /// Zero where |v| is below the normal range. Optimizer state that decays geometrically (Adam's m = β₁ᵗ·m for a
    /// parameter whose gradient stays 0, such as a dead ReLU unit's) reaches subnormal floats after ~800 steps, and
    /// every arithmetic operation on a subnormal takes a slow microcode path on x86 (the MNIST mlp's epochs slowed
    /// down within three). Flushing only values below 1.2e-38 changes no normal result.
    @inline(__always)
    static func flushingSubnormals(_ v: Vector) -> Vector {
        let tiny = Vector(repeating: Float.leastNormalMagnitude)
        return v.replacing(with: 0, where: (v .< tiny) .& (v .> -tiny))
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ lanes: Int) {
        if lanes == 16 {
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vector.self)
            return
        }
        for l in 0..<lanes { p[i + l] = v[l] }
    }
}
