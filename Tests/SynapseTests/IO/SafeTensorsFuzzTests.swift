import Foundation
import Testing
@testable import Synapse

/// A small deterministic generator (SplitMix64) so that a failing mutation can be replayed from its iteration.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mutates valid safetensors files in ways that target each validation step.
private struct SafeTensorsMutator {
    var random: SplitMix64

    /// Replacement tokens for JSON edits: other dtypes, hostile numbers, structural characters.
    static let tokens = [
        "\"F32\"", "\"F16\"", "\"BF16\"", "\"I8\"", "\"U8\"", "\"I32\"", "\"I64\"", "\"F64\"", "\"BOOL\"", "\"X\"",
        "0", "1", "7", "-1", "1.5", "1e3", "18446744073709551616", "9223372036854775807", "4611686018427387904",
        "[]", "[0]", "[1,2]", "[0,0]", "{}", "null", "true", "\"\"", ",", ":", "[", "]", "{", "}", "\"", "\\", " ",
        "\"shape\"", "\"dtype\"", "\"data_offsets\"", "\"__metadata__\"", "\"\\ud800\"", "\u{00e9}", "\u{1F600}",
    ]

    mutating func int(_ bound: Int) -> Int { Int(random.next() % UInt64(max(bound, 1))) }

    static func split(_ bytes: [UInt8]) -> (header: [UInt8], data: [UInt8])? {
        guard bytes.count >= 8 else { return nil }
        var wide: UInt64 = 0
        for i in (0..<8).reversed() { wide = wide << 8 | UInt64(bytes[i]) }
        guard wide <= UInt64(bytes.count - 8) else { return nil }
        let length = Int(wide)
        return (Array(bytes[8..<8 + length]), Array(bytes[(8 + length)...]))
    }

    static func join(header: [UInt8], data: [UInt8]) -> [UInt8] {
        var length = UInt64(header.count)
        var result: [UInt8] = []
        for _ in 0..<8 { result.append(UInt8(truncatingIfNeeded: length)); length >>= 8 }
        return result + header + data
    }

    /// The byte ranges of the numbers and strings in a JSON text (approximate tokenizer; good enough to edit).
    static func tokenRanges(_ header: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var i = 0
        while i < header.count {
            let byte = header[i]
            if byte == UInt8(ascii: "\"") {
                var j = i + 1
                while j < header.count && header[j] != UInt8(ascii: "\"") { j += header[j] == UInt8(ascii: "\\") ? 2 : 1 }
                ranges.append(i..<min(j + 1, header.count))
                i = j + 1
            } else if byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
                var j = i
                while j < header.count && "-+.eE0123456789".utf8.contains(header[j]) { j += 1 }
                ranges.append(i..<j)
                i = j
            } else {
                i += 1
            }
        }
        return ranges
    }

    mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        switch int(10) {
        case 0:  // flip bits anywhere
            for _ in 0..<(1 + int(4)) where !bytes.isEmpty { bytes[int(bytes.count)] ^= UInt8(1) << UInt8(int(8)) }
        case 1:  // overwrite bytes in the first part (length prefix and header)
            for _ in 0..<(1 + int(3)) where !bytes.isEmpty { bytes[int(min(bytes.count, 64))] = UInt8(truncatingIfNeeded: random.next()) }
        case 2:  // truncate
            bytes = Array(bytes.prefix(int(bytes.count)))
        case 3:  // rewrite the header length
            let choices: [UInt64] = [0, 1, 7, UInt64(max(bytes.count - 8, 0)), UInt64(bytes.count), UInt64.max, 100_000_001,
                                     UInt64(int(bytes.count + 16)), random.next()]
            var length = choices[int(choices.count)]
            for i in 0..<min(8, bytes.count) { bytes[i] = UInt8(truncatingIfNeeded: length); length >>= 8 }
        case 4:  // append or drop data bytes
            if int(2) == 0 { bytes += (0..<(1 + int(9))).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
            else { bytes.removeLast(min(bytes.count, 1 + int(4))) }
        case 5, 6, 7:  // replace a JSON token with another, keeping the length prefix consistent
            guard let (header, data) = Self.split(bytes) else { break }
            var edited = header
            let ranges = Self.tokenRanges(header)
            guard !ranges.isEmpty else { break }
            let range = ranges[int(ranges.count)]
            edited.replaceSubrange(range, with: Array(Self.tokens[int(Self.tokens.count)].utf8))
            bytes = Self.join(header: edited, data: data)
        case 8:  // swap two tokens (offsets between tensors, a dtype with a shape, ...)
            guard let (header, data) = Self.split(bytes) else { break }
            let ranges = Self.tokenRanges(header)
            guard ranges.count >= 2 else { break }
            var a = ranges[int(ranges.count)], b = ranges[int(ranges.count)]
            if a.lowerBound > b.lowerBound { swap(&a, &b) }
            guard a.upperBound <= b.lowerBound else { break }
            var edited = Array(header[..<a.lowerBound])
            edited += header[b]
            edited += header[a.upperBound..<b.lowerBound]
            edited += header[a]
            edited += header[b.upperBound...]
            bytes = Self.join(header: edited, data: data)
        default:  // delete or insert a character in the header
            guard let (header, data) = Self.split(bytes), !header.isEmpty else { break }
            var edited = header
            let position = int(edited.count)
            if int(2) == 0 { edited.remove(at: position) }
            else { edited.insert(Array("{}[],:\"0-e. \\".utf8)[int(13)], at: position) }
            bytes = Self.join(header: edited, data: data)
        }
        return bytes
    }
}

