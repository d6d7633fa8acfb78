import Foundation
import XCTest
import MIDI

/// The `accompanist` binary, run as a user runs it.
final class RenderCommandTests: XCTestCase {
    static let repository = CLIPaths.repository
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("accompanist-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: temp) }

    func accompanist(_ args: [String]) throws -> CLIResult { try runAccompanist(args) }

    func example(_ name: String) -> String { Self.repository.appendingPathComponent("Examples/\(name).mid").path }
    var tinyModel: String { Self.repository.appendingPathComponent("Tests/Fixtures/model/tiny.safetensors").path }

    func testRenderEndToEnd() throws {
        let out1 = temp.appendingPathComponent("a.mid").path, out2 = temp.appendingPathComponent("b.mid").path
        let r = try accompanist(["render", example("ode_to_joy"), "-o", out1, "--seed", "7", "--engine", "rules"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try accompanist(["render", example("ode_to_joy"), "-o", out2, "--seed", "7", "--engine", "rules"]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out1)), try Data(contentsOf: URL(fileURLWithPath: out2)), "same input and seed: same bytes")

        let input = try MIDIFile(contentsOf: URL(fileURLWithPath: example("ode_to_joy")))
        let output = try MIDIFile(contentsOf: URL(fileURLWithPath: out1))
        XCTAssertEqual(output.format, 1)
        XCTAssertEqual(output.tracks[1].notes, input.tracks[1].notes, "melody preserved note for note")
        XCTAssertEqual(output.tracks[2].name, "Accompaniment")
        XCTAssertGreaterThan(output.tracks[2].notes.count, 100)
        XCTAssertEqual(output.tempoMap, input.tempoMap)

        let other = temp.appendingPathComponent("c.mid").path
        XCTAssertEqual(try accompanist(["render", example("ode_to_joy"), "-o", other, "--seed", "8", "--pattern", "broken", "--engine", "rules"]).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: other)), try Data(contentsOf: URL(fileURLWithPath: out1)))
    }

    /// The model engine end to end (the tiny random model of the parity fixtures): a valid file,
    /// deterministic for a seed, and fp16 weights load too.
    func testRenderWithTheModelEngine() throws {
        let a = temp.appendingPathComponent("m1.mid").path, b = temp.appendingPathComponent("m2.mid").path
        let r = try accompanist(["render", example("twinkle"), "-o", a, "--engine", "model", "--model", tinyModel, "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("x real time"), r.stderr)
        XCTAssertEqual(try accompanist(["render", example("twinkle"), "-o", b, "--model", tinyModel, "--seed", "3"]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        let output = try MIDIFile(contentsOf: URL(fileURLWithPath: a))
        XCTAssertEqual(output.tracks[2].name, "Accompaniment")
        XCTAssertGreaterThan(output.tracks[2].notes.count, 10)
        let half = temp.appendingPathComponent("m3.mid").path
        XCTAssertEqual(try accompanist(["render", example("twinkle"), "-o", half, "--model", tinyModel, "--precision", "fp16", "--temperature", "0"]).status, 0)
    }

    func testWavIsRenderedAndNotSilent() throws {
        let soundfonts = ["/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2"]
        guard soundfonts.contains(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("no GM soundfont installed (scripts/setup.sh installs timgm6mb-soundfont)")
        }
        let wav = temp.appendingPathComponent("out.wav")
        let r = try accompanist(["render", example("twinkle"), "-o", temp.appendingPathComponent("t.mid").path, "--wav", wav.path, "--sample-rate", "22050", "--engine", "rules"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let data = try Data(contentsOf: wav)
        XCTAssertEqual(String(decoding: data.prefix(4), as: UTF8.self), "RIFF")
        XCTAssertEqual(String(decoding: data[8..<12], as: UTF8.self), "WAVE")
        let samples = data.dropFirst(44).withUnsafeBytes { raw in Array(raw.bindMemory(to: Int16.self)) }
        // 12 bars at 100 BPM (28.8 s), plus the 2 s tail, of stereo audio.
        XCTAssertEqual(Double(samples.count) / 2 / 22050, 30.8, accuracy: 0.1)
        let rms = (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
        XCTAssertGreaterThan(rms, 100, "audio is not silent")
    }

    /// Each bad input: one clear line on stderr and a non-zero exit.
    func testBadInputGivesOneLineAndNonZeroExit() throws {
        let notMIDI = temp.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: notMIDI)
        let truncated = temp.appendingPathComponent("cut.mid")
        try Data(contentsOf: URL(fileURLWithPath: example("twinkle"))).prefix(60).write(to: truncated)
        // A stray note ~60 hours after the music (at 120 BPM): a damaged file, refused at once.
        var stray = try MIDIFile(contentsOf: URL(fileURLWithPath: example("twinkle")))
        stray.tracks[1].events.removeAll { if case .endOfTrack = $0.kind { return true } else { return false } }
        let far = 2_000_000 / 8 * stray.ticksPerQuarter
        stray.tracks[1].events += [TrackEvent(tick: far, .noteOn(channel: 0, key: 60, velocity: 90)),
                                   TrackEvent(tick: far + 10, .noteOff(channel: 0, key: 60, velocity: 0))]
        let damaged = temp.appendingPathComponent("stray.mid")
        try stray.serialized().write(to: damaged)
        let out = temp.appendingPathComponent("o.mid").path
        let cases: [([String], String)] = [
            (["render", damaged.path, "-o", out, "--engine", "rules"], "stray.mid: the melody runs to bar 62500 (grid step 2000000), past the 1000000 steps"),
            (["render", temp.appendingPathComponent("missing.mid").path, "-o", out], "no such file"),
            (["render", temp.path, "-o", out], "is a directory"),
            (["render", notMIDI.path, "-o", out], "not a Standard MIDI File"),
            (["render", truncated.path, "-o", out], "cut.mid: truncated chunk header at byte 54"),
            (["render", example("twinkle"), "-o", out, "--melody-track", "1"], "is the file's conductor track"),
            (["render", example("twinkle"), "-o", out, "--melody-track", "Strings"], "no track \"Strings\""),
            (["render", example("twinkle"), "-o", out, "--bpm", "-3"], "--bpm"),
            (["render", example("twinkle"), "-o", out, "--seed", "banana"], "seed"),
            (["render", example("twinkle"), "-o", out, "--engine", "magic"], "engine"),
            (["render", example("twinkle"), "-o", out, "--engine", "model", "--model", "/no/model.safetensors"], "no model found"),
            (["render", example("twinkle"), "-o", out, "--engine", "model", "--model", notMIDI.path], "cannot load the model"),
            (["render", example("twinkle"), "-o", out, "--temperature", "5"], "--temperature"),
            (["render", example("twinkle"), "-o", out, "--max-note-beats", "0"], "--max-note-beats (engine.max_note_beats): must be between 1 and 64, got 0"),
            (["render", example("twinkle"), "-o", out, "--seed", "18446744073709551615"], "--seed (engine.seed): must be between 0 and 9223372036854775807"),
            (["render", example("twinkle"), "-o", out, "--wav", temp.appendingPathComponent("x.wav").path, "--soundfont", "/nonexistent.sf2"], "soundfont not found"),
            (["render", example("twinkle"), "-o", temp.appendingPathComponent("no/such/dir/o.mid").path, "--engine", "rules"], "does not exist"),
            (["render", example("twinkle"), "-o", out, "--wav", temp.appendingPathComponent("y.wav").path, "--soundfont", notMIDI.path], "could not load the soundfont"),
        ]
        for (args, fragment) in cases {
            let r = try accompanist(args)
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(fragment), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written on error")
        }
    }

    /// `--hindsight` (docs/hindsight.md): two passes, the chords estimated from the whole melody
    /// then followed as a chart, so the same render with `--chart` of the chart it wrote is
    /// byte-identical; its options are refused without it, and a missing or foreign model is one line.
    func testHindsightIsTheChartItEstimates() throws {
        let model = Self.repository.appendingPathComponent("Tests/Fixtures/hindsight/tiny.safetensors").path
        let chart = temp.appendingPathComponent("estimated.chart").path
        let a = temp.appendingPathComponent("hindsight.mid").path, b = temp.appendingPathComponent("charted.mid").path
        let r = try accompanist(["render", example("twinkle"), "-o", a, "--engine", "rules", "--hindsight",
                                 "--hindsight-model", model, "--hindsight-chart", chart])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("hindsight: "), r.stderr)
        let text = try String(contentsOfFile: chart, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# chords estimated by accompanist render --hindsight"), text)
        let r2 = try accompanist(["render", example("twinkle"), "-o", b, "--engine", "rules", "--chart", chart])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        let plain = temp.appendingPathComponent("plain.mid").path
        XCTAssertEqual(try accompanist(["render", example("twinkle"), "-o", plain, "--engine", "rules"]).status, 0)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: plain)),
                          "the estimated chords change the render")

        let other = Self.repository.appendingPathComponent("Tests/Fixtures/model/tiny.safetensors").path
        let cases: [([String], String, Int32)] = [
            (["--hindsight", "--chart", chart], "--hindsight estimates the chords itself", 64),
            (["--hindsight-chart", chart], "only used with --hindsight", 64),
            (["--hindsight-model", model], "only used with --hindsight, --memory or the model engine's repeats", 64),
            (["--hindsight", "--hindsight-model", "/no/such.safetensors"], "no hindsight chord model found", 66),
            (["--hindsight", "--hindsight-model", other], "is not a hindsight chord model", 65),
        ]
        try assertRefused(cases)
    }

    /// Each case (render options on twinkle with the rules engine) fails with its exit status and
    /// one line containing the fragment, and writes nothing.
    func assertRefused(_ cases: [([String], String, Int32)], file: StaticString = #filePath, line: UInt = #line) throws {
        for (extra, fragment, status) in cases {
            let o = temp.appendingPathComponent("x.mid").path
            let r = try accompanist(["render", example("twinkle"), "-o", o, "--engine", "rules"] + extra)
            XCTAssertEqual(r.status, status, "\(extra): \(r.stderr)", file: file, line: line)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(extra): \(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stderr.contains(fragment), "\(extra): \(r.stderr)", file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: o), "nothing written on error", file: file, line: line)
        }
    }

    /// Ode to Joy's chords, a bar each ("A D": two half bars), as the VM tests play them.
    static let odeBars = ["D", "A", "D", "A", "D", "A", "D", "A D", "A D", "A D", "A D", "G A", "D", "A", "D", "A D"]
    var odeChart: URL {
        let url = temp.appendingPathComponent("ode.chart")
        try? Data(("| " + Self.odeBars.map { $0.split(separator: " ").count == 2 ? $0.replacingOccurrences(of: " ", with: " / ") + " /" : $0 }
            .joined(separator: " | ") + " |\n").utf8).write(to: url)
        return url
    }

    /// The chart's chord (pitch classes) at a step.
    func odeTones(at step: Int) -> Set<Int> {
        let cells = Self.odeBars[min(step / 32, Self.odeBars.count - 1)].split(separator: " ")
        let name = cells.count == 2 && step % 32 >= 16 ? cells[1] : cells[0]
        return ["D": [2, 6, 9], "A": [9, 1, 4], "G": [7, 11, 2]][String(name)]!
    }

    /// One rules render with --events and --memory: its note-ons.
    func memoryRender(_ input: String, memory: String, _ extra: [String], _ name: String) throws -> (CLIResult, [(step: Int, pitch: Int)]) {
        let events = temp.appendingPathComponent(name + ".jsonl").path
        let r = try accompanist(["render", input, "-o", temp.appendingPathComponent(name + ".mid").path, "--engine", "rules",
                                 "--events", events, "--memory", memory] + extra)
        guard r.status == 0 else { return (r, []) }
        let notes = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").compactMap { line -> (Int, Int)? in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int], (o["velocity"] ?? 0) > 0 else { return nil }
            return (o["step"]!, o["pitch"]!)
        }
        return (r, notes.map { (step: $0.0, pitch: $0.1) })
    }

    /// `--memory` (docs/memory.md): a take played with a chart teaches a second take, melody only,
    /// its chords; a damaged file in the memory is one warning and the render goes on;
    /// `accompanist memory list|show|forget` manage the takes.
    func testMemoryTeachesASecondTake() throws {
        let mem = temp.appendingPathComponent("memory").path
        let song = example("ode_to_joy")
        let (one, _) = try memoryRender(song, memory: mem, ["--chart", odeChart.path], "take1")
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stderr.contains("memory: stored take") && one.stderr.contains("chords from chart"), one.stderr)
        let (two, notes) = try memoryRender(song, memory: mem, [], "take2")
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stderr.contains("recognized as take"), two.stderr)
        // One summary line: how many beats from the recognition on were planned from the memory.
        let summary = two.stderr.split(separator: "\n").first { $0.contains("beats from bar") && $0.contains("were planned from stored takes") }
        let counts = summary.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        XCTAssertEqual(counts.count, 3, "memory: N of the M beats from bar B on were planned from stored takes\n\(two.stderr)")
        if counts.count == 3 { XCTAssertTrue(counts[0] > 0 && counts[0] <= counts[1], String(summary ?? "")) }
        // Once two bars are heard, the chart's chords from the beat after the next (the lead).
        let late = notes.filter { $0.step >= 72 }
        XCTAssertGreaterThan(late.count, 40)
        for n in late { XCTAssertTrue(odeTones(at: n.step).contains(n.pitch % 12), "pitch \(n.pitch) at step \(n.step)") }
        let (plain, plainNotes) = try memoryRender(song, memory: temp.appendingPathComponent("empty").path, [], "plain")
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plainNotes.contains { $0.step >= 64 && !odeTones(at: $0.step).contains($0.pitch % 12) },
                      "without the memory the rules engine strays from the chart (else this test proves nothing)")

        let list = try accompanist(["memory", "list", "--memory", mem])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.stdout.split(separator: "\n").count, 2, list.stdout)
        try Data("{ \"format\": \"accompanist-take\", trunc".utf8).write(to: URL(fileURLWithPath: mem).appendingPathComponent("broken.take.json"))
        let (three, _) = try memoryRender(song, memory: mem, [], "take3")
        XCTAssertEqual(three.status, 0, three.stderr)
        XCTAssertTrue(three.stderr.contains("broken.take.json") && three.stderr.contains("skipped"), three.stderr)
        let listed = try accompanist(["memory", "list", "--memory", mem])
        XCTAssertEqual(listed.stdout.split(separator: "\n").count, 3, listed.stdout)
        XCTAssertTrue(listed.stderr.contains("broken.take.json"), listed.stderr)
        let first = String(list.stdout.split(separator: "\n").first { $0.contains("chords from chart") }!.split(separator: " ")[0])
        let show = try accompanist(["memory", "show", first, "--memory", mem])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("| D / / / | A / / / |"), show.stdout)
        XCTAssertEqual(try accompanist(["memory", "forget", first, "--memory", mem]).status, 0)
        XCTAssertEqual(try accompanist(["memory", "list", "--memory", mem]).stdout.split(separator: "\n").count, 2)
        XCTAssertEqual(try accompanist(["memory", "show", "nope", "--memory", mem]).status, 66)
        XCTAssertEqual(try accompanist(["memory", "forget", "--memory", mem]).status, 64, "ids or --all")
        XCTAssertTrue(try accompanist(["memory", "forget", "--all", "--memory", mem]).stdout.contains("forgot 2 takes"))
    }

    /// A copy of `song` whose melody is a fourth higher from bar 9 on (tick 32 quarters): the
    /// same up to there, then another (for the causality tests). Returns its path.
    func changedFromBar9(_ song: String) throws -> String {
        let file = try MIDIFile(contentsOf: URL(fileURLWithPath: song))
        let melody = try XCTUnwrap(file.tracks.firstIndex { !$0.notes.isEmpty })
        var changed = file
        changed.tracks[melody].events = file.tracks[melody].events.map { e in
            guard e.tick >= 8 * 4 * file.ticksPerQuarter else { return e }
            switch e.kind {
            case .noteOn(let c, let k, let v): return TrackEvent(tick: e.tick, .noteOn(channel: c, key: k &+ 5, velocity: v))
            case .noteOff(let c, let k, let v): return TrackEvent(tick: e.tick, .noteOff(channel: c, key: k &+ 5, velocity: v))
            default: return e
            }
        }
        let other = temp.appendingPathComponent("ode-changed.mid")
        try changed.write(to: other)
        return other.path
    }

    /// The follower is causal: two second takes that differ only from bar 9 on, each with its own
    /// copy of the same memory, give the same accompaniment before bar 9 (and not after).
    func testMemoryIsCausal() throws {
        let mem = temp.appendingPathComponent("memory-causal")
        let song = example("ode_to_joy")
        XCTAssertEqual(try memoryRender(song, memory: mem.path, ["--chart", odeChart.path], "c1").0.status, 0)
        let other = try changedFromBar9(song)
        var outs: [[(step: Int, pitch: Int)]] = []
        for (i, input) in [song, other].enumerated() {
            let copy = temp.appendingPathComponent("memory-causal-\(i)")
            try FileManager.default.copyItem(at: mem, to: copy)
            let (r, notes) = try memoryRender(input, memory: copy.path, [], "causal\(i)")
            XCTAssertEqual(r.status, 0, r.stderr)
            outs.append(notes)
        }
        let before = outs.map { $0.filter { $0.step < 256 }.map { "\($0.step):\($0.pitch)" } }
        XCTAssertFalse(before[0].isEmpty)
        XCTAssertEqual(before[0], before[1], "the bars before the change are the same")
        XCTAssertNotEqual(outs[0].filter { $0.step >= 256 }.map { "\($0.step):\($0.pitch)" },
                          outs[1].filter { $0.step >= 256 }.map { "\($0.step):\($0.pitch)" }, "and the change is heard after it")
    }

    /// Repetition within a take (docs/memory.md, "Within a take"), on by default: Ode to Joy's
    /// phrases come back, the render says where, and hearing the earlier phrases' chords changes
    /// what the model plays; `--no-repeats` turns it off. It is causal: a melody changed from
    /// bar 9 on gives the same accompaniment before bar 9.
    func testRepeatsWithinTheMelodyAreFollowed() throws {
        func render(_ input: String, _ extra: [String], _ name: String) throws -> (CLIResult, [String]) {
            let events = temp.appendingPathComponent(name + ".jsonl").path
            let r = try accompanist(["render", input, "-o", temp.appendingPathComponent(name + ".mid").path, "--model", tinyModel,
                                     "--seed", "5", "--events", events] + extra)
            guard r.status == 0 else { return (r, []) }
            return (r, try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").map(String.init))
        }
        let song = example("ode_to_joy")
        let (on, withRepeats) = try render(song, [], "on")
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertTrue(on.stderr.contains("within the take recognized: bar ") && on.stderr.contains(" repeats bar "), on.stderr)
        let (off, without) = try render(song, ["--no-repeats"], "off")
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(off.stderr.contains(" repeats bar "), off.stderr)
        XCTAssertNotEqual(withRepeats, without, "the earlier phrases' chords were heard")
        let missing = try render(song, ["--hindsight-model", "/no/such.safetensors"], "missing").0
        XCTAssertEqual(missing.status, 66, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("no hindsight chord model found"), missing.stderr)
        let refused = try render(song, ["--hindsight-model", "/no/such.safetensors", "--no-repeats"], "refused").0
        XCTAssertEqual(refused.status, 64, refused.stderr)
        // Causal: the same melody up to bar 9, then another.
        let other = try changedFromBar9(song)
        let (r, changedEvents) = try render(other, [], "changed")
        XCTAssertEqual(r.status, 0, r.stderr)
        func before(_ lines: [String]) -> [String] {
            lines.filter { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let step = o["step"] as? Int else { return false }
                return step < 256
            }
        }
        XCTAssertFalse(before(withRepeats).isEmpty)
        XCTAssertEqual(before(withRepeats), before(changedEvents), "the bars before the change are the same")
    }

    /// Harmony sources (docs/harmony.md): a chart is followed, a bad chart is one line naming the
    /// file, line and cell with exit 65 and nothing written; a split or chord track that leaves
    /// nothing is refused; one that gives no chord says so.
    func testHarmonySources() throws {
        let chart = temp.appendingPathComponent("song.chart")
        try Data("# two chords a bar\n| C / F# / | % |\n| N.C. |\n".utf8).write(to: chart)
        let out = temp.appendingPathComponent("h.mid").path
        let r = try accompanist(["render", example("twinkle"), "-o", out, "--engine", "rules", "--chart", chart.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("past the chart's end (bar 4)"), r.stderr)
        let rendered = try MIDIFile(contentsOf: URL(fileURLWithPath: out))
        var onsets = 0
        for e in rendered.tracks[2].events {
            guard case .noteOn(_, let key, let v) = e.kind, v > 0 else { continue }
            let step = Grid.step(ofTick: e.tick, ticksPerQuarter: rendered.ticksPerQuarter)
            guard step < 64 else { continue }
            onsets += 1
            let tones: Set<Int> = step % 32 < 16 ? [0, 4, 7] : [6, 10, 1]
            XCTAssertTrue(tones.contains(Int(key) % 12), "\(key) at step \(step)")
        }
        XCTAssertGreaterThan(onsets, 5)

        let bad = temp.appendingPathComponent("bad.chart")
        try Data("| C G |\n| Am Cx7 |\n".utf8).write(to: bad)
        let cases: [([String], String, Int32)] = [
            (["--chart", bad.path], "bad.chart:2: cell 2 of bar 2 (\"Cx7\"): unknown chord quality \"x7\"", 65),
            (["--chart", temp.appendingPathComponent("none.chart").path], "none.chart: no such file", 66),
            (["--split", "H3"], "--split must be a note name", 64),
            (["--split", "C8"], "every note of the melody track is below the split C8", 65),
            (["--chord-track", "2"], "the chord track 2 is the melody track", 65),
            (["--chord-track", "Chords"], "no track \"Chords\"", 65),
            (["--release-ends-chord"], "--release-ends-chord is only used with --split or --chord-track", 64),
            (["--left-hand-wait", "0.1"], "--left-hand-wait is only used with --split or --chord-track", 64),
            (["--split", "C3", "--left-hand-wait", "0.5"], "--left-hand-wait must be between -0.5 and 0.45, got 0.5", 64),
        ]
        try assertRefused(cases)
        // A split below every note: no left hand at all, said once.
        let r2 = try accompanist(["render", example("twinkle"), "-o", out, "--engine", "rules", "--split", "C1"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("gave no chord"), r2.stderr)
    }

    func testHelpAndEvaluate() throws {
        let help = try accompanist(["render", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--melody-track"))
        let out = temp.appendingPathComponent("e.mid").path
        XCTAssertEqual(try accompanist(["render", example("twinkle"), "-o", out, "--engine", "rules"]).status, 0)
        // Twinkle: C for two bars, then F C G C ... A chord file of C major throughout scores the
        // C-major triad tones only.
        let chords = temp.appendingPathComponent("chords.txt")
        try Data("0\t100\tC:maj\n".utf8).write(to: chords)
        let r = try accompanist(["evaluate", out, "--chords", chords.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("note-in-chord 0."), r.stdout)
    }

    /// A model carries the sampling values it was tuned with (metadata "sampling"): render uses
    /// them where no option is given, and an option wins over them.
    func testTheModelsOwnSamplingValuesUnlessAnOptionGivesOne() throws {
        // The tiny fixture, its header rewritten to carry temperature 0 (tensors unchanged).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: tinyModel))
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        var meta = header["__metadata__"] as? [String: String] ?? [:]
        meta["sampling"] = "{\"temperature\": 0}"
        header["__metadata__"] = meta
        var text = try JSONSerialization.data(withJSONObject: header)
        text += Data(repeating: 0x20, count: (8 - text.count % 8) % 8)
        var tuned = Data((0..<8).map { UInt8((text.count >> (8 * $0)) & 0xFF) })
        tuned += text + bytes.subdata(in: (8 + n)..<bytes.count)
        let tunedPath = temp.appendingPathComponent("tuned.safetensors").path
        try tuned.write(to: URL(fileURLWithPath: tunedPath))
        func render(_ name: String, _ extra: [String]) throws -> Data {
            let out = temp.appendingPathComponent(name).path
            let r = try accompanist(["render", example("twinkle"), "-o", out, "--seed", "4", "--no-repeats"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try Data(contentsOf: URL(fileURLWithPath: out))
        }
        let carried = try render("a.mid", ["--model", tunedPath])
        XCTAssertEqual(carried, try render("b.mid", ["--model", tinyModel, "--temperature", "0"]), "the model's temperature 0 is used")
        let plain = try render("c.mid", ["--model", tinyModel])
        XCTAssertNotEqual(carried, plain, "temperature 0 plays otherwise than the default 0.5")
        XCTAssertEqual(try render("d.mid", ["--model", tunedPath, "--temperature", "0.5"]), plain, "the option wins over the model")
        // A model whose sampling metadata is bad is refused, naming it.
        meta["sampling"] = "{\"temperature\": 9}"
        header["__metadata__"] = meta
        text = try JSONSerialization.data(withJSONObject: header)
        text += Data(repeating: 0x20, count: (8 - text.count % 8) % 8)
        var bad = Data((0..<8).map { UInt8((text.count >> (8 * $0)) & 0xFF) })
        bad += text + bytes.subdata(in: (8 + n)..<bytes.count)
        try bad.write(to: URL(fileURLWithPath: tunedPath))
        let r = try accompanist(["render", example("twinkle"), "-o", temp.appendingPathComponent("e.mid").path, "--model", tunedPath])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("sampling.temperature"), r.stderr)
    }
}
