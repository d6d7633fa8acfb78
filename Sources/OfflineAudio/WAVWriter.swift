import Foundation

/// Writes a 16-bit PCM RIFF/WAVE file of a known length a piece at a time, into a temporary file
/// beside the destination that replaces it only when complete: a failure (a full disk) leaves
/// any earlier file at the destination as it was.
final class WAVWriter {
    /// The data chunk's size is a UInt32, and the RIFF size (data + 36) too.
    static let maximumDataBytes = Int(UInt32.max) - 36

    private let url: URL
    private let temporary: URL
    private let handle: FileHandle
    private let expectedBytes: Int
    private var bytesWritten = 0

    init(url: URL, channels: Int, sampleRate: Int, frames: Int) throws {
        let dataBytes = frames * channels * 2
        guard dataBytes <= WAVWriter.maximumDataBytes else {
            throw SynthError.tooLongForWAV(seconds: Double(frames) / Double(sampleRate), sampleRate: sampleRate)
        }
        self.url = url
        expectedBytes = dataBytes
        temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path)
        else { throw SynthError.cannotWrite(url.path, String(cString: strerror(errno))) }
        self.handle = handle
        var header = Data(capacity: 44)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { header.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes)
        header.append(contentsOf: Array("WAVE".utf8))
        header.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(channels); u32(sampleRate)
        u32(sampleRate * channels * 2); u16(channels * 2); u16(16)
        header.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        do { try handle.write(contentsOf: header) } catch {
            abandon()
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
    }

    /// Appends samples (host order; written little-endian).
    func append(_ samples: UnsafeBufferPointer<Int16>) throws {
        var bytes = Data(count: samples.count * 2)
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: Int16.self)
            for i in 0..<samples.count { out[i] = samples[i].littleEndian }
        }
        do { try handle.write(contentsOf: bytes) } catch {
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
        bytesWritten += bytes.count
    }

    /// Closes the file and moves it to the destination.
    func finish() throws {
        precondition(bytesWritten == expectedBytes, "WAVWriter: \(bytesWritten) bytes of samples written, the header says \(expectedBytes)")
        do {
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            abandon()
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
    }

    /// Closes and deletes the temporary file (the destination is untouched).
    func abandon() {
        try? handle.close()
        unlink(temporary.path)
    }
}
