/// One event of a track, at an absolute tick.
public struct TrackEvent: Equatable, Sendable {
    public var tick: Int
    public var kind: Kind

    public init(tick: Int, _ kind: Kind) {
        self.tick = tick
        self.kind = kind
    }

    public enum Kind: Equatable, Sendable {
        /// velocity 0 is read as `.noteOff` (so a file never yields a zero-velocity note-on).
        case noteOn(channel: UInt8, key: UInt8, velocity: UInt8)
        case noteOff(channel: UInt8, key: UInt8, velocity: UInt8)
        case polyPressure(channel: UInt8, key: UInt8, pressure: UInt8)
        case controlChange(channel: UInt8, controller: UInt8, value: UInt8)
        case programChange(channel: UInt8, program: UInt8)
        case channelPressure(channel: UInt8, pressure: UInt8)
        /// value 0...16383, 8192 = centre.
        case pitchBend(channel: UInt8, value: UInt16)
        /// Set Tempo: microseconds per quarter note.
        case tempo(microsecondsPerQuarter: Int)
        case timeSignature(numerator: UInt8, denominatorPower: UInt8, clocksPerClick: UInt8, thirtySecondsPerQuarter: UInt8)
        case trackName(String)
        case endOfTrack
        /// Any other meta event, kept byte for byte so that a track is written back unchanged.
        case meta(type: UInt8, data: [UInt8])
    }
}

/// A track: its events in tick order (the reader keeps file order, which is tick order).
public struct Track: Equatable, Sendable {
    public var events: [TrackEvent]

    public init(events: [TrackEvent] = []) {
        self.events = events
    }

    /// The first track-name meta event, if any.
    public var name: String? {
        for e in events { if case .trackName(let n) = e.kind { return n } }
        return nil
    }

    /// The notes of this track, note-ons paired with note-offs first-in first-out per
    /// (channel, key). A note left open is closed at the track's last tick.
    public var notes: [Note] {
        var open: [Int: [(tick: Int, velocity: UInt8)]] = [:]
        var result: [Note] = []
        var lastTick = 0
        for e in events {
            lastTick = max(lastTick, e.tick)
            switch e.kind {
            case .noteOn(let ch, let key, let vel):
                open[Int(ch) << 7 | Int(key), default: []].append((e.tick, vel))
            case .noteOff(let ch, let key, _):
                let id = Int(ch) << 7 | Int(key)
                if var list = open[id], !list.isEmpty {
                    let on = list.removeFirst()
                    open[id] = list
                    result.append(Note(channel: ch, key: key, velocity: on.velocity, startTick: on.tick, endTick: e.tick))
                }
            default: break
            }
        }
        for (id, list) in open {
            for on in list {
                result.append(Note(channel: UInt8(id >> 7), key: UInt8(id & 127), velocity: on.velocity,
                                   startTick: on.tick, endTick: max(lastTick, on.tick)))
            }
        }
        result.sort { ($0.startTick, $0.key, $0.endTick) < ($1.startTick, $1.key, $1.endTick) }
        return result
    }
}

/// A note with its start and end in ticks.
public struct Note: Equatable, Hashable, Sendable {
    public var channel: UInt8
    public var key: UInt8
    public var velocity: UInt8
    public var startTick: Int
    public var endTick: Int

    public init(channel: UInt8 = 0, key: UInt8, velocity: UInt8, startTick: Int, endTick: Int) {
        self.channel = channel
        self.key = key
        self.velocity = velocity
        self.startTick = startTick
        self.endTick = endTick
    }
}
