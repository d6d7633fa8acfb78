import Foundation
import XCTest
@testable import Engine
import MIDI

final class OfflineRendererTests: XCTestCase {
    func testOutputLayout() throws {
        let input = try Fixtures.example("amazing_grace")
        XCTAssertEqual(OfflineRenderer.beatsPerBar(of: input), 3)
        let index = try OfflineRenderer.melodyTrackIndex(in: input, selector: nil)
        XCTAssertEqual(index, 1)
        let result = try OfflineRenderer.render(file: input, melodyTrack: index, engine: RulesEngine(), seed: 5, beatsPerBar: 3)
        let out = try MIDIFile(data: result.file.serialized())
        XCTAssertEqual(out.format, 1)
        XCTAssertEqual(out.tracks.count, 3)
        XCTAssertEqual(out.tracks[1], input.tracks[1], "the melody track is unchanged")
        XCTAssertEqual(out.tracks[2].name, "Accompaniment")
        XCTAssertEqual(out.tempoMap, input.tempoMap)
        XCTAssertEqual(out.timeSignatures, input.timeSignatures)
        XCTAssertEqual(out.tracks[2].notes.count, result.events.filter(\.isNoteOn).count)
        XCTAssertEqual(result.endStep % 24, 0, "ends on a bar line")
        // The accompaniment's channel differs from the melody's.
        let melodyChannels = Set(out.tracks[1].notes.map(\.channel))
        XCTAssertTrue(out.tracks[2].notes.allSatisfy { !melodyChannels.contains($0.channel) })
    }

    func testTrackSelection() throws {
        let input = try Fixtures.example("twinkle")
        XCTAssertEqual(try OfflineRenderer.melodyTrackIndex(in: input, selector: .name("melody")), 1)
        XCTAssertEqual(try OfflineRenderer.melodyTrackIndex(in: input, selector: .index(2)), 1)
        XCTAssertThrowsError(try OfflineRenderer.melodyTrackIndex(in: input, selector: .index(1))) {
            // Track 1 of a format-1 file with tempo and metre only: the conductor track, named as such.
            XCTAssertEqual($0 as? RenderError, .conductorTrack(.index(1), role: "melody"))
        }
        XCTAssertThrowsError(try OfflineRenderer.melodyTrackIndex(in: input, selector: .index(3)))
        XCTAssertThrowsError(try OfflineRenderer.melodyTrackIndex(in: input, selector: .name("Bass"))) {
            XCTAssertEqual("\($0)", "no track \"Bass\" in the file (tracks: 1 \"Conductor\", 2 \"Melody\")")
        }
        XCTAssertThrowsError(try OfflineRenderer.melodyTrackIndex(in: MIDIFile(tracks: [Track()]), selector: nil)) {
            XCTAssertEqual($0 as? RenderError, .noTrackWithNotes)
        }
    }

    /// A melody that runs past OfflineRenderer.maximumSteps (a stray note far after the music)
    /// is refused before any work; one just inside is accepted.
    func testLengthLimit() throws {
        var file = try Fixtures.example("twinkle")
        let ppq = file.ticksPerQuarter
        XCTAssertNoThrow(try OfflineRenderer.checkLength(file: file, melodyTrack: 1, beatsPerBar: 4))
        func withNote(atStep step: Int) -> MIDIFile {
            var f = file
            let tick = Grid.tick(ofStep: step, ticksPerQuarter: ppq)
            f.tracks[1].events.removeAll { if case .endOfTrack = $0.kind { return true } else { return false } }
            f.tracks[1].events += [TrackEvent(tick: tick, .noteOn(channel: 0, key: 60, velocity: 90)),
                                   TrackEvent(tick: tick + ppq, .noteOff(channel: 0, key: 60, velocity: 0))]
            return f
        }
        let limit = OfflineRenderer.maximumSteps
        // The render ends at the bar line after the last event: 32 steps per 4/4 bar.
        XCTAssertNoThrow(try OfflineRenderer.checkLength(file: withNote(atStep: limit - 64), melodyTrack: 1, beatsPerBar: 4))
        XCTAssertThrowsError(try OfflineRenderer.checkLength(file: withNote(atStep: limit), melodyTrack: 1, beatsPerBar: 4)) {
            guard case .tooLong(let steps, limit, 4)? = $0 as? RenderError else { return XCTFail("\($0)") }
            XCTAssertEqual(steps, limit + 32)
            XCTAssertTrue("\($0)".contains("bar \(steps / 32)"), "\($0)")
        }
        file = withNote(atStep: 500)
        XCTAssertThrowsError(try OfflineRenderer.checkLength(file: file, melodyTrack: 1, beatsPerBar: 4, limit: 256))
    }

    func testEventBufferDropsAndCountsPastCapacity() {
        let b = EventBuffer(capacity: 2)
        for i in 0..<5 { b.append(AccompanimentEvent(step: i, pitch: 60, velocity: 1)) }
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(b.dropped, 3)
        XCTAssertEqual(b[1].step, 1)
        b.removeAll()
        XCTAssertTrue(b.isEmpty)
    }
}
