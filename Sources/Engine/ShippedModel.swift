import Foundation
import Model

/// Where the neural accompanist's weights are found, and how the engine is built from them.
public enum ShippedModel {
    public static let fileName = "accompanist.safetensors"

    public enum Failure: Error, CustomStringConvertible {
        case notFound(searched: [String])
        case unreadable(String, String)
        public var description: String {
            switch self {
            case .notFound(let searched): return "no model found (looked for \(searched.joined(separator: ", "))); pass --model PATH or use --engine rules"
            case .unreadable(let path, let why): return "cannot load the model \(path): \(why)"
            }
        }
    }

    /// Candidate paths, in order: $ACCOMPANIST_MODEL, ./Models, the repository of the running
    /// binary (.build/release/../../Models), the installed share folders.
    public static var searchPath: [String] { searchPath(for: fileName, environment: "ACCOMPANIST_MODEL") }

    /// The same places for another shipped file of Models/ (e.g. the hindsight chord model),
    /// first `$environment` when set.
    public static func searchPath(for fileName: String, environment: String) -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment[environment], !env.isEmpty { paths.append(env) }
        paths.append("Models/\(fileName)")
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        paths.append(exe.appendingPathComponent("../../Models/\(fileName)").standardizedFileURL.path)
        // .build/release is a link to .build/<triple>/release: the repository is one more up.
        paths.append(exe.appendingPathComponent("../../../Models/\(fileName)").standardizedFileURL.path)
        paths.append(exe.appendingPathComponent("../share/accompanist/Models/\(fileName)").standardizedFileURL.path)
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        paths.append("\(home)/.local/share/accompanist/Models/\(fileName)")
        paths.append("/usr/local/share/accompanist/Models/\(fileName)")
        return paths
    }

    /// The explicit path (which must exist), or the first candidate that exists.
    public static func locate(_ explicit: String?) throws -> String { try locate(explicit, candidates: searchPath) }

    /// The explicit path (which must exist), or the first of `candidates` that exists.
    public static func locate(_ explicit: String?, candidates: [String]) throws -> String {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else { throw Failure.notFound(searched: [explicit]) }
            return explicit
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw Failure.notFound(searched: candidates)
        }
        return found
    }

    /// Loads the model (all memory allocated here) and wraps it in an engine.
    public static func engine(path: String, precision: WeightPrecision, configuration: NeuralConfiguration, seed: UInt64) throws -> NeuralEngine {
        do {
            let model = try StreamingModel(path: path, precision: precision)
            return NeuralEngine(model: model, configuration: configuration, seed: seed)
        } catch {
            throw Failure.unreadable(path, "\(error)")
        }
    }
}
