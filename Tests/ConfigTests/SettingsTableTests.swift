import Foundation
import XCTest
@testable import Config

/// Every setting is declared once, in `Settings.all`, and everything else derives from it: these
/// fail when a setting is added to one place and not the others.
final class SettingsTableTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shipped config file and the reference are the table's, as generated now.
    func testShippedFilesAreGeneratedFromTheTable() throws {
        let toml = try String(contentsOf: Self.repository.appendingPathComponent("Configs/accompanist.toml"), encoding: .utf8)
        XCTAssertEqual(toml, SettingsDocument.toml(), "Configs/accompanist.toml is stale: accompanist settings --toml > Configs/accompanist.toml")
        let markdown = try String(contentsOf: Self.repository.appendingPathComponent("docs/config.md"), encoding: .utf8)
        XCTAssertEqual(markdown, SettingsDocument.markdown(), "docs/config.md is stale: accompanist settings --markdown > docs/config.md")
        // Every key is in it, in its section, at its default.
        for s in Settings.all {
            // An expert key is shown commented out: set, it would override the model's own value.
            let line = (s.audience == .expert ? "# " : "") + "\(s.name) = \(SettingsDocument.tomlText(s.value(in: DaemonConfig())))"
            XCTAssertTrue(toml.contains("\n\(line)\n"), s.key)
            XCTAssertTrue(markdown.contains("| `\(s.name)` |"), s.key)
        }
        // Read back, the file is the defaults.
        XCTAssertEqual(try DaemonConfig.parse(toml), DaemonConfig())
    }

    /// Each setting sets exactly one property of `DaemonConfig`, and each property has exactly
    /// one setting: a property added without a setting (or a setting that sets nothing, or two)
    /// fails here.
    func testSettingsAndPropertiesAreOneToOne() throws {
        let defaults = DaemonConfig()
        // `expertKeysGiven` records which expert keys a user gave; it is not a setting.
        let properties = Mirror(reflecting: defaults).children.compactMap(\.label).filter { $0 != "expertKeysGiven" }
        var setBy: [String: [String]] = [:]
        for s in Settings.all {
            var c = defaults
            try s.set(&c, Self.otherValue(s))
            let changed = zip(Mirror(reflecting: defaults).children, Mirror(reflecting: c).children)
                .filter { "\($0.value)" != "\($1.value)" }.compactMap(\.0.label).filter { $0 != "expertKeysGiven" }
            XCTAssertEqual(changed.count, 1, "\(s.key) changes \(changed)")
            for p in changed { setBy[p, default: []].append(s.key) }
            // Its value reads back as set; an expert key is recorded as given (it overrides the model's).
            XCTAssertEqual(s.value(in: c), Self.otherValue(s), s.key)
            XCTAssertEqual(c.expertKeysGiven, s.audience == .expert ? [s.key] : [], s.key)
        }
        for p in properties { XCTAssertEqual(setBy[p]?.count, 1, "DaemonConfig.\(p) is set by \(setBy[p] ?? []) (declare it in Settings.all)") }
        XCTAssertEqual(Set(Settings.all.map(\.key)).count, Settings.all.count, "keys are unique")
        let options = Setting.Command.allCases.flatMap { c in Settings.all.compactMap { $0.options[c].map { "\(c) \($0)" } } }
        XCTAssertEqual(Set(options).count, options.count, "options are unique per command")
    }

    /// Ranges come from the table: a value past either end is a problem naming the key (exit 78
    /// in `run`), a wrong type too.
    func testRangesAndTypesAreTheTables() throws {
        for s in Settings.all {
            var c = DaemonConfig()
            switch s.kind {
            case .number(let r):
                for bad in [r.lowerBound - 0.5, r.upperBound + 0.5] {
                    XCTAssertThrowsError(try c.set(s.key, .float(bad))) { e in
                        let p = e as? DaemonConfig.Problem
                        XCTAssertEqual(p?.key, s.key)
                        XCTAssertTrue(p?.message.hasPrefix("must be between") ?? false, "\(String(describing: p))")
                    }
                }
                XCTAssertNoThrow(try c.set(s.key, .float(r.lowerBound)), s.key)
                XCTAssertThrowsError(try c.set(s.key, .string("1")), s.key)
            case .integer(let r):
                if r.lowerBound > Int.min { XCTAssertThrowsError(try c.set(s.key, .integer(r.lowerBound - 1)), s.key) }
                if r.upperBound < Int.max { XCTAssertThrowsError(try c.set(s.key, .integer(r.upperBound + 1)), s.key) }
                XCTAssertNoThrow(try c.set(s.key, .integer(r.upperBound)), s.key)
                XCTAssertThrowsError(try c.set(s.key, .float(1.5)), s.key)
            case .choice(let options):
                XCTAssertThrowsError(try c.set(s.key, .string("none of them")), s.key)
                for o in options { XCTAssertNoThrow(try c.set(s.key, .string(o)), s.key) }
            case .flag:
                XCTAssertThrowsError(try c.set(s.key, .string("yes")), s.key)
            case .text, .list, .note:
                XCTAssertThrowsError(try c.set(s.key, .boolean(true)), s.key)
            }
        }
        XCTAssertThrowsError(try DaemonConfig.parse("[tempo]\nphase = \"first-note\"\n")) { e in
            XCTAssertTrue("\(e)".contains("no longer a key"), "\(e)")
        }
    }

    /// A value other than the default, valid for the setting.
    static func otherValue(_ s: Setting) -> TOMLValue {
        let d = s.value(in: DaemonConfig())
        switch s.kind {
        case .number(let r): return .float(d == .float(r.upperBound) ? r.lowerBound : r.upperBound)
        case .integer(let r):
            let top = min(r.upperBound, 1_000)
            return .integer(d == .integer(top) ? r.lowerBound : top)
        case .choice(let options): return .string(options.first { .string($0) != d }!)
        case .text: return .string("other")
        case .flag: return .boolean(d != .boolean(true))
        case .list: return .array([.string("other")])
        case .note: return .integer(60)
        }
    }
}
