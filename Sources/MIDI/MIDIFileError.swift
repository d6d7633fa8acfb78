/// Every way a Standard MIDI File can be malformed, with where it happened.
///
/// Track numbers in messages count from 1, like a DAW's track list; byte offsets are from the
/// start of the file.
public enum MIDIFileError: Error, Equatable, CustomStringConvertible, Sendable {
    case empty
    case notMIDI(found: String)
    case truncatedHeader(available: Int)
    case badHeaderLength(Int)
    case unsupportedFormat(Int)
    case format2Unsupported
    case smpteDivisionUnsupported
    case zeroDivision
    case chunkTooLong(chunk: String, at: Int, declared: UInt32, available: Int)
    case truncatedChunkHeader(at: Int)
    case missingTracks(declared: Int, found: Int)
    case runningStatusWithoutStatus(track: Int, at: Int)
    case truncatedEvent(track: Int, at: Int)
    case unterminatedSysex(track: Int, at: Int, declared: Int)
    case invalidStatus(track: Int, at: Int, byte: UInt8)
    case variableLengthTooLong(track: Int, at: Int)
    case badMetaLength(track: Int, at: Int, type: UInt8, length: Int)
    case dataByteOutOfRange(track: Int, at: Int, byte: UInt8)
    case zeroTempo(track: Int, at: Int)

    public var description: String {
        switch self {
        case .empty: return "the file is empty"
        case .notMIDI(let found):
            return "not a Standard MIDI File: expected \"MThd\" at byte 0, found \(found)"
        case .truncatedHeader(let n): return "truncated header: \(n) bytes where 14 are needed"
        case .badHeaderLength(let n): return "header chunk declares length \(n), expected at least 6"
        case .unsupportedFormat(let f): return "unsupported SMF format \(f) (only 0 and 1 are supported)"
        case .format2Unsupported:
            return "SMF format 2 (independent sequences) is not supported; convert the file to format 1"
        case .smpteDivisionUnsupported:
            return "SMPTE time division is not supported; the file must use ticks per quarter note"
        case .zeroDivision: return "header declares 0 ticks per quarter note"
        case .chunkTooLong(let chunk, let at, let declared, let available):
            return "chunk \"\(chunk)\" at byte \(at) declares \(declared) bytes but only \(available) remain"
        case .truncatedChunkHeader(let at): return "truncated chunk header at byte \(at)"
        case .missingTracks(let declared, let found):
            return "header declares \(declared) tracks but the file holds \(found)"
        case .runningStatusWithoutStatus(let track, let at):
            return "track \(track): running status with no previous status at byte \(at)"
        case .truncatedEvent(let track, let at):
            return "track \(track): event truncated at byte \(at) (the track chunk ends inside it)"
        case .unterminatedSysex(let track, let at, let declared):
            return "track \(track): unterminated sysex at byte \(at) (declares \(declared) bytes past the end of the track)"
        case .invalidStatus(let track, let at, let byte):
            return "track \(track): invalid status byte 0x\(String(byte, radix: 16, uppercase: true)) at byte \(at)"
        case .variableLengthTooLong(let track, let at):
            return "track \(track): variable-length quantity longer than 4 bytes at byte \(at)"
        case .badMetaLength(let track, let at, let type, let length):
            return "track \(track): meta event 0x\(String(type, radix: 16, uppercase: true)) at byte \(at) has invalid length \(length)"
        case .dataByteOutOfRange(let track, let at, let byte):
            return "track \(track): data byte 0x\(String(byte, radix: 16, uppercase: true)) at byte \(at) is over 0x7F"
        case .zeroTempo(let track, let at):
            return "track \(track): Set Tempo at byte \(at) is 0 microseconds per quarter note (an infinitely fast tempo)"
        }
    }
}
