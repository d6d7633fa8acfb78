// The safetensors loader: a valid file round-trips; every kind of broken file gives the typed
// error that names the tensor.

import Foundation
import Testing
@testable import Model

@Suite struct SafeTensorsTests {
    /// A small valid file: three dtypes, metadata.
    static func validWriter() -> SafeTensorsWriter {
        var w = SafeTensorsWriter(metadata: ["d_model": "4", "format": "accompanist-v1", "quote\"d": "a\\b\n"])
        w.add("embed.weight", shape: [3, 4], values: (0..<12).map { Float($0) * 0.5 - 2 })
        w.add("ln.gamma", shape: [4], values: [1, 0.5, -0.25, 2], as: .f16)
        w.add("proj.weight", shape: [2, 2], values: [1.5, -3, 0.0078125, 65504], as: .bf16)
        w.add("scalar", shape: [], values: [7])
        return w
    }

    /// A file from a hand-written header and data area.
    static func file(header: String, data: [UInt8], headerLength: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = headerLength ?? UInt64(h.count)
        return (0..<8).map { UInt8(n >> (8 * UInt64($0)) & 0xFF) } + h + data
    }

    func expectError(_ expected: SafeTensorsError, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try SafeTensorsFile(bytes: bytes)
            Issue.record("expected \(expected), the file loaded", sourceLocation: sourceLocation)
        } catch {
            #expect(error == expected, sourceLocation: sourceLocation)
        }
    }

    @Test func validFileRoundTrips() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.validWriter().write(to: path)
        let f = try SafeTensorsFile(path: path)
        #expect(f.metadata == ["d_model": "4", "format": "accompanist-v1", "quote\"d": "a\\b\n"])
        #expect(Set(f.tensors.keys) == ["embed.weight", "ln.gamma", "proj.weight", "scalar"])
        #expect(try f.floats("embed.weight", shape: [3, 4]) == (0..<12).map { Float($0) * 0.5 - 2 })
        #expect(try f.floats("ln.gamma") == [1, 0.5, -0.25, 2])
        #expect(try f.floats("proj.weight") == [1.5, -3, 0.0078125, 65536])   // bf16 rounds 65504 up
        #expect(try f.floats("scalar", shape: []) == [7])
        let info = try f.require("ln.gamma", shape: [4], dtypes: [.f16])
        #expect(info.dtype == .f16 && info.byteRange.count == 8)
        #expect(f.bytes(of: info).count == 8)
        // The same bytes parse from memory.
        let m = try SafeTensorsFile(bytes: Self.validWriter().serialize())
        #expect(m.tensors == f.tensors)
    }

    @Test func missingFile() {
        #expect(throws: SafeTensorsError.cannotOpen(path: "/nonexistent/x.safetensors", errno: ENOENT)) {
            try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
    }

    @Test func truncatedFile() {
        let bytes = Self.validWriter().serialize()
        // Cut in the data area: the last tensor in the file runs past the end.
        let cut = Array(bytes.dropLast(3))
        let dataSize = bytes.count - 3 - 8 - Int(bytes[0]) - Int(bytes[1]) << 8
        expectError(.offsetsOutOfRange(tensor: "scalar", begin: 64, end: 68, dataSize: dataSize), cut)
        // Cut in the header.
        expectError(.headerLengthOutOfRange(headerLength: UInt64(bytes[0]) | UInt64(bytes[1]) << 8, fileSize: 40),
                    Array(bytes.prefix(40)))
        // Cut before the header length ends.
        expectError(.fileTooSmall(size: 5), Array(bytes.prefix(5)))
    }

    @Test func headerLengthLargerThanFile() {
        expectError(.headerLengthOutOfRange(headerLength: 1000, fileSize: 8 + 2),
                    Self.file(header: "{}", data: [], headerLength: 1000))
        expectError(.headerLengthOutOfRange(headerLength: UInt64.max, fileSize: 8 + 2),
                    Self.file(header: "{}", data: [], headerLength: UInt64.max))
    }

    @Test func corruptHeaderJSON() throws {
        for header in ["{\"a\": {\"dtype\": \"F32\", ", "not json at all", "[1, 2, 3]", "\u{FF}"] {
            do {
                _ = try SafeTensorsFile(bytes: Self.file(header: header, data: []))
                Issue.record("\(header) loaded")
            } catch {
                guard case .headerNotJSON = error else { Issue.record("\(header): \(error)"); continue }
            }
        }
        // Invalid UTF-8 bytes in the header.
        var bytes = Self.file(header: "{\"x\":1}", data: [])
        bytes[10] = 0xFF
        #expect(throws: (any Error).self) { try SafeTensorsFile(bytes: bytes) }
    }

    @Test func malformedEntries() {
        let cases: [(String, String)] = [
            (#"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#, "w"),                       // no dtype
            (#"{"w": {"dtype": "F32", "data_offsets": [0, 4]}}"#, "w"),                      // no shape
            (#"{"w": {"dtype": "F32", "shape": [1]}}"#, "w"),                                // no offsets
            (#"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, "w"),      // fraction
            (#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, "w"),       // negative
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#, "w"),           // one offset
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}"#, "w"),        // reversed
            (#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}"#, "w"),    // strings
            (#"{"w": 3}"#, "w"),
        ]
        for (header, name) in cases {
            do {
                _ = try SafeTensorsFile(bytes: Self.file(header: header, data: [0, 0, 0, 0]))
                Issue.record("\(header) loaded")
            } catch {
                if case let .badEntry(tensor, _) = error { #expect(tensor == name) } else { Issue.record("\(header): \(error)") }
            }
        }
        do {
            _ = try SafeTensorsFile(bytes: Self.file(header: #"{"__metadata__": {"a": 1}}"#, data: []))
            Issue.record("metadata with a number loaded")
        } catch {
            guard case .badMetadata = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func wrongDType() {
        var w = SafeTensorsWriter()
        w.add("a", shape: [2], values: [1, 2])
        w.addRaw("counts", dtype: "I64", shape: [2], bytes: [UInt8](repeating: 0, count: 16))
        expectError(.unsupportedDType(tensor: "counts", dtype: "I64"), w.serialize())
        // A readable dtype the model does not accept for this tensor.
        let f = try! SafeTensorsFile(bytes: Self.validWriter().serialize())
        #expect(throws: SafeTensorsError.wrongDType(tensor: "ln.gamma", expected: ["F32"], actual: "F16")) {
            try f.require("ln.gamma", dtypes: [.f32])
        }
    }

    @Test func wrongShape() throws {
        let f = try SafeTensorsFile(bytes: Self.validWriter().serialize())
        #expect(throws: SafeTensorsError.wrongShape(tensor: "embed.weight", expected: [4, 3], actual: [3, 4])) {
            try f.require("embed.weight", shape: [4, 3])
        }
        // Shape and byte count disagree inside the file.
        var w = SafeTensorsWriter()
        w.addRaw("w", dtype: "F32", shape: [2, 3], bytes: [UInt8](repeating: 0, count: 20))
        expectError(.byteCountMismatch(tensor: "w", shape: [2, 3], dtype: "F32", expectedBytes: 24, actualBytes: 20),
                    w.serialize())
    }

    @Test func missingTensor() throws {
        let f = try SafeTensorsFile(bytes: Self.validWriter().serialize())
        #expect(throws: SafeTensorsError.missingTensor("decoder.0.attn.q")) {
            try f.require("decoder.0.attn.q")
        }
        #expect(throws: SafeTensorsError.missingTensor("nope")) { try f.floats("nope") }
    }

    @Test func offsetsOutOfRangeOverlapsAndHoles() {
        var w = SafeTensorsWriter()
        w.addRaw("a", dtype: "F32", shape: [1], bytes: [0, 0, 0, 0])
        w.addRaw("b", dtype: "F32", shape: [1], bytes: [0, 0, 0, 0], offsets: (8, 12))
        expectError(.offsetsOutOfRange(tensor: "b", begin: 8, end: 12, dataSize: 8), w.serialize())

        var o = SafeTensorsWriter()
        o.addRaw("a", dtype: "F32", shape: [2], bytes: [UInt8](repeating: 0, count: 8))
        o.addRaw("b", dtype: "F32", shape: [1], bytes: [], offsets: (4, 8))
        expectError(.overlapping(tensor: "b", other: "a"), o.serialize())

        var h = SafeTensorsWriter()
        h.addRaw("a", dtype: "F32", shape: [1], bytes: [0, 0, 0, 0], offsets: (4, 8))
        h.addRaw("pad", dtype: "F32", shape: [0], bytes: [0, 0, 0, 0], offsets: (0, 0))
        expectError(.hole(offset: 0, length: 4), h.serialize())

        var t = SafeTensorsWriter()
        t.addRaw("a", dtype: "F32", shape: [1], bytes: [0, 0, 0, 0, 9, 9], offsets: (0, 4))
        expectError(.hole(offset: 4, length: 2), t.serialize())
    }

    @Test func errorsDescribeThemselves() {
        let e = SafeTensorsError.wrongShape(tensor: "decoder.0.ffn.w1", expected: [1024, 256], actual: [256, 1024])
        #expect(e.description == "tensor decoder.0.ffn.w1: shape [256, 1024], expected [1024, 256]")
        #expect(SafeTensorsError.missingTensor("x").description == "tensor x is missing")
    }

    @Test func bfloat16Rounding() {
        #expect(bfloat16Bits(1) == 0x3F80)
        #expect(bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)    // tie -> even
        #expect(bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)    // tie -> even
        #expect(bfloat16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
    }
}

/// Damaged weights (issue #27): a NaN or an infinity in any tensor, in any dtype, is refused at
/// load naming the tensor; a path that is no regular file is named in words and never blocks.
@Suite struct NonFiniteWeightsTests {
    @Test(arguments: [SafeTensorsDType.f32, .f16, .bf16], [Float.nan, .infinity, -.infinity])
    func nonFiniteValuesAreRefused(dtype: SafeTensorsDType, bad: Float) throws {
        var w = SafeTensorsWriter()
        w.add("a.fine", shape: [4], values: [1, 2, 3, 4], as: dtype)
        w.add("b.damaged", shape: [2, 3], values: [0, 1, 2, bad, 4, 5], as: dtype)
        do {
            _ = try SafeTensorsFile(bytes: w.serialize())
            Issue.record("weights holding \(bad) loaded")
        } catch {
            guard case .nonFinite(let tensor, let index, _) = error else { Issue.record("\(error)"); return }
            #expect(tensor == "b.damaged")
            #expect(index == 3)
            #expect(error.description.contains("tensor b.damaged holds"))
        }
    }

    @Test func finiteExtremesLoad() throws {
        var w = SafeTensorsWriter()
        w.add("big", shape: [3], values: [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, .leastNonzeroMagnitude])
        w.add("half", shape: [2], values: [65504, -65504], as: .f16)
        _ = try SafeTensorsFile(bytes: w.serialize())
    }

    @Test func aDamagedFileOnDiskIsRefusedAndReleased() throws {
        // The path loader maps the file; the refusal must unmap it once (ASan found a double
        // release when the check ran after the properties were set).
        var w = SafeTensorsWriter()
        w.add("x", shape: [1], values: [.infinity])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inf-\(UUID().uuidString).safetensors").path
        defer { unlink(path) }
        try w.write(to: path)
        for _ in 0..<3 {
            #expect(throws: SafeTensorsError.nonFinite(tensor: "x", index: 0, value: "inf")) { try SafeTensorsFile(path: path) }
        }
    }

    @Test func directoriesAndFIFOsAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: SafeTensorsError.notARegularFile(path: dir, what: "a directory")) { try SafeTensorsFile(path: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        #expect(throws: SafeTensorsError.notARegularFile(path: dir + "/fifo", what: "a FIFO")) { try SafeTensorsFile(path: dir + "/fifo") }
    }
}
