import Foundation
import Testing
@testable import Synapse

/// Builds raw safetensors bytes from a header string and a data buffer, for hand-made invalid files.
func makeSafeTensorsBytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var length = headerLength ?? UInt64(headerBytes.count)
    var bytes: [UInt8] = []
    for _ in 0..<8 {
        bytes.append(UInt8(truncatingIfNeeded: length))
        length >>= 8
    }
    return bytes + headerBytes + data
}

/// Parses `bytes` and returns the error, failing the test if parsing succeeds or throws something else.
private func parseError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> SafeTensorsError? {
    do {
        _ = try SafeTensorsFile(bytes: bytes, sourceName: "bad.safetensors")
        Issue.record("expected a SafeTensorsError", sourceLocation: sourceLocation)
    } catch let error as SafeTensorsError {
        return error
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

private func fixtureURL(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("synapse-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite(.synapseRuntime) struct SafeTensorsRoundTripTests {
    @Test func floatTensorsRoundTripInEveryFloatingDType() throws {
        let values: [Float] = [0, 1, -2.5, 0.15625, 65280, -0.0009765625]
        let tensor = Tensor(shape: [2, 3], scalars: values)
        var file = SafeTensorsFile(metadata: ["format": "pt", "epoch": "3"])
        for dtype in SafeTensorsDType.allCases where dtype.isFloatingPoint {
            file.setTensor(tensor, named: "t.\(dtype)", dtype: dtype)
        }
        let loaded = try SafeTensorsFile(bytes: file.serialized())
        #expect(loaded.metadata == ["format": "pt", "epoch": "3"])
        #expect(loaded.tensors == file.tensors)
        for dtype in SafeTensorsDType.allCases where dtype.isFloatingPoint {
            let back = try loaded.floatTensor("t.\(dtype)")
            #expect(back.shape == [2, 3])
            #expect(back.scalars == values, "\(dtype)")  // all values are exact in every format
        }
    }

    @Test func stateDictConveniences() throws {
        let state = ["fc.weight": Tensor([[1, 2], [3, 4]]), "fc.bias": Tensor([0.5, -0.5])]
        let file = SafeTensorsFile(floatTensors: state, dtype: .bf16, metadata: ["format": "pt"])
        #expect(file.tensors["fc.weight"]?.dtype == .bf16)
        let loaded = try SafeTensorsFile(bytes: file.serialized()).floatTensors()
        #expect(loaded.keys.sorted() == ["fc.bias", "fc.weight"])
        #expect(loaded["fc.weight"]?.shape == [2, 2])
        #expect(loaded["fc.weight"]?.scalars == [1, 2, 3, 4])
        #expect(loaded["fc.bias"]?.scalars == [0.5, -0.5])
    }

    @Test func narrowingRoundsToNearestEven() throws {
        let entry = SafeTensorsFile.Entry(Tensor([1.0 / 3.0, 70000, 1e-8]), dtype: .f16)
        #expect(entry.bytes == [0x55, 0x35, 0x00, 0x7C, 0x00, 0x00])
        let brain = SafeTensorsFile.Entry(Tensor([1.0 / 3.0]), dtype: .bf16)
        #expect(brain.bytes == [0xAB, 0x3E])
    }

    @Test func integerValuesRoundTrip() throws {
        var file = SafeTensorsFile()
        file.tensors["i8"] = .init(shape: [2, 2], values: [Int8.min, -1, 0, .max])
        file.tensors["u8"] = .init(shape: [3], values: [UInt8(0), 128, 255])
        file.tensors["i32"] = .init(shape: [2], values: [Int32.min, .max])
        file.tensors["i64"] = .init(shape: [2], values: [Int64.min, 1 << 40])
        file.tensors["f64"] = .init(shape: [1], values: [0.1])
        let loaded = try SafeTensorsFile(bytes: file.serialized())
        #expect(try loaded.values("i8", as: Int8.self) == [Int8.min, -1, 0, .max])
        #expect(try loaded.values("u8", as: UInt8.self) == [0, 128, 255])
        #expect(try loaded.values("i32", as: Int32.self) == [Int32.min, .max])
        #expect(try loaded.values("i64", as: Int64.self) == [Int64.min, 1 << 40])
        #expect(try loaded.values("f64", as: Double.self) == [0.1])
        #expect(try loaded.floatTensor("i8").scalars == [-128, -1, 0, 127])
        #expect(try loaded.floatTensor("u8").scalars == [0, 128, 255])
        #expect(try loaded.floatTensor("i64").scalars == [Float(Int64.min), 1_099_511_627_776])
        #expect(throws: SafeTensorsError.dtypeMismatch(file: "safetensors data", tensor: "i8", stored: .i8, requested: .u8)) {
            try loaded.values("i8", as: UInt8.self)
        }
        #expect(throws: SafeTensorsError.tensorNotFound(file: "safetensors data", tensor: "nope")) {
            try loaded.floatTensor("nope")
        }
    }

    @Test func emptyFileAndZeroSizeTensors() throws {
        let empty = SafeTensorsFile().serialized()
        #expect(empty == makeSafeTensorsBytes(header: "{}      "))
        #expect(try SafeTensorsFile(bytes: empty).tensors.isEmpty)
        var file = SafeTensorsFile()
        file.setTensor(Tensor(shape: [0, 4], scalars: []), named: "none")
        file.setTensor(Tensor(7), named: "scalar")
        let loaded = try SafeTensorsFile(bytes: file.serialized())
        #expect(try loaded.floatTensor("none").shape == [0, 4])
        #expect(try loaded.floatTensor("scalar").shape == [])
        #expect(try loaded.floatTensor("scalar").item == 7)
    }

    @Test func writerLayoutIsAlignedAndPadded() throws {
        var file = SafeTensorsFile()
        file.tensors["a"] = .init(shape: [3], values: [UInt8(1), 2, 3])
        file.tensors["b"] = .init(shape: [1], values: [Int64(5)])
        file.setTensor(Tensor([1, 2]), named: "c", dtype: .bf16)
        let bytes = file.serialized()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self)
        #expect(header.hasPrefix(#"{"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"c":{"dtype":"BF16","#))
        #expect(header.hasSuffix(" ") || header.hasSuffix("}"))
        #expect(bytes.count == 8 + headerLength + 8 + 4 + 3)
    }

    @Test func atomicWriteAndReadFromDisk() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        var file = SafeTensorsFile(metadata: ["step": "1"])
        file.setTensor(Tensor([[1, 2], [3, 4]]), named: "fc.weight")
        try file.write(to: url)
        file.metadata["step"] = "2"
        try file.write(to: url)  // replaces the existing file
        let loaded = try SafeTensorsFile(contentsOf: url)
        #expect(loaded.metadata == ["step": "2"])
        #expect(loaded.sourceName == "model.safetensors")
        #expect(try loaded.floatTensor("fc.weight").scalars == [1, 2, 3, 4])
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    @Test func missingFileAndMissingDirectoryAreReported() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: directory.appendingPathComponent("absent.safetensors"))
        }
        do {
            try SafeTensorsFile().write(to: directory.appendingPathComponent("no/such/dir/x.safetensors"))
            Issue.record("writing into a missing directory succeeded")
        } catch let error as SafeTensorsError {
            #expect(error.description.contains("x.safetensors"))
            #expect(error.description.contains("does not exist"))
        }
    }

    @Test func truncatedFileOnDiskIsRejected() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var file = SafeTensorsFile()
        file.setTensor(Tensor([1, 2, 3]), named: "x")
        let bytes = file.serialized()
        let url = directory.appendingPathComponent("cut.safetensors")
        try AtomicFile.write(Array(bytes.dropLast(2)), to: url)
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) }
        try AtomicFile.write(Array(bytes.prefix(5)), to: url)
        #expect(throws: SafeTensorsError.truncatedFile(file: "cut.safetensors", byteCount: 5)) {
            try SafeTensorsFile(contentsOf: url)
        }
    }
}

