// SafeTensors: reading and validating a .safetensors file (the model's weights, docs/model.md).
//
// File layout (https://huggingface.co/docs/safetensors, "format"):
//   [8 bytes]  N, little-endian UInt64: the header's length in bytes
//   [N bytes]  UTF-8 JSON object: { "__metadata__": {String: String}?,
//                                   NAME: {"dtype": "F32"|"F16"|"BF16"|..., "shape": [Int],
//                                          "data_offsets": [begin, end]} ... }
//   [rest]     the data area; offsets are relative to its start
// Everything is checked at open: the header length lies within the file, the JSON is an object
// of well-formed entries, every dtype is one we read, byte counts equal product(shape) * size,
// offsets lie inside the data area, tensors neither overlap nor leave holes (as the format
// requires). Errors name the tensor and what is wrong. The file is memory-mapped, read-only,
// once; tensors are copied out (as fp32) by the model loader, never read in place on a hot path.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SafeFiles

/// Element types this loader reads.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        }
    }
}

/// What is wrong with a safetensors file. Every case that concerns one tensor names it.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (errno).
    case cannotOpen(path: String, errno: Int32)
    /// Shorter than the 8-byte header length.
    case fileTooSmall(size: Int)
    /// The header length points past the end of the file (or is absurdly large).
    case headerLengthOutOfRange(headerLength: UInt64, fileSize: Int)
    /// The header is not valid UTF-8 JSON, or not a JSON object.
    case headerNotJSON(reason: String)
    /// `__metadata__` is not an object of strings.
    case badMetadata(reason: String)
    /// A tensor entry is malformed (missing or mistyped dtype, shape or data_offsets).
    case badEntry(tensor: String, reason: String)
    /// A dtype this loader does not read (e.g. F64, I64).
    case unsupportedDType(tensor: String, dtype: String)
    /// data_offsets do not span product(shape) * dtype size bytes.
    case byteCountMismatch(tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    /// data_offsets fall outside the data area (e.g. a truncated file).
    case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlapping(tensor: String, other: String)
    /// Bytes of the data area that no tensor covers (the format forbids holes).
    case hole(offset: Int, length: Int)
    /// A tensor the model needs is not in the file.
    case missingTensor(String)
    /// A tensor has another shape than the model needs.
    case wrongShape(tensor: String, expected: [Int], actual: [Int])
    /// A tensor has a dtype the model does not accept for it.
    case wrongDType(tensor: String, expected: [String], actual: String)
    /// A metadata key the model needs is missing or does not parse.
    case badMetadataValue(key: String, reason: String)
    /// The path is a directory, a FIFO, a device: not a weights file.
    case notARegularFile(path: String, what: String)
    /// A tensor holds a NaN or an infinity (damaged or diverged weights): element `index`.
    case nonFinite(tensor: String, index: Int, value: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, e):
            "cannot open \(path): \(String(cString: strerror(e)))"
        case let .fileTooSmall(size):
            "file too small for a safetensors header: \(size) bytes"
        case let .headerLengthOutOfRange(n, size):
            "header length \(n) does not fit in a file of \(size) bytes (truncated or not safetensors)"
        case let .headerNotJSON(reason):
            "header is not a JSON object: \(reason)"
        case let .badMetadata(reason):
            "__metadata__: \(reason)"
        case let .badEntry(t, reason):
            "tensor \(t): \(reason)"
        case let .unsupportedDType(t, d):
            "tensor \(t): unsupported dtype \(d) (F32, F16, BF16 are read)"
        case let .byteCountMismatch(t, shape, d, expected, actual):
            "tensor \(t): shape \(shape) of \(d) needs \(expected) bytes, data_offsets span \(actual)"
        case let .offsetsOutOfRange(t, b, e, size):
            "tensor \(t): data_offsets [\(b), \(e)] outside the data area of \(size) bytes (truncated file?)"
        case let .overlapping(t, o):
            "tensor \(t) overlaps tensor \(o)"
        case let .hole(offset, length):
            "\(length) bytes at data offset \(offset) belong to no tensor"
        case let .missingTensor(t):
            "tensor \(t) is missing"
        case let .wrongShape(t, expected, actual):
            "tensor \(t): shape \(actual), expected \(expected)"
        case let .wrongDType(t, expected, actual):
            "tensor \(t): dtype \(actual), expected one of \(expected)"
        case let .badMetadataValue(key, reason):
            "metadata \(key): \(reason)"
        case let .notARegularFile(path, what):
            "\(Echo.path(path)) is \(what), not a weights file"
        case let .nonFinite(t, index, value):
            "tensor \(t) holds \(value) (element \(index)): the weights are damaged, refusing to play them"
        }
    }
}

