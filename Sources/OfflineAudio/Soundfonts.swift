import Foundation

/// Where a General MIDI soundfont is found on Debian, in order of preference.
public enum Soundfonts {
    public static let defaultPaths = [
        "/usr/share/sounds/sf2/default-GM.sf2",   // Debian's alternatives link
        "/usr/share/sounds/sf2/TimGM6mb.sf2",     // timgm6mb-soundfont (installed by scripts/setup.sh)
        "/usr/share/sounds/sf2/FluidR3_GM.sf2",   // fluid-soundfont-gm
    ]

    /// The given path (which must exist), or the first default that exists.
    public static func resolve(_ path: String?) throws -> String {
        if let path {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw SynthError.soundfontNotFound(path)
            }
            try checkHeader(path)
            return path
        }
        guard let found = defaultPaths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw SynthError.noDefaultSoundfont(searched: defaultPaths)
        }
        try checkHeader(found)
        return found
    }

    /// A SoundFont 2 file is a RIFF file of form `sfbk` (FluidSynth's loader, handed anything
    /// else, prints assertion failures of its own before it fails).
    static func checkHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SynthError.soundfontUnreadable(path) }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 12)) ?? Data()
        guard head.count == 12, head.prefix(4) == Data("RIFF".utf8), head.suffix(4) == Data("sfbk".utf8) else {
            throw SynthError.soundfontUnreadable(path)
        }
    }
}
