/// What the encoder sees of the melody at one grid step (docs/tokens.md).
public struct MelodyFrame: Equatable, Hashable, Sendable {
    /// The highest sounding melody pitch, or -1 for a rest.
    public var pitch: Int8
    /// Whether that note starts at this step.
    public var onset: Bool
    /// `velocity >> 2` of that note (0 for a rest).
    public var velocityBin: UInt8

    public static let rest = MelodyFrame(pitch: -1, onset: false, velocityBin: 0)

    public init(pitch: Int8, onset: Bool, velocityBin: UInt8) {
        self.pitch = pitch
        self.onset = onset
        self.velocityBin = velocityBin
    }

    public var isRest: Bool { pitch < 0 }
}

public enum MelodyFrames {
    /// One frame per step in 0..<endStep from normalised melody notes.
    public static func frames(_ notes: [GridNote], endStep: Int) -> [MelodyFrame] {
        frames(notes, steps: 0..<max(0, endStep))
    }

    /// One frame per step of `steps` from normalised melody notes (`frames[0]` is step
    /// `steps.lowerBound`): the same frames as `frames(_:endStep:)` gives for those steps, from
    /// the notes that sound in them (how a live take's frames grow a beat at a time).
    public static func frames(_ notes: [GridNote], steps: Range<Int>) -> [MelodyFrame] {
        var frames = [MelodyFrame](repeating: .rest, count: steps.count)
        let first = steps.lowerBound
        for n in NoteNormalizer.normalize(notes) {
            for s in max(n.start, first)..<max(max(n.start, first), min(n.end, steps.upperBound)) where Int(frames[s - first].pitch) <= n.pitch {
                // Notes of one pitch never overlap after normalisation, so `<=` only replaces a
                // lower note (or a rest).
                frames[s - first] = MelodyFrame(pitch: Int8(n.pitch), onset: s == n.start,
                                                velocityBin: UInt8(Vocabulary.velocityBin(n.velocity)))
            }
        }
        return frames
    }

    /// The steps at which a melody note becomes visible: one after each onset frame.
    public static func visibilitySteps(_ frames: [MelodyFrame]) -> Set<Int> {
        var result = Set<Int>()
        for (s, f) in frames.enumerated() where f.onset { result.insert(s + 1) }
        return result
    }
}
