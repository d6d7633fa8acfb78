import Foundation
import XCTest
@testable import Live
import MIDI

final class OfflineSynthTests: XCTestCase {
    func testSoundfontResolution() throws {
        XCTAssertThrowsError(try Soundfonts.resolve("/no/such/font.sf2")) {
            XCTAssertEqual($0 as? SynthError, .soundfontNotFound("/no/such/font.sf2"))
        }
        XCTAssertThrowsError(try Soundfonts.resolve(NSTemporaryDirectory())) {
            XCTAssertEqual($0 as? SynthError, .soundfontNotFound(NSTemporaryDirectory()))
        }
    }

    func testWAVHeaderAndSamples() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString).wav")
        defer { try? FileManager.default.removeItem(at: url) }
        try OfflineSynth.writeWAV([1, -2, 300, -32768], channels: 2, sampleRate: 8000, to: url)
        let d = try Data(contentsOf: url)
        XCTAssertEqual(d.count, 44 + 8)
        XCTAssertEqual(String(decoding: d.prefix(4), as: UTF8.self), "RIFF")
        func u32(_ at: Int) -> UInt32 { d[at..<at + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        func u16(_ at: Int) -> UInt16 { d[at..<at + 2].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) } }
        XCTAssertEqual(u32(4), 36 + 8)
        XCTAssertEqual(u16(22), 2)        // channels
        XCTAssertEqual(u32(24), 8000)     // sample rate
        XCTAssertEqual(u32(28), 32000)    // byte rate
        XCTAssertEqual(u16(34), 16)       // bits
        XCTAssertEqual(u32(40), 8)        // data bytes
        XCTAssertEqual(Int16(bitPattern: u16(48)), 300)
    }

    func testUnloadableSoundfontIsAnError() throws {
        let bogus = FileManager.default.temporaryDirectory.appendingPathComponent("bogus-\(UUID().uuidString).sf2")
        defer { try? FileManager.default.removeItem(at: bogus) }
        try Data("not a soundfont".utf8).write(to: bogus)
        let file = MIDIFile(tracks: [Track(events: [TrackEvent(tick: 0, .noteOn(channel: 0, key: 60, velocity: 100))])])
        XCTAssertThrowsError(try OfflineSynth.renderWAV(file, soundfont: bogus.path, to: bogus.appendingPathExtension("wav"))) {
            XCTAssertEqual($0 as? SynthError, .soundfontUnreadable(bogus.path))
        }
        XCTAssertThrowsError(try Soundfonts.resolve(bogus.path)) { XCTAssertEqual($0 as? SynthError, .soundfontUnreadable(bogus.path)) }
    }

    /// A note through a real soundfont makes sound; silence makes none.
    func testRendersSoundOnlyWhereNotesAre() throws {
        guard let font = try? Soundfonts.resolve(nil) else { throw XCTSkip("no GM soundfont installed") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString).wav")
        defer { try? FileManager.default.removeItem(at: url) }
        // 120 BPM, 480 PPQ: a note from 1.0 s to 1.5 s; nothing before.
        let file = MIDIFile(ticksPerQuarter: 480, tracks: [Track(events: [
            TrackEvent(tick: 960, .noteOn(channel: 0, key: 60, velocity: 110)),
            TrackEvent(tick: 1440, .noteOff(channel: 0, key: 60, velocity: 0)),
        ])])
        var options = OfflineSynth.Options()
        options.sampleRate = 16000
        options.tail = 0.5
        let frames = try OfflineSynth.renderWAV(file, soundfont: font, to: url, options: options)
        XCTAssertEqual(frames, 32000)
        let samples = try Data(contentsOf: url).dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        func rms(_ from: Double, _ to: Double) -> Double {
            let a = Int(from * 16000) * 2, b = Int(to * 16000) * 2
            return (samples[a..<b].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(b - a)).squareRoot()
        }
        XCTAssertLessThan(rms(0, 0.9), 1)
        XCTAssertGreaterThan(rms(1.0, 1.5), 200)
    }
}
