import MIDI

/// A note on the grid: start and end in steps (it sounds at steps start..<end).
public struct GridNote: Equatable, Hashable, Sendable, Comparable {
    public var pitch: Int
    public var start: Int
    public var end: Int
    public var velocity: Int

    public init(pitch: Int, start: Int, end: Int, velocity: Int) {
        self.pitch = pitch
        self.start = start
        self.end = end
        self.velocity = velocity
    }

    public static func < (a: GridNote, b: GridNote) -> Bool {
        (a.start, a.pitch, a.end, a.velocity) < (b.start, b.pitch, b.end, b.velocity)
    }

    /// A MIDI note placed on the grid by its ticks (rounded to nearest; at least one step long).
    public init(_ note: Note, ticksPerQuarter: Int) {
        let s = Grid.step(ofTick: note.startTick, ticksPerQuarter: ticksPerQuarter)
        var e = Grid.step(ofTick: note.endTick, ticksPerQuarter: ticksPerQuarter)
        if e <= s { e = s + 1 }
        self.init(pitch: Int(note.key), start: s, end: e, velocity: Int(note.velocity))
    }
}

public enum NoteNormalizer {
    /// docs/tokens.md "Note normalisation": drop notes before step 0 or outside 0…127, force at
    /// least one step, merge same pitch + start (end and velocity the larger), and cut a note
    /// where the next note of its pitch starts. Sorted by (start, pitch).
    public static func normalize(_ notes: [GridNote]) -> [GridNote] {
        var byKey: [Int: GridNote] = [:]  // key: pitch << 32 | start
        for var n in notes where n.start >= 0 && (0...127).contains(n.pitch) {
            if n.end <= n.start { n.end = n.start + 1 }
            let key = n.pitch << 32 | n.start
            if let old = byKey[key] {
                byKey[key] = GridNote(pitch: n.pitch, start: n.start, end: max(old.end, n.end),
                                      velocity: max(old.velocity, n.velocity))
            } else {
                byKey[key] = n
            }
        }
        var sorted = byKey.values.sorted { ($0.pitch, $0.start) < ($1.pitch, $1.start) }
        if sorted.count > 1 {
            for i in 0..<(sorted.count - 1) where sorted[i].pitch == sorted[i + 1].pitch {
                sorted[i].end = min(sorted[i].end, sorted[i + 1].start)
            }
        }
        return sorted.sorted()
    }
}
