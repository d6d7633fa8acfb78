import Foundation
import Logging

/// Connects the daemon's ports to the configured keyboards and destinations, by name, at start
/// and whenever System:Announce says a port came (client numbers over 127 are not stable, names
/// are). Control thread only.
final class PortConnector {
    let sequencer: Sequencer
    let inputs: [String]
    let outputs: [String]
    let log: Logger
    /// Sources we connected, with their names for the log: "client:port" → name.
    private(set) var connectedInputs: [String: String] = [:]
    private(set) var connectedOutputs: [String: String] = [:]

    init(sequencer: Sequencer, inputs: [String], outputs: [String], log: Logger) {
        self.sequencer = sequencer
        self.inputs = inputs
        self.outputs = outputs
        self.log = log
    }

    /// Whether a port is one of the configured inputs.
    func wantsInput(_ p: PortInfo) -> Bool {
        guard p.isReadable, p.client != sequencer.clientID, p.client != 0 else { return false }
        let through = p.clientName == "Midi Through"
        for pattern in inputs {
            if pattern == "all-hardware" { if p.isHardware && !through { return true } }
            else if p.matches(pattern) { return true }
        }
        return false
    }

    func wantsOutput(_ p: PortInfo) -> Bool {
        guard p.isWritable, p.client != sequencer.clientID, p.client != 0 else { return false }
        return outputs.contains { p.matches($0) }
    }

    func connectAll() {
        for p in sequencer.ports() { connect(p) }
        if connectedInputs.isEmpty {
            log.notice("no input connected yet (inputs: \(inputs.joined(separator: ", "))); waiting for a matching port, or connect one with aconnect")
        }
    }

    private func connect(_ p: PortInfo) {
        let name = "\(p.address) \"\(p.clientName):\(p.portName)\""
        if wantsInput(p) && connectedInputs[p.address] == nil {
            do {
                try sequencer.connectInput(from: p)
                connectedInputs[p.address] = name
                log.info("input: connected \(name)")
            } catch {
                if (error as? ALSAError)?.code == -EBUSY { connectedInputs[p.address] = name } else { log.warning("input: \(error)") }
            }
        }
        if wantsOutput(p) && connectedOutputs[p.address] == nil {
            do {
                try sequencer.connectOutput(to: p)
                connectedOutputs[p.address] = name
                log.info("output: connected \(name)")
            } catch {
                if (error as? ALSAError)?.code == -EBUSY { connectedOutputs[p.address] = name } else { log.warning("output: \(error)") }
            }
        }
    }

    /// Handles a System:Announce event; returns the sources that went away, whose held melody
    /// notes must end.
    func handleAnnounce(_ e: InputEvent) -> [(client: Int32, port: Int32)] {
        switch e.kind {
        case .portStart:
            if let p = sequencer.ports().first(where: { $0.client == e.client && $0.port == e.port }) { connect(p) }
            return []
        case .portExit, .clientExit:
            var gone: [(Int32, Int32)] = []
            for (address, name) in connectedInputs {
                let parts = address.split(separator: ":").compactMap { Int32($0) }
                guard parts.count == 2, parts[0] == e.client, e.kind == .clientExit || parts[1] == e.port else { continue }
                connectedInputs[address] = nil
                gone.append((parts[0], parts[1]))
                log.warning("input: \(name) went away; its held notes are released, and it is reconnected when it returns")
            }
            for (address, name) in connectedOutputs {
                let parts = address.split(separator: ":").compactMap { Int32($0) }
                guard parts.count == 2, parts[0] == e.client, e.kind == .clientExit || parts[1] == e.port else { continue }
                connectedOutputs[address] = nil
                log.warning("output: \(name) went away")
            }
            return gone
        default:
            return []
        }
    }
}