/// One tensor's entry in the header.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the data area.
    public let byteRange: Range<Int>
    /// product(shape)
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A validated, memory-mapped safetensors file.
public final class SafeTensorsFile: @unchecked Sendable {
    // Immutable after init; the mapping lives as long as the object.
    /// Tensors by name.
    public let tensors: [String: SafeTensorInfo]
    /// `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Start of the data area, dataSize bytes.
    private let data: UnsafeRawPointer
    private let dataSize: Int
    /// The whole mapping (or heap copy) to release in deinit.
    private let base: UnsafeMutableRawPointer
    private let baseSize: Int
    private let mapped: Bool

    /// Maps and validates the file at `path`.
    public convenience init(path: String) throws(SafeTensorsError) {
        // O_NONBLOCK: a FIFO named as weights must not hang the open; it is refused below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path, what: nodeKind(st.st_mode)) }
        let size = Int(st.st_size)
        guard size >= 8 else { throw .fileTooSmall(size: size) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .cannotOpen(path: path, errno: errno)
        }
        do {
            try self.init(base: p, size: size, mapped: true)
        } catch {
            munmap(p, size)
            throw error
        }
    }

    /// Validates an in-memory file (copied).
    public convenience init(bytes: [UInt8]) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw .fileTooSmall(size: bytes.count) }
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        do {
            try self.init(base: p, size: bytes.count, mapped: false)
        } catch {
            p.deallocate()
            throw error
        }
    }

    private init(base: UnsafeMutableRawPointer, size: Int, mapped: Bool) throws(SafeTensorsError) {
        let header = try SafeTensorsFile.parse(UnsafeRawPointer(base), size: size)
        // Checked before any property is set: a throw after that would run deinit, which frees
        // `base`, and the caller's catch would free it again.
        try Self.checkFinite(header.tensors, data: UnsafeRawPointer(base) + header.dataStart)
        self.base = base
        self.baseSize = size
        self.mapped = mapped
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.data = UnsafeRawPointer(base) + header.dataStart
        self.dataSize = size - header.dataStart
    }

    /// One pass over every tensor at load: a NaN or an infinity anywhere is an error naming the
    /// tensor (in file order), so damaged weights never play. Nothing is checked per step.
    private static func checkFinite(_ tensors: [String: SafeTensorInfo], data: UnsafeRawPointer) throws(SafeTensorsError) {
        for info in tensors.values.sorted(by: { $0.byteRange.lowerBound < $1.byteRange.lowerBound }) {
            let src = data + info.byteRange.lowerBound
            let n = info.elementCount
            // An exponent of all ones is an infinity or a NaN, in each format.
            switch info.dtype {
            case .f32:
                for i in 0..<n {
                    let bits = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    if bits & 0x7F80_0000 == 0x7F80_0000 { throw .nonFinite(tensor: info.name, index: i, value: "\(Float(bitPattern: bits))") }
                }
            case .f16:
                for i in 0..<n {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    if bits & 0x7C00 == 0x7C00 { throw .nonFinite(tensor: info.name, index: i, value: "\(Float(Float16(bitPattern: bits)))") }
                }
            case .bf16:
                for i in 0..<n {
                    let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    if bits & 0x7F80 == 0x7F80 { throw .nonFinite(tensor: info.name, index: i, value: "\(Float(bitPattern: UInt32(bits) << 16))") }
                }
            }
        }
    }

    deinit {
        if mapped { munmap(base, baseSize) } else { base.deallocate() }
    }

    // MARK: Lookup

    /// The entry of `name`, checked against the shape and dtypes the model expects.
    /// - Parameters:
    ///   - shape: the expected shape, or nil for any
    ///   - dtypes: accepted dtypes (all by default)
    public func require(
        _ name: String, shape: [Int]? = nil, dtypes: Set<SafeTensorsDType> = Set(SafeTensorsDType.allCases)
    ) throws(SafeTensorsError) -> SafeTensorInfo {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        if let shape, info.shape != shape { throw .wrongShape(tensor: name, expected: shape, actual: info.shape) }
        guard dtypes.contains(info.dtype) else {
            throw .wrongDType(tensor: name, expected: dtypes.map(\.rawValue).sorted(), actual: info.dtype.rawValue)
        }
        return info
    }

    /// The raw bytes of a tensor (no alignment guaranteed), valid while this object lives.
    public func bytes(of info: SafeTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data + info.byteRange.lowerBound, count: info.byteRange.count)
    }

    /// Copies a tensor into `destination` as fp32 (converting F16 and BF16), row-major.
    /// - Parameters: destination: [product(shape)]
    public func copyFloats(_ info: SafeTensorInfo, into destination: UnsafeMutablePointer<Float>) {
        let src = data + info.byteRange.lowerBound
        let n = info.elementCount
        switch info.dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: src, byteCount: n * 4)
        case .f16:
            for i in 0..<n {
                let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(Float16(bitPattern: bits))
            }
        case .bf16:
            for i in 0..<n {
                let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        }
        #if _endian(big)
        if info.dtype == .f32 {
            for i in 0..<n { destination[i] = Float(bitPattern: UInt32(littleEndian: destination[i].bitPattern)) }
        }
        #endif
    }

    /// A tensor as an fp32 array (for loading and tests, not for hot paths).
    public func floats(_ name: String, shape: [Int]? = nil) throws(SafeTensorsError) -> [Float] {
        let info = try require(name, shape: shape)
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, count in
            copyFloats(info, into: buffer.baseAddress!)
            count = info.elementCount
        }
    }

    // MARK: Parsing and validation

    struct Header {
        var tensors: [String: SafeTensorInfo]
        var metadata: [String: String]
        var dataStart: Int
    }

    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maxHeaderLength: UInt64 = 100_000_000

    static func parse(_ base: UnsafeRawPointer, size: Int) throws(SafeTensorsError) -> Header {
        guard size >= 8 else { throw .fileTooSmall(size: size) }
        let n = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard n <= maxHeaderLength, n <= UInt64(size - 8) else {
            throw .headerLengthOutOfRange(headerLength: n, fileSize: size)
        }
        let headerBytes = Data(bytes: base + 8, count: Int(n))
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: headerBytes)
        } catch let e as EntryDecodingError {
            throw e.error
        } catch {
            throw .headerNotJSON(reason: describe(error))
        }
        let dataStart = 8 + Int(n)
        let dataSize = size - dataStart

        var tensors: [String: SafeTensorInfo] = [:]
        for name in raw.entries.keys.sorted() {           // sorted: the same error every time
            tensors[name] = try validate(name, raw.entries[name]!, dataSize: dataSize)
        }

        // No overlaps, no holes: sorted by offset, each tensor starts where the previous ended.
        let sorted = tensors.values.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var end = 0
        var previous: SafeTensorInfo?
        for t in sorted {
            if t.byteRange.lowerBound < end, let previous { throw .overlapping(tensor: t.name, other: previous.name) }
            if t.byteRange.lowerBound > end {
                throw .hole(offset: end, length: t.byteRange.lowerBound - end)
            }
            if t.byteRange.upperBound > end || previous == nil {
                end = t.byteRange.upperBound
                previous = t
            }
        }
        if end < dataSize { throw .hole(offset: end, length: dataSize - end) }
        return Header(tensors: tensors, metadata: raw.metadata, dataStart: dataStart)
    }

    static func validate(_ name: String, _ entry: RawEntry, dataSize: Int) throws(SafeTensorsError) -> SafeTensorInfo {
        guard let dtype = SafeTensorsDType(rawValue: entry.dtype) else {
            throw .unsupportedDType(tensor: name, dtype: entry.dtype)
        }
        let shape = entry.shape
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .badEntry(tensor: name, reason: "shape \(shape) has a negative dimension")
        }
        guard entry.dataOffsets.count == 2 else {
            throw .badEntry(tensor: name, reason: "data_offsets \(entry.dataOffsets) is not [begin, end]")
        }
        let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
        guard begin >= 0, begin <= end else {
            throw .badEntry(tensor: name, reason: "data_offsets [\(begin), \(end)] are negative or end before they begin")
        }
        var count = 1
        for d in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .badEntry(tensor: name, reason: "shape \(shape) overflows") }
            count = c
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw .badEntry(tensor: name, reason: "shape \(shape) overflows") }
        guard bytes == end - begin else {
            throw .byteCountMismatch(tensor: name, shape: shape, dtype: entry.dtype,
                                     expectedBytes: bytes, actualBytes: end - begin)
        }
        guard end <= dataSize else {
            throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }
}

