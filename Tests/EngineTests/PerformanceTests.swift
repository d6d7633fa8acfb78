import Harmony
import Tokens
import XCTest
@testable import Engine

/// `Performance`, the one per-step driver: the order of a step, the ledger on its output, and a
/// silence.
final class PerformanceTests: XCTestCase {
    /// Logs every call it gets; plays a note at each step it is told to, held until told.
    final class LoggingEngine: AccompanimentEngine {
        var log: [String] = []
        var strike: [Int: UInt8] = [:]
        func reset(seed: UInt64) { log.append("reset \(seed)") }
        func melodyNoteOn(pitch: Int, velocity: Int, step: Int) { log.append("on \(pitch)@\(step)") }
        func melodyNoteOff(pitch: Int, step: Int) { log.append("off \(pitch)@\(step)") }
        func generate(step: Int, into out: EventBuffer) {
            log.append("generate \(step)")
            if let p = strike[step] { out.append(AccompanimentEvent(step: step, pitch: p, velocity: 90)) }
        }
        func allNotesOff(step: Int, into out: EventBuffer) { log.append("all off \(step)") }
        var droppedMelodyEvents: Int { 0 }
        func chordHint(_ chord: ChordSymbol?, step: Int) { log.append("hint \(chord?.description ?? "none")@\(step)") }
    }

    final class Hooks: PerformanceHooks {
        let engine: LoggingEngine
        init(_ engine: LoggingEngine) { self.engine = engine }
        func hintGiven(_ hint: ChordHint) { engine.log.append("hook hint") }
        func willGenerate(step s: Int, engine: AccompanimentEngine) { self.engine.log.append("hook plan \(s)") }
    }

    func testAStepIsHintThenPlanThenGenerateThenLedger() {
        let engine = LoggingEngine()
        engine.strike = [1: 60]
        let leftHand = LeftHand()
        let p = Performance(engine: engine, leftHand: leftHand, maxNoteSteps: 3)
        p.reset(seed: 5)
        p.melodyNoteOn(pitch: 72, velocity: 80, step: 0)
        for k in [48, 52, 55] { p.leftHandKeyOn(pitch: k, step: 0) }  // C major, struck at step 0
        let hooks = Hooks(engine)
        XCTAssertEqual(p.step(0, hooks: hooks).count, 0)
        let one = p.step(1, hooks: hooks).events
        XCTAssertEqual(one, [AccompanimentEvent(step: 1, pitch: 60, velocity: 90)])
        XCTAssertTrue(p.isSounding(60))
        _ = p.step(2, hooks: hooks)
        _ = p.step(3, hooks: hooks)
        // The ledger ends the note three steps after it began, before the engine's events.
        XCTAssertEqual(p.step(4, hooks: hooks).events, [AccompanimentEvent(step: 4, pitch: 60, velocity: 0)])
        XCTAssertFalse(p.isSounding(60))
        XCTAssertEqual(Array(engine.log.prefix(8)),
                       ["reset 5", "on 72@0", "hook plan 0", "generate 0", "hint C@0", "hook hint", "hook plan 1", "generate 1"],
                       "the left hand's hint of the keys before the step (step 1 hears step 0's chord), then the plan, then the engine")
    }

    func testEndAndSilence() {
        let engine = LoggingEngine()
        engine.strike = [0: 64, 1: 67]
        let p = Performance(engine: engine, maxNoteSteps: 0)
        p.reset(seed: 1)
        struct Nothing: PerformanceHooks {}
        _ = p.step(0, hooks: Nothing())
        _ = p.step(1, hooks: Nothing())
        XCTAssertEqual(p.end(step: 8).events, [AccompanimentEvent(step: 8, pitch: 64, velocity: 0), AccompanimentEvent(step: 8, pitch: 67, velocity: 0)])
        XCTAssertEqual(engine.log.last, "all off 8")
        XCTAssertFalse(p.isSounding(64))
        _ = p.step(9, hooks: Nothing())
        engine.strike = [10: 70]
        _ = p.step(10, hooks: Nothing())
        XCTAssertTrue(p.isSounding(70))
        p.silence(step: 11)
        XCTAssertFalse(p.isSounding(70), "a silence forgets every note")
        XCTAssertEqual(engine.log.last, "all off 11")
    }
}
