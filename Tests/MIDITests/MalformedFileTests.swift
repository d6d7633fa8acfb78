import Foundation
import XCTest
@testable import MIDI

/// A corpus of malformed files, each with the typed error it must give.
final class MalformedFileTests: XCTestCase {
    func expect(_ bytes: [UInt8], _ expected: MIDIFileError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try MIDIFile(data: Data(bytes)), file: file, line: line) { error in
            XCTAssertEqual(error as? MIDIFileError, expected, file: file, line: line)
            XCTAssertFalse("\(error)".isEmpty)
        }
    }

    let note: [UInt8] = [0, 0x90, 60, 100, 10, 0x80, 60, 0]

    func testEmptyAndNotMIDI() {
        expect([], .empty)
        expect(Array("RIFF....WAVEfmt ".utf8), .notMIDI(found: "\"RIFF\""))
        expect([0x00, 0x01, 0xFF, 0x7F, 0, 0, 0, 0], .notMIDI(found: "00 01 FF 7F"))
    }

    func testTruncatedHeader() {
        expect(Array(SMF.header(tracks: 1).prefix(10)), .truncatedHeader(available: 10))
    }

    func testTruncatedTrack() {
        let track = SMF.chunk("MTrk", note + SMF.endOfTrack)
        let bytes = SMF.header(tracks: 1) + track.prefix(track.count - 5)
        expect(bytes, .chunkTooLong(chunk: "MTrk", at: 14, declared: UInt32(note.count + 4), available: note.count + 4 - 5))
    }

    func testBogusLengthIsAnErrorNotAnAllocation() {
        // A 4 GB track in a file of a few dozen bytes.
        let bytes = SMF.header(tracks: 1) + SMF.chunk("MTrk", note + SMF.endOfTrack, declared: 0xFFFF_FFF0)
        expect(bytes, .chunkTooLong(chunk: "MTrk", at: 14, declared: 0xFFFF_FFF0, available: note.count + 4))
        // A meta event claiming more bytes than its track holds.
        let meta: [UInt8] = [0, 0xFF, 0x01, 0x8F, 0xFF, 0xFF, 0x7F, 1, 2, 3]
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", meta), .truncatedEvent(track: 1, at: 23))
    }

    func testRunningStatusAtStart() {
        let body: [UInt8] = [0, 60, 100] + SMF.endOfTrack
        expect(SMF.header(tracks: 2) + SMF.chunk("MTrk", SMF.endOfTrack) + SMF.chunk("MTrk", body),
               .runningStatusWithoutStatus(track: 2, at: 35))
        XCTAssertEqual(MIDIFileError.runningStatusWithoutStatus(track: 2, at: 1184).description,
                       "track 2: running status with no previous status at byte 1184")
    }

    func testUnterminatedSysex() {
        let body: [UInt8] = [0, 0xF0, 0x40, 0x7E, 0x01]
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", body), .unterminatedSysex(track: 1, at: 23, declared: 0x40))
    }

    func testEventCutByTheEndOfItsTrack() {
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0, 0x90, 60]), .truncatedEvent(track: 1, at: 25))
    }

    func testFormatsAndDivisions() {
        expect(SMF.header(format: 2, tracks: 1) + SMF.chunk("MTrk", SMF.endOfTrack), .format2Unsupported)
        expect(SMF.header(format: 7, tracks: 1) + SMF.chunk("MTrk", SMF.endOfTrack), .unsupportedFormat(7))
        expect(SMF.header(tracks: 1, division: 0xE728) + SMF.chunk("MTrk", SMF.endOfTrack), .smpteDivisionUnsupported)
        expect(SMF.header(tracks: 1, division: 0) + SMF.chunk("MTrk", SMF.endOfTrack), .zeroDivision)
    }

    func testMissingTracksAndBadBytes() {
        expect(SMF.header(tracks: 3) + SMF.chunk("MTrk", SMF.endOfTrack), .missingTracks(declared: 3, found: 1))
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0, 0xF4] + SMF.endOfTrack), .invalidStatus(track: 1, at: 23, byte: 0xF4))
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), .variableLengthTooLong(track: 1, at: 22))
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0, 0x90, 60, 0xC8]), .dataByteOutOfRange(track: 1, at: 25, byte: 0xC8))
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0, 0xFF, 0x51, 2, 7, 7]), .badMetaLength(track: 1, at: 23, type: 0x51, length: 2))
        expect(SMF.header(tracks: 1) + SMF.chunk("MTrk", [0, 0xFF, 0x51, 3, 0, 0, 0]), .zeroTempo(track: 1, at: 23))
        expect(SMF.header(tracks: 1) + [0x4D, 0x54], .truncatedChunkHeader(at: 14))
    }
}
