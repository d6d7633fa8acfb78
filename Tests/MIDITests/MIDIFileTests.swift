import Foundation
import XCTest
@testable import MIDI

/// Builds SMF bytes by hand, so that tests can state exactly what is in a file.
enum SMF {
    static func header(format: UInt16 = 1, tracks: UInt16, division: UInt16 = 480) -> [UInt8] {
        Array("MThd".utf8) + [0, 0, 0, 6] + be16(format) + be16(tracks) + be16(division)
    }
    static func chunk(_ id: String, _ body: [UInt8], declared: UInt32? = nil) -> [UInt8] {
        let n = declared ?? UInt32(body.count)
        return Array(id.utf8) + [UInt8(n >> 24), UInt8((n >> 16) & 255), UInt8((n >> 8) & 255), UInt8(n & 255)] + body
    }
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 255)] }
    static let endOfTrack: [UInt8] = [0, 0xFF, 0x2F, 0]
}

final class MIDIFileTests: XCTestCase {
    func sampleFile() -> MIDIFile {
        MIDIFile(format: 1, ticksPerQuarter: 96, tracks: [
            Track(events: [
                TrackEvent(tick: 0, .trackName("Conductor")),
                TrackEvent(tick: 0, .tempo(microsecondsPerQuarter: 500_000)),
                TrackEvent(tick: 0, .timeSignature(numerator: 3, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8)),
                TrackEvent(tick: 384, .tempo(microsecondsPerQuarter: 400_000)),
                TrackEvent(tick: 400, .meta(type: 0x59, data: [0xFE, 0])),
                TrackEvent(tick: 500, .endOfTrack),
            ]),
            Track(events: [
                TrackEvent(tick: 0, .trackName("Melody")),
                TrackEvent(tick: 0, .programChange(channel: 2, program: 73)),
                TrackEvent(tick: 0, .controlChange(channel: 2, controller: 7, value: 100)),
                TrackEvent(tick: 10, .noteOn(channel: 2, key: 60, velocity: 90)),
                TrackEvent(tick: 50, .pitchBend(channel: 2, value: 9000)),
                TrackEvent(tick: 96, .noteOff(channel: 2, key: 60, velocity: 64)),
                TrackEvent(tick: 96, .noteOn(channel: 2, key: 62, velocity: 80)),
                TrackEvent(tick: 100, .polyPressure(channel: 2, key: 62, pressure: 5)),
                TrackEvent(tick: 101, .channelPressure(channel: 2, pressure: 7)),
                TrackEvent(tick: 100_000, .noteOff(channel: 2, key: 62, velocity: 0)),
                TrackEvent(tick: 100_000, .endOfTrack),
            ]),
        ])
    }

    func testRoundTripKeepsEveryEvent() throws {
        let file = sampleFile()
        let again = try MIDIFile(data: file.serialized())
        XCTAssertEqual(again, file)
        XCTAssertEqual(try MIDIFile(data: again.serialized()).serialized(), file.serialized())
    }

    func testWriterAddsEndOfTrack() throws {
        let file = MIDIFile(format: 0, ticksPerQuarter: 480, tracks: [Track(events: [TrackEvent(tick: 5, .noteOn(channel: 0, key: 1, velocity: 1))])])
        let read = try MIDIFile(data: file.serialized())
        XCTAssertEqual(read.format, 0)
        XCTAssertEqual(read.tracks[0].events.last, TrackEvent(tick: 5, .endOfTrack))
    }

    func testRunningStatusAndZeroVelocityNoteOn() throws {
        // 90 3C 64 | (running) 3C 00 | (running) 3E 50 | 80 3E 40
        let body: [UInt8] = [0, 0x90, 0x3C, 0x64, 0x60, 0x3C, 0x00, 0, 0x3E, 0x50, 0x60, 0x80, 0x3E, 0x40] + SMF.endOfTrack
        let file = try MIDIFile(data: Data(SMF.header(format: 0, tracks: 1, division: 96) + SMF.chunk("MTrk", body)))
        XCTAssertEqual(file.tracks[0].events.map(\.kind), [
            .noteOn(channel: 0, key: 60, velocity: 100), .noteOff(channel: 0, key: 60, velocity: 64),
            .noteOn(channel: 0, key: 62, velocity: 80), .noteOff(channel: 0, key: 62, velocity: 64), .endOfTrack,
        ])
        XCTAssertEqual(file.tracks[0].notes, [Note(key: 60, velocity: 100, startTick: 0, endTick: 96),
                                              Note(key: 62, velocity: 80, startTick: 96, endTick: 192)])
    }

    func testSysexAndUnknownChunksAreSkipped() throws {
        let body: [UInt8] = [0, 0xF0, 3, 0x7E, 0x01, 0xF7, 0, 0x90, 60, 100, 10, 0xF7, 1, 0x00, 10, 0x80, 60, 0] + SMF.endOfTrack
        let bytes = SMF.header(tracks: 1) + SMF.chunk("XFIH", [1, 2, 3, 4, 5]) + SMF.chunk("MTrk", body) + SMF.chunk("JUNK", [9])
        let file = try MIDIFile(data: Data(bytes))
        XCTAssertEqual(file.tracks.count, 1)
        XCTAssertEqual(file.tracks[0].notes, [Note(key: 60, velocity: 100, startTick: 0, endTick: 20)])
    }

    func testUnclosedNoteEndsAtLastTickAndOverlapsPairFirstInFirstOut() {
        let t = Track(events: [
            TrackEvent(tick: 0, .noteOn(channel: 0, key: 60, velocity: 10)),
            TrackEvent(tick: 5, .noteOn(channel: 0, key: 60, velocity: 20)),
            TrackEvent(tick: 7, .noteOff(channel: 0, key: 60, velocity: 0)),
            TrackEvent(tick: 9, .noteOn(channel: 0, key: 61, velocity: 30)),
            TrackEvent(tick: 12, .noteOff(channel: 0, key: 60, velocity: 0)),
            TrackEvent(tick: 20, .endOfTrack),
        ])
        XCTAssertEqual(t.notes, [Note(key: 60, velocity: 10, startTick: 0, endTick: 7),
                                 Note(key: 60, velocity: 20, startTick: 5, endTick: 12),
                                 Note(key: 61, velocity: 30, startTick: 9, endTick: 20)])
    }

    /// Random corruptions of a valid file never crash or hang: each read throws or returns.
    func testMutatedFilesNeverCrash() {
        let valid = [UInt8](sampleFile().serialized())
        var rng = SystemRandomNumberGenerator()
        var threw = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.removeLast(Int.random(in: 0..<min(20, bytes.count), using: &rng))
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                }
            }
            do { _ = try MIDIFile(data: Data(bytes)) } catch { threw += 1 }
        }
        XCTAssertGreaterThan(threw, 100)  // most corruptions are caught
    }
}