@Suite(.synapseRuntime) struct SafeTensorsPythonFixtureTests {
    @Test func readsTheFileWrittenByPythonSafetensors() throws {
        let file = try SafeTensorsFile(contentsOf: try fixtureURL("python_written.safetensors"))
        #expect(file.metadata == ["format": "pt", "note": "Synapse fixture ✓ \"quoted\""])
        #expect(Set(file.names) == ["weight", "half", "brain", "codes", "pixels", "index", "steps", "double", "empty", "scalar"])
        let weight = try file.floatTensor("weight")
        #expect(weight.shape == [2, 3])
        #expect(weight.scalars == [0, 1.5, -2, 3.25, 1e-3, -7])
        #expect(file.tensors["half"]?.dtype == .f16)
        #expect(try file.floatTensor("half").scalars == [1, -0.5, 65504])
        #expect(try file.floatTensor("brain").scalars == [1, -2.5, 0.15625, 256])
        #expect(try file.floatTensor("brain").shape == [2, 2])
        #expect(try file.values("codes", as: Int8.self) == [-128, -1, 0, 127])
        #expect(try file.values("pixels", as: UInt8.self) == [0, 1, 128, 255])
        #expect(try file.values("index", as: Int32.self) == [Int32.min, 0, Int32.max])
        #expect(try file.values("steps", as: Int64.self) == [1_234_567_890_123])
        #expect(try file.values("double", as: Double.self) == [0.1, -3])
        #expect(try file.floatTensor("empty").shape == [0, 3])
        #expect(try file.floatTensor("scalar").item == 42)
    }

