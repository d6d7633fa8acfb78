// SafeTensorsWriter: writes .safetensors files (test fixtures, converted weights).
// The header's keys are sorted, it is padded with spaces to a multiple of 8 bytes (so the data
// area starts 8-byte aligned), and tensors are laid out in the order they were added.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct SafeTensorsWriter: Sendable {
    /// One tensor to write: dtype as written in the header, raw little-endian bytes.
    public struct Tensor: Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var bytes: [UInt8]
        /// Overrides the computed data_offsets (to write broken files in tests).
        public var offsets: (Int, Int)?
    }

    public var metadata: [String: String]
    public private(set) var tensors: [Tensor] = []

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds fp32 values stored as `dtype` (F32, F16 rounded to nearest, BF16 rounded to nearest even).
    /// - Parameters: values: [product(shape)] row-major
    public mutating func add(_ name: String, shape: [Int], values: [Float], as dtype: SafeTensorsDType = .f32) {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * dtype.size)
        for v in values {
            switch dtype {
            case .f32:
                let b = v.bitPattern
                bytes += [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)]
            case .f16:
                let b = Float16(v).bitPattern
                bytes += [UInt8(b & 0xFF), UInt8(b >> 8)]
            case .bf16:
                let b = bfloat16Bits(v)
                bytes += [UInt8(b & 0xFF), UInt8(b >> 8)]
            }
        }
        tensors.append(Tensor(name: name, dtype: dtype.rawValue, shape: shape, bytes: bytes))
    }

    /// Adds raw bytes under any dtype name (also ones the reader rejects), optionally with
    /// explicit data_offsets.
    public mutating func addRaw(_ name: String, dtype: String, shape: [Int], bytes: [UInt8], offsets: (Int, Int)? = nil) {
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, bytes: bytes, offsets: offsets))
    }

    /// The header JSON (unpadded).
    public func headerJSON() -> String {
        var entries: [(String, String)] = []
        var offset = 0
        for t in tensors {
            let (b, e) = t.offsets ?? (offset, offset + t.bytes.count)
            offset += t.bytes.count
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append((t.name, "{\"dtype\":\(jsonString(t.dtype)),\"shape\":[\(shape)],\"data_offsets\":[\(b),\(e)]}"))
        }
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append(("__metadata__", "{" + m.joined(separator: ",") + "}"))
        }
        entries.sort { $0.0 < $1.0 }
        return "{" + entries.map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The whole file.
    public func serialize() -> [UInt8] {
        var header = Array(headerJSON().utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        let n = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(n >> (8 * UInt64(i)) & 0xFF)) }
        out += header
        for t in tensors { out += t.bytes }
        return out
    }

    /// Writes the file (replacing it).
    public func write(to path: String) throws(SafeTensorsError) {
        let bytes = serialize()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let r = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if r < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(path: path, errno: errno)
            }
            done += r
        }
    }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}

/// fp32 -> bf16 bits, rounding to nearest even (NaN stays NaN).
func bfloat16Bits(_ v: Float) -> UInt16 {
    if v.isNaN { return 0x7FC0 }
    let b = v.bitPattern
    let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
    return UInt16(rounded >> 16)
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