// MARK: - Header JSON

/// One tensor entry as written in the header.
struct RawEntry: Decodable {
    var dtype: String
    var shape: [Int]
    var dataOffsets: [Int]
    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }
}

/// A decoding failure inside one entry, carrying the typed error that names the tensor.
struct EntryDecodingError: Error {
    var error: SafeTensorsError
}

/// The header object: `__metadata__` and the tensor entries.
struct RawHeader: Decodable {
    var metadata: [String: String] = [:]
    var entries: [String: RawEntry] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                do {
                    metadata = try c.decode([String: String].self, forKey: key)
                } catch {
                    throw EntryDecodingError(error: .badMetadata(reason: "not an object of strings (\(describe(error)))"))
                }
                continue
            }
            do {
                entries[key.stringValue] = try c.decode(RawEntry.self, forKey: key)
            } catch {
                throw EntryDecodingError(error: .badEntry(tensor: key.stringValue, reason: describe(error)))
            }
        }
    }
}

/// A short description of a decoding error: what was wrong, and where.
func describe(_ error: any Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch e {
    case let .keyNotFound(key, c): return "missing key \(key.stringValue)\(c.codingPath.isEmpty ? "" : " in " + path(c))"
    case let .typeMismatch(_, c): return "\(path(c)): \(c.debugDescription)"
    case let .valueNotFound(_, c): return "\(path(c)): \(c.debugDescription)"
    case let .dataCorrupted(c): return "\(path(c).isEmpty ? "" : path(c) + ": ")\(c.debugDescription)\(c.underlyingError.map { " (\($0))" } ?? "")"
    @unknown default: return "\(e)"
    }
}
