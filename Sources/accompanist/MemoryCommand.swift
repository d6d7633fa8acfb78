import ArgumentParser
import Foundation
import Memory

/// `accompanist memory list|show|forget`: the rehearsal memory's takes (docs/memory.md).
struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "List, show or forget the takes the rehearsal memory keeps.",
        discussion: """
            The memory is a directory of takes, one file each: by default $STATE_DIRECTORY/memory \
            (the system service), else $XDG_STATE_HOME/accompanist/memory, else \
            ~/.local/state/accompanist/memory. `accompanist render --memory DIR` stores a take of \
            each render. A damaged or foreign file is reported and skipped.
            """,
        subcommands: [List.self, Show.self, Forget.self])

    struct Where: ParsableArguments {
        @Option(help: ArgumentHelp("The memory directory (default: see `accompanist memory --help`).", valueName: "dir"))
        var memory: String?

        var store: MemoryStore {
            MemoryStore(directory: memory.map { URL(fileURLWithPath: $0) } ?? MemoryStore.defaultDirectory())
        }
    }

    static func warn(_ problems: [String], in store: MemoryStore) {
        for p in problems { FileHandle.standardError.write(Data("accompanist: warning: \(store.directory.path)/\(p) (skipped)\n".utf8)) }
    }

    static func describe(_ t: Take) -> String {
        let bars = Double(t.steps) / Double(t.beatsPerBar * 8)
        let chords = t.chordSource == .none ? "no chords" : "chords from \(t.chordSource.rawValue)"
        return "\(t.id)  \(t.source)  \(String(format: "%.0f", bars)) bars of \(t.beatsPerBar), \(String(format: "%.0f", t.bpm)) BPM, \(t.melody.count) melody notes, \(chords)"
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per take, oldest first.")
        @OptionGroup var place: Where
        func run() throws {
            let store = place.store
            let listing = store.list()
            MemoryCommand.warn(listing.problems, in: store)
            if listing.takes.isEmpty { print("no takes in \(store.directory.path)") }
            for t in listing.takes { print(MemoryCommand.describe(t)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A take: what was played, when, and its chords as a chart.")
        @OptionGroup var place: Where
        @Argument(help: "The take's id, or the start of it.") var id: String
        func run() throws {
            let store = place.store
            let t: Take
            do { t = try store.take(matching: id) } catch { throw CLIError.noInput(error.description) }
            print(MemoryCommand.describe(t))
            print("recorded \(ISO8601DateFormatter().string(from: t.recorded))")
            if !t.chords.isEmpty {
                var line: [String] = []
                var previous = ""
                for (b, c) in t.chords.enumerated() {
                    let cell = c == previous ? "/" : (c.isEmpty ? "?" : c)
                    previous = c
                    if b % t.beatsPerBar == 0 { line.append(cell) } else { line[line.count - 1] += " " + cell }
                    if line.count == 4 && b % t.beatsPerBar == t.beatsPerBar - 1 { print("| " + line.joined(separator: " | ") + " |"); line = [] }
                }
                if !line.isEmpty { print("| " + line.joined(separator: " | ") + " |") }
            }
        }
    }

    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget takes by id, or all of them.")
        @OptionGroup var place: Where
        @Argument(help: "Ids (or their starts) of the takes to forget.") var ids: [String] = []
        @Flag(help: "Forget every take.") var all = false
        func validate() throws {
            if all == !ids.isEmpty { throw ValidationError("give the ids of the takes to forget, or --all") }
        }
        func run() throws {
            let store = place.store
            var gone: [String] = []
            if all {
                let listing = store.list()
                MemoryCommand.warn(listing.problems, in: store)
                gone = listing.takes.map(\.id).filter { store.forget(id: $0) }
            } else {
                for id in ids {
                    let t: Take
                    do { t = try store.take(matching: id) } catch { throw CLIError.noInput(error.description) }
                    if store.forget(id: t.id) { gone.append(t.id) }
                }
            }
            print("forgot \(gone.count) take\(gone.count == 1 ? "" : "s")")
        }
    }
}
