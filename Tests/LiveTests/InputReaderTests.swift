import Foundation
@testable import Live
import Realtime
import XCTest

/// The reader's work without a sequencer: what it plays at once, what it hands on, what it measures.
final class InputReaderTests: XCTestCase {
    struct Setup {
        let clock = SimulatedClock()
        let synth: RecordingOutput
        let port: RecordingOutput
        let engine = SPSCRing<InputEvent>(capacity: 64)
        let reader: InputReader
        init(panicNote: Int = -1, split: Int = -1, chordChannel: Int = -1, leftHandSound: Bool = false) {
            let c = clock
            synth = RecordingOutput(name: "synth", clock: { c.now })
            port = RecordingOutput(name: "output port", clock: { c.now })
            var s = InputReader.Settings()
            s.panicNote = panicNote
            s.splitNote = split
            s.chordChannel = chordChannel
            s.leftHandSound = leftHandSound
            reader = InputReader(settings: s, passthrough: [.init(synth), .init(port)], ownClient: 128,
                                 engineInput: engine, clock: { c.now })
        }
        func drainEngine() -> [InputEvent] { var out: [InputEvent] = []; while let e = engine.pop() { out.append(e) }; return out }
    }

    func testAKeyIsPlayedAtOnceAndItsLatencyMeasured() {
        let t = Setup()
        t.clock.now = 1_000_250_000
        t.reader.handle(.note(true, channel: 0, pitch: 64, velocity: 99, time: 1_000_000_000, client: 20, port: 0))
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 64, velocity: 99)])
        XCTAssertEqual(t.synth.records.first?.path, .passthrough)
        XCTAssertEqual(t.port.records.map(\.event), [.note(channel: 0, pitch: 64, velocity: 99)])
        XCTAssertEqual(t.drainEngine().map(\.pitch), [64], "the engine hears it too")
        for p in t.reader.passthrough {
            let s = p.latency.summary()
            XCTAssertEqual(s.count, 1)
            XCTAssertEqual(s.max, 0.25, accuracy: 1e-9, "\(p.latency.name): timestamp → call")
            XCTAssertEqual(s.p50, 0.25, accuracy: 0.25 * 0.03)
        }
        XCTAssertEqual(t.reader.passthrough.map(\.latency.name), ["melody → synth", "melody → output port"])
    }

    func testPanicEndsTheHeldMelodyAndTellsTheEngine() {
        let t = Setup()
        t.reader.handle(.note(true, channel: 0, pitch: 60, velocity: 80, time: 0, client: 20))
        t.reader.handle(.note(true, channel: 2, pitch: 67, velocity: 80, time: 0, client: 21))
        t.reader.handle(.controller(120, value: 0, channel: 0, time: 5))
        XCTAssertEqual(t.synth.records.map(\.event).suffix(2), [.note(channel: 0, pitch: 60, velocity: 0), .note(channel: 2, pitch: 67, velocity: 0)])
        XCTAssertFalse(t.port.records.contains { if case .controller = $0.event { return true } else { return false } }, "the panic controller is not passed on")
        XCTAssertEqual(t.drainEngine().map(\.kind), [.noteOn, .noteOn, .panic])
    }

    func testPanicNote() {
        let t = Setup(panicNote: 21)
        t.reader.handle(.note(true, channel: 0, pitch: 60, velocity: 80, time: 0))
        t.reader.handle(.note(true, channel: 0, pitch: 21, velocity: 80, time: 1))
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 60, velocity: 80), .note(channel: 0, pitch: 60, velocity: 0)])
        XCTAssertEqual(t.drainEngine().map(\.kind), [.noteOn, .panic])
    }

    func testAVanishedKeyboardReleasesOnlyItsOwnNotes() {
        let t = Setup()
        t.reader.handle(.note(true, channel: 0, pitch: 60, velocity: 80, time: 0, client: 20, port: 0))
        t.reader.handle(.note(true, channel: 0, pitch: 62, velocity: 80, time: 0, client: 24, port: 0))
        _ = t.drainEngine()
        t.reader.handle(.releaseSource(client: 20, port: 0), now: 777)
        XCTAssertEqual(t.synth.records.last?.event, .note(channel: 0, pitch: 60, velocity: 0))
        let handed = t.drainEngine()
        XCTAssertEqual(handed.map(\.kind), [.noteOff])
        XCTAssertEqual(handed.first?.pitch, 60)
        XCTAssertEqual(handed.first?.time, 777)
        t.reader.releaseAll()
        XCTAssertEqual(t.synth.records.last?.event, .note(channel: 0, pitch: 62, velocity: 0), "at stop the rest ends")
    }

    func testPedalsPassThroughClocksGoToTheEngineAnnouncementsToTheControlThread() {
        let t = Setup()
        t.reader.handle(.controller(64, value: 127, channel: 0, time: 0))
        XCTAssertEqual(t.synth.records.map(\.event), [.controller(channel: 0, number: 64, value: 127)])
        t.reader.handle(.transport(.start, time: 1))
        t.reader.handle(.transport(.clock, time: 2))
        XCTAssertEqual(t.drainEngine().map(\.kind), [.start, .clock])
        var gone = InputEvent()
        gone.kind = .portExit
        gone.client = 20
        t.reader.handle(gone)
        gone.client = 128  // our own port: not news
        t.reader.handle(gone)
        XCTAssertEqual(t.reader.announcements.count, 1)
    }

    func testAFloodIsCountedNotBlocked() {
        let t = Setup()
        for i in 0..<100 { t.reader.handle(.note(i % 2 == 0, channel: 0, pitch: 60, velocity: 90, time: Int64(i))) }
        XCTAssertEqual(t.engine.count, 64)
        XCTAssertEqual(t.reader.dropped.load(ordering: .relaxed), 36)
    }

    // MARK: - The left hand (docs/harmony.md, "Live: split point, chord channel and chart")

    /// (kind, pitch) of what the engine thread was handed.
    func handed(_ t: Setup) -> [String] { t.drainEngine().map { "\($0.kind) \($0.pitch)" } }

    func testKeysBelowTheSplitAreTheLeftHandAndNotPassedThroughByDefault() {
        let t = Setup(split: 54)  // F#3
        t.reader.handle(.note(true, channel: 0, pitch: 48, velocity: 70, time: 0, client: 20))
        t.reader.handle(.note(true, channel: 0, pitch: 54, velocity: 80, time: 0, client: 20))
        t.reader.handle(.note(false, channel: 0, pitch: 48, time: 1, client: 20))
        t.reader.handle(.note(false, channel: 0, pitch: 54, time: 1, client: 20))
        XCTAssertEqual(handed(t), ["leftHandOn 48", "noteOn 54", "leftHandOff 48", "noteOff 54"], "the split note itself is melody")
        for out in [t.synth, t.port] {
            XCTAssertEqual(out.records.map(\.event), [.note(channel: 0, pitch: 54, velocity: 80), .note(channel: 0, pitch: 54, velocity: 0)],
                           "\(out.name): only the melody sounds")
        }
        XCTAssertEqual(t.reader.passthrough.map { $0.latency.summary().count }, [1, 1], "the latency is the melody's")
    }

    func testLeftHandSoundPassesTheLeftHandThrough() {
        let t = Setup(split: 54, leftHandSound: true)
        t.reader.handle(.note(true, channel: 0, pitch: 48, velocity: 70, time: 0, client: 20))
        t.reader.handle(.note(false, channel: 0, pitch: 48, time: 1, client: 20))
        XCTAssertEqual(handed(t), ["leftHandOn 48", "leftHandOff 48"], "still chord keys for the engine")
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 48, velocity: 70), .note(channel: 0, pitch: 48, velocity: 0)])
        XCTAssertEqual(t.port.records.count, 2)
    }

    func testEveryNoteOnTheChordChannelIsTheLeftHand() {
        let t = Setup(chordChannel: 1)  // channel 2
        t.reader.handle(.note(true, channel: 1, pitch: 84, velocity: 70, time: 0, client: 24))
        t.reader.handle(.note(true, channel: 0, pitch: 40, velocity: 70, time: 0, client: 20))
        t.reader.handle(.note(false, channel: 1, pitch: 84, time: 1, client: 24))
        XCTAssertEqual(handed(t), ["leftHandOn 84", "noteOn 40", "leftHandOff 84"])
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 40, velocity: 70)])
    }

    /// A note-off goes where its note-on went, even when the routing has changed meanwhile: a key
    /// struck as a chord key is let go as one (and the other way round), so neither the left hand
    /// nor the melody keeps a key held forever, and a silent key gets no stray note-off.
    func testANoteOffIsRoutedLikeItsNoteOn() {
        let t = Setup(split: 60)
        t.reader.handle(.note(true, channel: 0, pitch: 55, velocity: 70, time: 0, client: 20))  // left hand
        t.reader.routing.splitNote = 50
        t.reader.handle(.note(true, channel: 0, pitch: 52, velocity: 70, time: 1, client: 20))  // melody now
        t.reader.routing.splitNote = 60
        t.reader.handle(.note(false, channel: 0, pitch: 55, time: 2, client: 20))
        t.reader.handle(.note(false, channel: 0, pitch: 52, time: 2, client: 20))
        XCTAssertEqual(handed(t), ["leftHandOn 55", "noteOn 52", "leftHandOff 55", "noteOff 52"])
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 52, velocity: 70), .note(channel: 0, pitch: 52, velocity: 0)])
        // A note-off whose note-on was never seen (held before the daemon started) goes by the rule.
        t.reader.handle(.note(false, channel: 0, pitch: 40, time: 3, client: 20))
        XCTAssertEqual(handed(t), ["leftHandOff 40"])
        XCTAssertEqual(t.synth.records.count, 2)
    }

    /// Panic ends the sounding keys on the passthrough (not the silent chord keys) and tells the
    /// engine, which lets go of the left hand; a vanished keyboard's chord keys are let go as
    /// left-hand keys.
    func testPanicAndAVanishedKeyboardLetGoOfTheLeftHand() {
        let t = Setup(split: 60)
        t.reader.handle(.note(true, channel: 0, pitch: 48, velocity: 70, time: 0, client: 20))
        t.reader.handle(.note(true, channel: 0, pitch: 72, velocity: 70, time: 0, client: 20))
        t.reader.handle(.controller(120, value: 0, channel: 0, time: 5))
        XCTAssertEqual(t.synth.records.map(\.event), [.note(channel: 0, pitch: 72, velocity: 70), .note(channel: 0, pitch: 72, velocity: 0)],
                       "the silent chord key gets no note-off")
        XCTAssertEqual(handed(t), ["leftHandOn 48", "noteOn 72", "panic 0"])
        t.reader.handle(.note(true, channel: 0, pitch: 50, velocity: 70, time: 6, client: 22))
        t.reader.handle(.note(true, channel: 0, pitch: 74, velocity: 70, time: 6, client: 22))
        _ = t.drainEngine()
        t.reader.handle(.releaseSource(client: 22, port: 0), now: 9)
        XCTAssertEqual(handed(t), ["leftHandOff 50", "noteOff 74"])
        XCTAssertEqual(t.synth.records.last?.event, .note(channel: 0, pitch: 74, velocity: 0))
        XCTAssertEqual(t.synth.records.count, 4, "72 on and off, 74 on and off")
    }

    /// A panic note below the split is still the panic key.
    func testThePanicNoteWinsOverTheSplit() {
        let t = Setup(panicNote: 21, split: 60)
        t.reader.handle(.note(true, channel: 0, pitch: 21, velocity: 70, time: 0))
        XCTAssertEqual(t.drainEngine().map(\.kind), [.panic])
    }
}
