import Foundation
import SafeFiles

/// Writes a 16-bit PCM RIFF/WAVE file of a known length a piece at a time, as an `OutputFile`
/// (docs/files.md): into a temporary file beside the destination that replaces it only when
/// complete, so a failure (a full disk) leaves any earlier file there as it was; a device or FIFO
/// is written through.
final class WAVWriter {
    /// The data chunk's size is a UInt32, and the RIFF size (data + 36) too.
    static let maximumDataBytes = Int(UInt32.max) - 36

    private let out: OutputFile
    private let expectedBytes: Int
    private var bytesWritten = 0

    init(url: URL, channels: Int, sampleRate: Int, frames: Int) throws {
        let dataBytes = frames * channels * 2
        guard dataBytes <= WAVWriter.maximumDataBytes else {
            throw SynthError.tooLongForWAV(seconds: Double(frames) / Double(sampleRate), sampleRate: sampleRate)
        }
        expectedBytes = dataBytes
        out = try OutputFile(path: url.path)
        var header: [UInt8] = []
        header.reserveCapacity(44)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { header.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes)
        header.append(contentsOf: Array("WAVE".utf8))
        header.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(channels); u32(sampleRate)
        u32(sampleRate * channels * 2); u16(channels * 2); u16(16)
        header.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        try out.write(header)
    }

    /// Appends samples (host order; written little-endian).
    func append(_ samples: UnsafeBufferPointer<Int16>) throws {
        var bytes = [UInt8](repeating: 0, count: samples.count * 2)  // (samples, 2) little-endian
        bytes.withUnsafeMutableBytes { raw in
            let o = raw.bindMemory(to: Int16.self)
            for i in 0..<samples.count { o[i] = samples[i].littleEndian }
        }
        try out.write(bytes)
        bytesWritten += bytes.count
    }

    /// Closes the file and moves it to the destination.
    func finish() throws {
        precondition(bytesWritten == expectedBytes, "WAVWriter: \(bytesWritten) bytes of samples written, the header says \(expectedBytes)")
        try out.commit()
    }

    /// Closes and deletes the temporary file (the destination is untouched).
    func abandon() { out.abandon() }
}
