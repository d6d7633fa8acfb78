import Foundation
import SafeFiles

/// A Standard MIDI File (format 0 or 1) with ticks-per-quarter-note timing.
public struct MIDIFile: Equatable, Sendable {
    /// 0 or 1. Format 2 is refused by the reader.
    public var format: Int
    /// Ticks per quarter note (PPQ).
    public var ticksPerQuarter: Int
    public var tracks: [Track]

    public init(format: Int = 1, ticksPerQuarter: Int = 480, tracks: [Track] = []) {
        self.format = format
        self.ticksPerQuarter = ticksPerQuarter
        self.tracks = tracks
    }

    /// The tempo map built from the Set Tempo events of every track (format 1 keeps them in the
    /// first track, but some files do not).
    public var tempoMap: TempoMap {
        var changes: [TempoMap.Change] = []
        for t in tracks {
            for e in t.events { if case .tempo(let us) = e.kind { changes.append(.init(tick: e.tick, microsecondsPerQuarter: us)) } }
        }
        return TempoMap(ticksPerQuarter: ticksPerQuarter, changes: changes)
    }

    /// Whether any track holds a Set Tempo event.
    public var hasTempo: Bool {
        tracks.contains { $0.events.contains { if case .tempo = $0.kind { return true } else { return false } } }
    }

    /// The time-signature events of every track, in tick order.
    public var timeSignatures: [TimeSignature] {
        var result: [TimeSignature] = []
        for t in tracks {
            for e in t.events {
                if case .timeSignature(let n, let d, _, _) = e.kind {
                    // A denominator past 2^6 (a 64th) is kept as 0: no plausible metre.
                    result.append(TimeSignature(tick: e.tick, numerator: Int(n), denominator: d <= 6 ? 1 << Int(d) : 0))
                }
            }
        }
        return result.sorted { $0.tick < $1.tick }
    }

    /// Reads a file from disk; I/O errors are thrown as they come, format errors as `MIDIFileError`.
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        try self.init(data: data)
    }

    public init(data: Data) throws {
        self = try [UInt8](data).withUnsafeBufferPointer { try MIDIFileReader(bytes: $0).read() }
    }

    /// The file's bytes: format as stored (0 or 1), full status bytes, every track ends with
    /// exactly one End of Track.
    public func serialized() -> Data {
        var out: [UInt8] = []
        out += Array("MThd".utf8)
        out += be32(6) + be16(format) + be16(tracks.count) + be16(ticksPerQuarter)
        for track in tracks {
            var body: [UInt8] = []
            var last = 0
            var ended = false
            for e in track.events {
                if ended { break }
                let delta = max(0, e.tick - last)
                last = max(last, e.tick)
                body += vlq(delta)
                switch e.kind {
                case .noteOn(let c, let k, let v): body += [0x90 | (c & 15), k & 127, v & 127]
                case .noteOff(let c, let k, let v): body += [0x80 | (c & 15), k & 127, v & 127]
                case .polyPressure(let c, let k, let p): body += [0xA0 | (c & 15), k & 127, p & 127]
                case .controlChange(let c, let n, let v): body += [0xB0 | (c & 15), n & 127, v & 127]
                case .programChange(let c, let p): body += [0xC0 | (c & 15), p & 127]
                case .channelPressure(let c, let p): body += [0xD0 | (c & 15), p & 127]
                case .pitchBend(let c, let v): body += [0xE0 | (c & 15), UInt8(v & 127), UInt8((v >> 7) & 127)]
                case .tempo(let us):
                    let u = max(1, min(us, 0xFFFFFF))
                    body += [0xFF, 0x51, 3, UInt8(u >> 16), UInt8((u >> 8) & 255), UInt8(u & 255)]
                case .timeSignature(let n, let d, let c, let b): body += [0xFF, 0x58, 4, n, d, c, b]
                case .trackName(let name):
                    let bytes = Array(name.utf8)
                    body += [0xFF, 0x03] + vlq(bytes.count) + bytes
                case .endOfTrack:
                    body += [0xFF, 0x2F, 0]
                    ended = true
                case .meta(let type, let data): body += [0xFF, type] + vlq(data.count) + data
                }
            }
            if !ended { body += [0, 0xFF, 0x2F, 0] }
            out += Array("MTrk".utf8) + be32(body.count) + body
        }
        return Data(out)
    }

    /// Writes the file as an `OutputFile` (docs/files.md): a regular file is replaced atomically
    /// keeping its owner and mode, a device or FIFO is written through, anything else is refused.
    public func write(to url: URL) throws(FileProblem) {
        try OutputFile.write([UInt8](serialized()), to: url.path)
    }
}

