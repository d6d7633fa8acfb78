import Foundation
import XCTest
@testable import MIDI

/// Every POP909 file: read → write → read gives the same notes. Skipped when the data set is not
/// beside the repository (../shared/datasets/pop909, or $POP909_DIR).
final class POP909RoundTripTests: XCTestCase {
    static var datasetDirectory: URL? {
        if let dir = ProcessInfo.processInfo.environment["POP909_DIR"] { return URL(fileURLWithPath: dir) }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = repo.deletingLastPathComponent().appendingPathComponent("shared/datasets/pop909")
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }

    func testEveryFileRoundTrips() throws {
        guard let dir = Self.datasetDirectory else { throw XCTSkip("POP909 not found at ../shared/datasets/pop909 (set POP909_DIR)") }
        let songs = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.count == 3 && Int($0) != nil }.sorted()
        XCTAssertGreaterThan(songs.count, 800)
        var notes = 0
        for song in songs {
            let url = dir.appendingPathComponent(song).appendingPathComponent(song + ".mid")
            let file = try MIDIFile(contentsOf: url)
            let again = try MIDIFile(data: file.serialized())
            XCTAssertEqual(again.tracks.count, file.tracks.count, song)
            for (a, b) in zip(file.tracks, again.tracks) {
                XCTAssertEqual(a.notes, b.notes, song)
                notes += a.notes.count
            }
            XCTAssertEqual(again.tempoMap, file.tempoMap, song)
        }
        XCTAssertGreaterThan(notes, 1_000_000 / 2)
    }
}
