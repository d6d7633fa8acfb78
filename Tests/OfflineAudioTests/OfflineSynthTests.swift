import Foundation
import MIDI
@testable import OfflineAudio
import SafeFiles
import XCTest

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

    /// Audio too long for a WAV file's 32-bit sizes is refused before anything is rendered or
    /// written, and a file already at the destination stays as it was.
    func testTooLongForWAVIsRefusedAndTouchesNothing() throws {
        guard let font = try? Soundfonts.resolve(nil) else { throw XCTSkip("no GM soundfont installed") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("long.wav")
        try Data("earlier".utf8).write(to: url)
        // 120 BPM, 480 PPQ: a note-off 7 hours in (25,200 s > the 6.76 h a 44.1 kHz stereo WAV holds).
        let sevenHours = 7 * 3600 * 2 * 480
        let file = MIDIFile(tracks: [Track(events: [
            TrackEvent(tick: 0, .noteOn(channel: 0, key: 60, velocity: 100)),
            TrackEvent(tick: sevenHours, .noteOff(channel: 0, key: 60, velocity: 0)),
        ])])
        XCTAssertThrowsError(try OfflineSynth.renderWAV(file, soundfont: font, to: url)) { error in
            guard case .tooLongForWAV(let seconds, 44_100)? = error as? SynthError else { return XCTFail("\(error)") }
            XCTAssertEqual(seconds, 25_202, accuracy: 1)
            XCTAssertTrue((error as! SynthError).description.contains("do not fit in a WAV file"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: url), Data("earlier".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["long.wav"], "no partial file left")
    }

    /// The WAV is written in pieces into a temporary file that replaces the destination at the
    /// end: the result is one complete file, no temporary file stays.
    func testWAVReplacesTheDestinationWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.wav")
        try Data(repeating: 7, count: 100_000).write(to: url)
        let samples = (0..<20_000).map { Int16(truncatingIfNeeded: $0 * 37) }
        try OfflineSynth.writeWAV(samples, channels: 2, sampleRate: 8000, to: url)
        let d = try Data(contentsOf: url)
        XCTAssertEqual(d.count, 44 + samples.count * 2)
        let body = d.dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }.map { Int16(littleEndian: $0) }
        XCTAssertEqual(body, samples)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.wav"])
        // A destination in a folder that does not exist: a clear error, nothing written.
        let missing = dir.appendingPathComponent("no/such/dir/x.wav")
        XCTAssertThrowsError(try OfflineSynth.writeWAV(samples, channels: 2, sampleRate: 8000, to: missing)) {
            guard let p = $0 as? FileProblem else { return XCTFail("\($0)") }
            XCTAssertEqual(p.path, missing.path)
            XCTAssertEqual(p.kind, .output)
        }
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