private func be32(_ v: Int) -> [UInt8] { [UInt8((v >> 24) & 255), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
private func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 255), UInt8(v & 255)] }
private func vlq(_ value: Int) -> [UInt8] {
    var v = max(0, min(value, 0x0FFF_FFFF))
    var bytes: [UInt8] = [UInt8(v & 0x7F)]
    v >>= 7
    while v > 0 {
        bytes.insert(UInt8(v & 0x7F) | 0x80, at: 0)
        v >>= 7
    }
    return bytes
}

/// Parses SMF bytes. Every read is bounds-checked against the chunk it belongs to, and nothing
/// is allocated from a declared length before that length is checked against the bytes that are
/// really there, so memory is bounded by the file's size.
struct MIDIFileReader {
    let bytes: UnsafeBufferPointer<UInt8>

    func read() throws -> MIDIFile {
        if bytes.isEmpty { throw MIDIFileError.empty }
        if bytes.count < 4 || !(bytes[0] == 0x4D && bytes[1] == 0x54 && bytes[2] == 0x68 && bytes[3] == 0x64) {
            let head = bytes.prefix(4)
            let printable = head.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
            let found = printable ? "\"\(String(decoding: head, as: UTF8.self))\""
                                  : head.map { String(format: "%02X", $0) }.joined(separator: " ")
            throw MIDIFileError.notMIDI(found: found)
        }
        if bytes.count < 14 { throw MIDIFileError.truncatedHeader(available: bytes.count) }
        let headerLength = Int(u32(at: 4))
        if headerLength < 6 { throw MIDIFileError.badHeaderLength(headerLength) }
        if headerLength > bytes.count - 8 {
            throw MIDIFileError.chunkTooLong(chunk: "MThd", at: 0, declared: UInt32(headerLength), available: bytes.count - 8)
        }
        let format = Int(u16(at: 8))
        let declaredTracks = Int(u16(at: 10))
        let division = Int(u16(at: 12))
        if format == 2 { throw MIDIFileError.format2Unsupported }
        if format > 2 { throw MIDIFileError.unsupportedFormat(format) }
        if division & 0x8000 != 0 { throw MIDIFileError.smpteDivisionUnsupported }
        if division == 0 { throw MIDIFileError.zeroDivision }

        var tracks: [Track] = []
        var pos = 8 + headerLength
        while pos < bytes.count && tracks.count < declaredTracks {
            if bytes.count - pos < 8 { throw MIDIFileError.truncatedChunkHeader(at: pos) }
            let id = String(decoding: bytes[pos..<pos + 4], as: UTF8.self)
            let length = u32(at: pos + 4)
            let available = bytes.count - pos - 8
            if Int(length) > available {
                throw MIDIFileError.chunkTooLong(chunk: id, at: pos, declared: length, available: available)
            }
            let body = pos + 8 ..< pos + 8 + Int(length)
            if id == "MTrk" {
                tracks.append(try readTrack(body, number: tracks.count + 1))
            }  // any other chunk is skipped, as the standard asks
            pos = body.upperBound
        }
        if tracks.count < declaredTracks {
            throw MIDIFileError.missingTracks(declared: declaredTracks, found: tracks.count)
        }
        return MIDIFile(format: format, ticksPerQuarter: division, tracks: tracks)
    }

