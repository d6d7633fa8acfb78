import ArgumentParser
import Foundation
import Memory
import SafeFiles

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

        /// The memory, which must exist (exit 66 otherwise), with the temporary files of
        /// interrupted saves removed and counted.
        func open() throws -> MemoryStore {
            let store = self.store
            do { try store.checkDirectory() } catch { throw CLIError.noInput(error.description) }
            let leftovers = store.removeLeftovers()
            if leftovers > 0 {
                MemoryCommand.note("removed \(leftovers) temporary file\(leftovers == 1 ? "" : "s") left by an interrupted save in \(Echo.path(store.directory.path))")
            }
            return store
        }
    }

    static func note(_ line: String) {
        FileHandle.standardError.write(Data("accompanist: \(Echo.line(line))\n".utf8))
    }

    static func warn(_ problems: [String], in store: MemoryStore) {
        for p in problems { note("warning: \(Echo.path(store.directory.path))/\(p) (skipped)") }
    }

    /// A take's error, exit 65 for a damaged or foreign file and 66 for a missing one.
    static func failure(_ error: MemoryError) -> CLIError {
        switch error {
        case .corrupt, .foreign: return CLIError.input(error.description)
        case .io, .missing: return CLIError.noInput(error.description)
        }
    }

    static func describe(_ t: Take) -> String {
        let bars = Double(t.steps) / Double(t.beatsPerBar * 8)
        let chords = t.chordSource == .none ? "no chords" : "chords from \(t.chordSource.rawValue)"
        return "\(t.id)  \(Echo.text(t.source, limit: 120))  \(String(format: "%.0f", bars)) bars of \(t.beatsPerBar), \(String(format: "%.0f", t.bpm)) BPM, \(t.melody.count) melody notes, \(chords)"
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per take, oldest first.")
        @OptionGroup var place: Where
        func run() throws {
            let store = try place.open()
            let listing = store.list()
            MemoryCommand.warn(listing.problems, in: store)
            if listing.takes.isEmpty { print("no takes in \(Echo.path(store.directory.path))") }
            for t in listing.takes { print(MemoryCommand.describe(t)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A take: what was played, when, and its chords as a chart.")
        @OptionGroup var place: Where
        @Argument(help: "The take's id, or the start of it.") var id: String
        func run() throws {
            let store = try place.open()
            let t: Take
            let full: String
            do { full = try store.id(matching: id) } catch { throw MemoryCommand.failure(error) }
            // A damaged take is named, with what is wrong with it (not "no take").
            do { t = try store.take(id: full) } catch {
                throw CLIError(message: "take \(full): \(error)", exitCode: MemoryCommand.failure(error).exitCode)
            }
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
            let store = try place.open()
            var gone: [String] = []
            if all {
                let listing = store.list()
                MemoryCommand.warn(listing.problems, in: store)
                gone = listing.takes.map(\.id).filter { store.forget(id: $0) }
            } else {
                // Every id is checked before any take is forgotten.
                do { gone = try store.forget(ids: ids) } catch { throw MemoryCommand.failure(error) }
            }
            for id in gone { print("forgot \(id)") }
            print("forgot \(gone.count) take\(gone.count == 1 ? "" : "s")")
        }
    }
}