@Suite(.synapseRuntime) struct SafeTensorsFuzzTests {
    /// Valid files to start from: the Python-written fixture and Swift-written files with every dtype.
    static func seeds() throws -> [[UInt8]] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/python_written.safetensors", withExtension: nil))
        var mixed = SafeTensorsFile(metadata: ["format": "pt", "k": "v"])
        mixed.setTensor(Tensor([[1, 2, 3], [4, 5, 6]]), named: "a.weight")
        mixed.setTensor(Tensor([0.5, -0.25]), named: "a.bias", dtype: .f16)
        mixed.setTensor(Tensor([1e-3]), named: "b", dtype: .bf16)
        mixed.tensors["q"] = .init(shape: [2, 2], values: [Int8(1), -2, 3, -4])
        mixed.tensors["n"] = .init(shape: [1], values: [Int64(7)])
        var small = SafeTensorsFile()
        small.tensors["x"] = .init(shape: [2], values: [UInt8(1), 2])
        return [[UInt8](try Data(contentsOf: url)), mixed.serialized(), small.serialized()]
    }

    /// Every mutation must either load (and then be fully usable) or throw a `SafeTensorsError`; nothing may crash.
    @Test func mutatedFilesLoadOrThrowCleanly() throws {
        let seeds = try Self.seeds()
        var mutator = SafeTensorsMutator(random: SplitMix64(state: 0x5EED))
        let iterations = 12_000
        var loaded = 0
        var rejectedCount = 0
        let clock = ContinuousClock()
        let start = clock.now
        for iteration in 0..<iterations {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<(mutator.int(4) == 0 ? 2 : 1) { bytes = mutator.mutate(bytes) }
            do {
                let file = try SafeTensorsFile(bytes: bytes, sourceName: "fuzz")
                loaded += 1
                // A file that loads is consistent: it converts, and writes and re-reads to the same content.
                for (name, entry) in file.tensors {
                    #expect(entry.bytes.count == entry.count * entry.dtype.byteCount)
                    #expect(try file.floatTensor(name).count == entry.count)
                }
                let again = try SafeTensorsFile(bytes: file.serialized())
                #expect(again.tensors == file.tensors && again.metadata == file.metadata, "iteration \(iteration)")
            } catch let error as SafeTensorsError {
                rejectedCount += 1
                #expect(error.description.hasPrefix("fuzz: ") && !error.description.contains("\n"), "\(error)")
            } catch {
                Issue.record("iteration \(iteration): unexpected error type \(type(of: error)): \(error)")
            }
        }
        let elapsed = clock.now - start
        // Both outcomes must occur often, or the mutations are not exercising the reader.
        #expect(loaded > iterations / 100, "only \(loaded) mutated files loaded")
        #expect(rejectedCount > iterations / 2, "only \(rejectedCount) mutated files were rejected")
        #expect(loaded + rejectedCount == iterations)
        #expect(elapsed < .seconds(10), "fuzzing took \(elapsed)")
        print("safetensors fuzz: \(iterations) mutations in \(elapsed): \(loaded) loaded, \(rejectedCount) rejected")
    }

    /// The file-based reader shares the validation but reads through a file descriptor; fuzz it too (fewer rounds).
    @Test func mutatedFilesOnDiskLoadOrThrowCleanly() throws {
        let seeds = try Self.seeds()
        var mutator = SafeTensorsMutator(random: SplitMix64(state: 0xF11E))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("fuzz.safetensors")
        for iteration in 0..<300 {
            let bytes = mutator.mutate(seeds[iteration % seeds.count])
            try AtomicFile.write(bytes, to: url)
            let fromMemory = Result { try SafeTensorsFile(bytes: bytes, sourceName: "fuzz.safetensors") }
            let fromDisk = Result { try SafeTensorsFile(contentsOf: url) }
            switch (fromMemory, fromDisk) {
            case let (.success(a), .success(b)):
                #expect(a.tensors == b.tensors && a.metadata == b.metadata)
            case let (.failure(a), .failure(b)):
                #expect(a as? SafeTensorsError == b as? SafeTensorsError, "iteration \(iteration)")
                #expect(b is SafeTensorsError)
            default:
                Issue.record("iteration \(iteration): memory and disk readers disagree")
            }
        }
    }
}