    @Test func writesTheSameBytesAsPythonSafetensors() throws {
        let original = [UInt8](try Data(contentsOf: try fixtureURL("python_written.safetensors")))
        let file = try SafeTensorsFile(bytes: original)
        #expect(file.serialized() == original)
    }
}

@Suite(.synapseRuntime) struct SafeTensorsValidationTests {
    let file = "bad.safetensors"

    @Test func headerLengthIsBounded() {
        #expect(parseError([1, 2, 3]) == .truncatedFile(file: file, byteCount: 3))
        #expect(parseError(makeSafeTensorsBytes(header: "{}", headerLength: 3)) == .invalidHeaderLength(file: file, headerLength: 3, limit: 2))
        #expect(parseError(makeSafeTensorsBytes(header: "{}", headerLength: .max)) == .invalidHeaderLength(file: file, headerLength: .max, limit: 2))
        // Above the 100 MB cap even when the file claims to be that large.
        let huge = makeSafeTensorsBytes(header: "{}", headerLength: 100_000_001)
        if case .invalidHeaderLength? = parseError(huge) {} else { Issue.record("huge header accepted") }
    }

    @Test func headerMustBeStrictJSONObject() {
        func expectJSONError(_ header: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            guard case let .invalidJSON(_, reason, _)? = parseError(makeSafeTensorsBytes(header: header), sourceLocation: sourceLocation) else {
                Issue.record("\(header) not rejected as JSON", sourceLocation: sourceLocation)
                return
            }
            #expect(reason.contains(fragment), "\(reason)", sourceLocation: sourceLocation)
        }
        expectJSONError("{", "end of text")
        expectJSONError(#"{"a":1"#, "unterminated object")
        expectJSONError(#"{"a":"x}"#, "unterminated string")
        expectJSONError(#"{"a":1,}"#, "string key")
        expectJSONError(#"{"a":1}x"#, "after the JSON value")
        expectJSONError(#"{"a":{"dtype":"F32","dtype":"F32"}}"#, "duplicate key")
        expectJSONError("{\"a\u{01}\":1}", "control character")
        expectJSONError(#"{"\ud800":1}"#, "surrogate")
        expectJSONError(#"{"a":01}"#, "leading zero")
        expectJSONError(#"{"a":tru}"#, "literal")
        expectJSONError("{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}", "nesting")
        var invalidUTF8 = makeSafeTensorsBytes(header: #"{"ab":1}"#)
        invalidUTF8[10] = 0xFF
        if case .invalidJSON? = parseError(invalidUTF8) {} else { Issue.record("invalid UTF-8 accepted") }
        var overlong = makeSafeTensorsBytes(header: #"{"ab":1}"#)
        overlong[10] = 0xC0; overlong[11] = 0xAF
        if case .invalidJSON? = parseError(overlong) {} else { Issue.record("overlong UTF-8 accepted") }
        #expect(parseError(makeSafeTensorsBytes(header: " {}")) == .invalidHeader(file: file, reason: "the JSON header must start with '{'"))
        #expect(parseError(makeSafeTensorsBytes(header: "[]")) == .invalidHeader(file: file, reason: "the JSON header must start with '{'"))
    }

    @Test func entriesNeedExactlyTheThreeFields() {
        func entryReason(_ entry: String, data: [UInt8] = [0, 0, 0, 0]) -> String? {
            if case let .invalidEntry(_, tensor, reason)? = parseError(makeSafeTensorsBytes(header: #"{"t":"# + entry + "}", data: data)) {
                #expect(tensor == "t")
                return reason
            }
            return nil
        }
        #expect(entryReason("3") == "entry is a number, expected an object")
        #expect(entryReason(#"{"shape":[1],"data_offsets":[0,4]}"#) == #"missing field "dtype""#)
        #expect(entryReason(#"{"dtype":"F32","data_offsets":[0,4]}"#) == #"missing field "shape""#)
        #expect(entryReason(#"{"dtype":"F32","shape":[1]}"#) == #"missing field "data_offsets""#)
        #expect(entryReason(#"{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":0}"#) == #"unexpected field "extra""#)
        #expect(entryReason(#"{"dtype":5,"shape":[1],"data_offsets":[0,4]}"#) == "dtype is a number, expected a string")
        #expect(entryReason(#"{"dtype":"F32","shape":1,"data_offsets":[0,4]}"#) == "shape is a number, expected an array of integers")
        #expect(entryReason(#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#)?.contains("non-negative integer") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}"#)?.contains("non-negative integer") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}"#)?.contains("non-negative integer") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}"#)?.contains("contains a string") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}"#)?.contains("below 2^63") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}"#)?.contains("3 elements") == true)
        #expect(entryReason(#"{"dtype":"F32","shape":[1],"data_offsets":[4,0]}"#)?.contains("end before they begin") == true)
    }

    @Test func unsupportedAndUnknownDTypes() {
        let bf = parseError(makeSafeTensorsBytes(header: #"{"t":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))
        #expect(bf == .unsupportedDType(file: file, tensor: "t", dtype: "BOOL"))
        #expect(bf?.description.contains("is not supported") == true)
        let unknown = parseError(makeSafeTensorsBytes(header: #"{"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))
        #expect(unknown?.description.contains("is not a safetensors dtype") == true)
        #expect(unknown?.description.contains("F32, F16, BF16") == true)
    }

    @Test func sizeMustMatchDTypeAndShape() {
        let error = parseError(makeSafeTensorsBytes(header: #"{"fc.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,40]}}"#,
                                                    data: [UInt8](repeating: 0, count: 40)))
        #expect(error == .sizeMismatch(file: file, tensor: "fc.weight", offsets: [0, 40], dtype: .f32, shape: [3, 4], expectedByteCount: 48))
        #expect(error?.description
            == "bad.safetensors: tensor 'fc.weight' data_offsets [0, 40] do not match dtype F32 and shape [3, 4] (48 bytes)")
        let overflow = parseError(makeSafeTensorsBytes(header: #"{"t":{"dtype":"F32","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}}"#))
        #expect(overflow == .shapeOverflow(file: file, tensor: "t", shape: [4_611_686_018_427_387_904, 4, 0], dtype: .f32))
    }

    @Test func rangesMustStayInsideTheBuffer() {
        let error = parseError(makeSafeTensorsBytes(header: #"{"t":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#, data: [0, 0, 0, 0]))
        #expect(error == .offsetsOutOfBounds(file: file, tensor: "t", offsets: [2, 6], bufferByteCount: 4))
        let huge = parseError(makeSafeTensorsBytes(
            header: #"{"t":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]}}"#))
        #expect(huge == .offsetsOutOfBounds(file: file, tensor: "t", offsets: [0, Int.max], bufferByteCount: 0))
    }

    @Test func rangesMustNotOverlapOrLeaveGaps() throws {
        let overlap = parseError(makeSafeTensorsBytes(
            header: #"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#,
            data: [0, 0, 0, 0]))
        #expect(overlap == .overlappingTensors(file: file, first: "a", second: "b"))
        let same = parseError(makeSafeTensorsBytes(
            header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
            data: [0, 0]))
        #expect(same == .overlappingTensors(file: file, first: "a", second: "b"))
        let inside = parseError(makeSafeTensorsBytes(
            header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}"#,
            data: [0, 0, 0, 0]))
        #expect(inside == .overlappingTensors(file: file, first: "a", second: "b"))
        let gap = parseError(makeSafeTensorsBytes(
            header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#,
            data: [0, 0, 0]))
        #expect(gap == .uncoveredBytes(file: file, range: 1..<2))
        let leading = parseError(makeSafeTensorsBytes(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: [0, 0]))
        #expect(leading == .uncoveredBytes(file: file, range: 0..<1))
        let trailing = parseError(makeSafeTensorsBytes(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [0, 0]))
        #expect(trailing == .uncoveredBytes(file: file, range: 1..<2))
        #expect(parseError(makeSafeTensorsBytes(header: "{}", data: [0])) == .uncoveredBytes(file: file, range: 0..<1))
        // Zero-size tensors at a boundary are fine, as is data in any order in the header.
        let fine = makeSafeTensorsBytes(
            header: #"{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"z":{"dtype":"F32","shape":[0],"data_offsets":[1,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#,
            data: [7, 9])
        #expect(try SafeTensorsFile(bytes: fine).values("b", as: UInt8.self) == [9])
    }

    @Test func metadataMustMapStringsToStrings() throws {
        let error = parseError(makeSafeTensorsBytes(header: #"{"__metadata__":{"epoch":3}}"#))
        #expect(error == .invalidMetadata(file: file, key: "epoch", reason: "value is a number, expected a string"))
        let notObject = parseError(makeSafeTensorsBytes(header: #"{"__metadata__":["a"]}"#))
        #expect(notObject == .invalidHeader(file: file, reason: "__metadata__ is an array, expected an object of strings"))
        #expect(try SafeTensorsFile(bytes: makeSafeTensorsBytes(header: #"{"__metadata__":null}"#)).metadata.isEmpty)
        #expect(try SafeTensorsFile(bytes: makeSafeTensorsBytes(header: #"{"__metadata__":{"k":"v\n\u00e9"}}  "#)).metadata
            == ["k": "v\né"])
    }

    @Test func descriptionsAreSingleLines() {
        let errors: [SafeTensorsError] = [
            .truncatedFile(file: file, byteCount: 2),
            .invalidHeaderLength(file: file, headerLength: 9, limit: 1),
            .invalidJSON(file: file, reason: "x", offset: 3),
            .unsupportedDType(file: file, tensor: "t", dtype: "F\n8"),
            .uncoveredBytes(file: file, range: 1..<4),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.hasPrefix("bad.safetensors: "))
        }
    }
}