    private func u32(at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }
    private func u16(at i: Int) -> UInt16 { UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]) }

    private func readTrack(_ range: Range<Int>, number: Int) throws -> Track {
        var events: [TrackEvent] = []
        var pos = range.lowerBound
        let end = range.upperBound
        var tick = 0
        var runningStatus: UInt8? = nil

        func byte() throws -> UInt8 {
            guard pos < end else { throw MIDIFileError.truncatedEvent(track: number, at: pos) }
            defer { pos += 1 }
            return bytes[pos]
        }
        func dataByte() throws -> UInt8 {
            let at = pos
            let b = try byte()
            if b > 0x7F { throw MIDIFileError.dataByteOutOfRange(track: number, at: at, byte: b) }
            return b
        }
        func varLen() throws -> Int {
            let start = pos
            var value = 0
            for _ in 0..<4 {
                let b = try byte()
                value = value << 7 | Int(b & 0x7F)
                if b & 0x80 == 0 { return value }
            }
            throw MIDIFileError.variableLengthTooLong(track: number, at: start)
        }

        while pos < end {
            tick += try varLen()
            let statusAt = pos
            var status = try byte()
            var firstData: UInt8? = nil
            if status < 0x80 {
                guard let rs = runningStatus else {
                    throw MIDIFileError.runningStatusWithoutStatus(track: number, at: statusAt)
                }
                firstData = status
                status = rs
            }
            switch status {
            case 0x80...0xEF:
                runningStatus = status
                let channel = status & 0x0F
                let a = try firstData ?? dataByte()
                switch status & 0xF0 {
                case 0x80: events.append(.init(tick: tick, .noteOff(channel: channel, key: a, velocity: try dataByte())))
                case 0x90:
                    let v = try dataByte()
                    events.append(.init(tick: tick, v == 0 ? .noteOff(channel: channel, key: a, velocity: 64)
                                                         : .noteOn(channel: channel, key: a, velocity: v)))
                case 0xA0: events.append(.init(tick: tick, .polyPressure(channel: channel, key: a, pressure: try dataByte())))
                case 0xB0: events.append(.init(tick: tick, .controlChange(channel: channel, controller: a, value: try dataByte())))
                case 0xC0: events.append(.init(tick: tick, .programChange(channel: channel, program: a)))
                case 0xD0: events.append(.init(tick: tick, .channelPressure(channel: channel, pressure: a)))
                default:
                    let b = try dataByte()
                    events.append(.init(tick: tick, .pitchBend(channel: channel, value: UInt16(a) | UInt16(b) << 7)))
                }
            case 0xF0, 0xF7:
                // System exclusive (or escape): skipped. Running status is kept across it, as most
                // readers do, so files that rely on that still read.
                let length = try varLen()
                if length > end - pos { throw MIDIFileError.unterminatedSysex(track: number, at: statusAt, declared: length) }
                pos += length
            case 0xFF:
                let type = try byte()
                let length = try varLen()
                if length > end - pos { throw MIDIFileError.truncatedEvent(track: number, at: statusAt) }
                let data = bytes[pos..<pos + length]
                pos += length
                switch type {
                case 0x2F:
                    events.append(.init(tick: tick, .endOfTrack))
                    return Track(events: events)  // bytes after End of Track are ignored
                case 0x51:
                    guard length == 3 else { throw MIDIFileError.badMetaLength(track: number, at: statusAt, type: type, length: length) }
                    let us = Int(data[data.startIndex]) << 16 | Int(data[data.startIndex + 1]) << 8 | Int(data[data.startIndex + 2])
                    if us == 0 { throw MIDIFileError.zeroTempo(track: number, at: statusAt) }
                    events.append(.init(tick: tick, .tempo(microsecondsPerQuarter: us)))
                case 0x58:
                    guard length >= 4 else { throw MIDIFileError.badMetaLength(track: number, at: statusAt, type: type, length: length) }
                    let s = data.startIndex
                    events.append(.init(tick: tick, .timeSignature(numerator: data[s], denominatorPower: data[s + 1],
                                                                   clocksPerClick: data[s + 2], thirtySecondsPerQuarter: data[s + 3])))
                case 0x03 where String(bytes: data, encoding: .utf8) != nil:
                    events.append(.init(tick: tick, .trackName(String(decoding: data, as: UTF8.self))))
                default:
                    events.append(.init(tick: tick, .meta(type: type, data: Array(data))))
                }
            default:
                // 0xF1-0xF6 and 0xF8-0xFE are not allowed in a file.
                throw MIDIFileError.invalidStatus(track: number, at: statusAt, byte: status)
            }
        }
        return Track(events: events)  // no End of Track: tolerated, the chunk length bounds the track
    }
}
