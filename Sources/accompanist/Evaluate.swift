import ArgumentParser
import Engine
import Evaluation
import Foundation
import MIDI
import Rendering
import SafeFiles

/// `accompanist evaluate OUT.mid --chords chord_midi.txt`: how well a track fits annotated chords.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a track of a MIDI file against chord annotations (POP909's chord_midi.txt).",
        discussion: "Prints the note-in-chord ratio (notes whose pitch class is a tone of the annotated chord at their onset) and the notes per beat of the track.")

    @Argument(help: "The MIDI file, e.g. the output of `accompanist render`.")
    var input: String

    @Option(help: "Chord annotations: one `start end label` line per chord, times in seconds.")
    var chords: String

    @Option(help: "The track to score: its name or its number counting from 1.")
    var track: String = "Accompaniment"

    func run() throws {
        let file = try readMIDI(input)
        let index: Int
        do { index = try OfflineRenderer.melodyTrackIndex(in: file, selector: TrackSelector(track), role: .scored) }
        catch let e as RenderError { throw CLIError.input("\(input): \(e.description)") }
        let annotations: ChordAnnotations
        do { annotations = try ChordAnnotations(contentsOf: URL(fileURLWithPath: chords)) }
        catch let e as ChordAnnotations.ParseError { throw CLIError.input("\(Echo.path(chords)): \(e.description)") }
        catch let e as FileProblem { throw CLIError.file(e) }
        let tempo = file.tempoMap
        let notes = file.tracks[index].notes
        let fit = ChordFit(onsets: notes.map { (tempo.seconds(atTick: $0.startTick), Int($0.key)) }, chords: annotations)
        let beats = Double((notes.map(\.endTick).max() ?? 0) - (notes.map(\.startTick).min() ?? 0)) / Double(file.ticksPerQuarter)
        print(String(format: "note-in-chord %.3f (%d of %d notes)  notes/beat %.2f", fit.ratio, fit.inChord, fit.judged,
                     beats > 0 ? Double(notes.count) / beats : 0))
    }
}
