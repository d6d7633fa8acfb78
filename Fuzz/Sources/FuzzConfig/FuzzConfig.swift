// Fuzz target: the daemon's config file (TOML). Any text must either parse into a valid config
// (and map to engine settings) or be refused with a DaemonConfig.Problem; a trap is a bug.
import Config
import Foundation
import FuzzSupport

func fuzzConfig(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        _ = try DaemonConfig.parse(text).engineSettings
    } catch is DaemonConfig.Problem {
    } catch {
        fatalError("DaemonConfig.parse threw something other than a Problem: \(error)")
    }
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzConfig(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main struct Main { static func main() { fuzzMain { data, size in fuzzEntry(data, size) } } }
