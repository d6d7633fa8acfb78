import Config

extension DaemonConfig {
    /// Sets a key from a command-line option (nil: the option was not given). A bad value exits
    /// with status 78 and names the key, as in a config file.
    mutating func setOption(_ key: String, _ value: TOMLValue?) throws {
        guard let value else { return }
        do { try set(key, value) } catch let p as DaemonConfig.Problem {
            throw CLIError(message: "option for \(p.key): \(p.message)", exitCode: DaemonConfig.exitCode)
        }
    }
}
