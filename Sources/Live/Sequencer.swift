import CALSA
import Foundation
import Synchronization

/// A libasound call that failed, with the call's name and ALSA's message.
public struct ALSAError: Error, Equatable, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public var hint: String = ""
    public var description: String {
        "\(call): \(String(cString: snd_strerror(code)))" + (hint.isEmpty ? "" : " (\(hint))")
    }
}

@discardableResult
func check(_ call: String, _ result: Int32, hint: String = "") throws -> Int32 {
    if result < 0 { throw ALSAError(call: call, code: result, hint: hint) }
    return result
}

/// A port seen in the sequencer.
public struct PortInfo: Equatable, Sendable {
    public var client: Int32
    public var port: Int32
    public var clientName: String
    public var portName: String
    public var capability: UInt32
    public var type: UInt32
    /// A kernel client (a sound card's hardware port) rather than a program.
    public var isKernelClient: Bool

    public var address: String { "\(client):\(port)" }
    /// Others can read from it: a source (a keyboard).
    public var isReadable: Bool { capability & UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ) == UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ) }
    /// Others can write to it: a destination (a synth, a DAW input).
    public var isWritable: Bool { capability & UInt32(SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE) == UInt32(SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE) }
    public var isHardware: Bool { type & UInt32(SND_SEQ_PORT_TYPE_HARDWARE | SND_SEQ_PORT_TYPE_PORT) != 0 || isKernelClient }

    /// Whether a configured name ("client:port", "client", "port", numbers, or a case-insensitive
    /// substring of "client:port names") picks this port.
    public func matches(_ pattern: String) -> Bool {
        let p = pattern.lowercased()
        if p == address { return true }
        if let c = Int32(p), c == client { return true }
        let full = "\(clientName):\(portName)".lowercased()
        return full == p || clientName.lowercased() == p || portName.lowercased() == p || full.contains(p)
    }
}

/// The ALSA sequencer client of the daemon: one client, an input port, an output port, a queue.
///
/// Threads: `readInput` and `passthrough` are called by the reader thread only; `schedule`,
/// `sendNow` and `cancelScheduled` by the engine thread only; everything else (ports,
/// connections, the queue) by the control thread. Output is written with
/// `snd_seq_event_output_direct`, which for a fixed-size event is one write(2) of the caller's
/// own event: no buffer of the handle is shared, so the reader and the engine thread may send at
/// once, and input has its own buffer. The control thread's calls are ioctls.
public final class Sequencer: LiveOutput, @unchecked Sendable {
    // @unchecked Sendable: see the thread rules above; the handle is never closed while threads run.
    let handle: OpaquePointer
    public let clientID: Int32
    public let inputPort: Int32
    public let outputPort: Int32
    public let queue: Int32
    public let clientName: String
    /// Whether the queue runs on snd-hrtimer (else the system timer).
    public let hasHighResolutionTimer: Bool
    public let name = "output port"
    /// Sends the kernel refused (its output pool full, a vanished subscriber's error), any thread.
    private let failedSends = Atomic<Int>(0)
    /// The condition of `cancelScheduled` (our events still on our queue), allocated here because
    /// `snd_seq_remove_events_malloc` must not run on the engine thread.
    private let removeCondition: OpaquePointer

    /// Opens the sequencer. A machine without one (no /dev/snd/seq) gives a clear error.
    public init(clientName: String) throws {
        acc_silence_alsa_errors()
        var h: OpaquePointer? = nil
        let r = snd_seq_open(&h, "default", SND_SEQ_OPEN_DUPLEX, SND_SEQ_NONBLOCK)
        if r < 0 || h == nil {
            let missing = !FileManager.default.fileExists(atPath: "/dev/snd/seq")
            throw ALSAError(call: "cannot open the ALSA sequencer", code: r,
                            hint: missing ? "/dev/snd/seq is missing: is the snd-seq kernel module loaded (modprobe snd-seq)?" : "")
        }
        handle = h!
        self.clientName = clientName
        var rm: OpaquePointer? = nil
        guard snd_seq_remove_events_malloc(&rm) == 0, let rm else {
            snd_seq_close(handle)
            throw ALSAError(call: "snd_seq_remove_events_malloc", code: -ENOMEM)
        }
        removeCondition = rm
        do {
            try check("snd_seq_set_client_name", snd_seq_set_client_name(handle, clientName))
            clientID = try check("snd_seq_client_id", snd_seq_client_id(handle))
            // A larger kernel input pool rides out bursts; past it the kernel reports ENOSPC.
            _ = snd_seq_set_client_pool_input(handle, 2000)
            queue = try check("snd_seq_alloc_named_queue", snd_seq_alloc_named_queue(handle, "\(clientName) clock"))
            // Precise scheduling needs the high-resolution timer; without it the system timer's
            // jiffies (1-4 ms) quantise every output time.
            hasHighResolutionTimer = acc_seq_use_hrtimer(handle, queue) >= 0

            let type = UInt32(SND_SEQ_PORT_TYPE_APPLICATION | SND_SEQ_PORT_TYPE_MIDI_GENERIC)
            var info: OpaquePointer? = nil
            try check("snd_seq_port_info_malloc", snd_seq_port_info_malloc(&info))
            defer { snd_seq_port_info_free(info) }
            snd_seq_port_info_set_name(info, "melody in")
            snd_seq_port_info_set_capability(info, UInt32(SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE))
            snd_seq_port_info_set_type(info, type)
            // Every incoming event is stamped by the kernel with our queue's real time.
            snd_seq_port_info_set_timestamping(info, 1)
            snd_seq_port_info_set_timestamp_real(info, 1)
            snd_seq_port_info_set_timestamp_queue(info, queue)
            try check("snd_seq_create_port (input)", snd_seq_create_port(handle, info))
            inputPort = snd_seq_port_info_get_port(info)

            let outPort = snd_seq_create_simple_port(handle, "accompaniment out",
                                                     UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ), type)
            outputPort = try check("snd_seq_create_simple_port (output)", outPort)
            // System:Announce tells us about ports coming and going.
            _ = snd_seq_connect_from(handle, inputPort, Int32(SND_SEQ_CLIENT_SYSTEM), Int32(SND_SEQ_PORT_SYSTEM_ANNOUNCE))
            snd_seq_remove_events_set_condition(removeCondition, UInt32(SND_SEQ_REMOVE_OUTPUT))
            snd_seq_remove_events_set_queue(removeCondition, queue)
        } catch {
            snd_seq_remove_events_free(removeCondition)
            snd_seq_close(handle)
            throw error
        }
    }

    deinit {
        snd_seq_remove_events_free(removeCondition)
        snd_seq_close(handle)
    }

    /// Starts the queue; its real time is the clock of every timestamp in and out.
    public func startQueue() throws {
        try check("snd_seq_start_queue", snd_seq_control_queue(handle, queue, Int32(SND_SEQ_EVENT_START.rawValue), 0, nil))
        _ = snd_seq_drain_output(handle)
    }

    /// The queue's real time in nanoseconds (control thread: it allocates a status record).
    public func queueTime() -> Int64 {
        var status: OpaquePointer? = nil
        guard snd_seq_queue_status_malloc(&status) == 0 else { return 0 }
        defer { snd_seq_queue_status_free(status) }
        guard snd_seq_get_queue_status(handle, queue, status) == 0, let rt = snd_seq_queue_status_get_real_time(status) else { return 0 }
        return Int64(rt.pointee.tv_sec) * 1_000_000_000 + Int64(rt.pointee.tv_nsec)
    }

    // MARK: Ports (control thread)

    public func ports() -> [PortInfo] {
        var result: [PortInfo] = []
        var cinfo: OpaquePointer? = nil, pinfo: OpaquePointer? = nil
        snd_seq_client_info_malloc(&cinfo)
        snd_seq_port_info_malloc(&pinfo)
        defer { snd_seq_client_info_free(cinfo); snd_seq_port_info_free(pinfo) }
        snd_seq_client_info_set_client(cinfo, -1)
        while snd_seq_query_next_client(handle, cinfo) >= 0 {
            let client = snd_seq_client_info_get_client(cinfo)
            let cname = String(cString: snd_seq_client_info_get_name(cinfo))
            let kernel = snd_seq_client_info_get_type(cinfo) == SND_SEQ_KERNEL_CLIENT
            snd_seq_port_info_set_client(pinfo, client)
            snd_seq_port_info_set_port(pinfo, -1)
            while snd_seq_query_next_port(handle, pinfo) >= 0 {
                result.append(PortInfo(client: client, port: snd_seq_port_info_get_port(pinfo), clientName: cname,
                                       portName: String(cString: snd_seq_port_info_get_name(pinfo)),
                                       capability: snd_seq_port_info_get_capability(pinfo),
                                       type: snd_seq_port_info_get_type(pinfo), isKernelClient: kernel))
            }
        }
        return result
    }

    public func connectInput(from p: PortInfo) throws {
        try check("connect \(p.address) to our input", snd_seq_connect_from(handle, inputPort, p.client, p.port))
    }

    public func connectOutput(to p: PortInfo) throws {
        try check("connect our output to \(p.address)", snd_seq_connect_to(handle, outputPort, p.client, p.port))
    }

    // MARK: Input (reader thread)

    /// Waits up to `timeoutMs` for input and returns the next event, nil if none came, or a
    /// negative errno (-ENOSPC: the kernel dropped events because we were too slow).
    public func readInput(timeoutMs: Int32, into event: inout InputEvent) -> Int32 {
        var ev: UnsafeMutablePointer<snd_seq_event_t>? = nil
        var r = snd_seq_event_input(handle, &ev)
        if r == -EAGAIN {
            var fds = pollfd(fd: -1, events: 0, revents: 0)
            // One descriptor for input (POLLIN).
            if snd_seq_poll_descriptors(handle, &fds, 1, Int16(POLLIN)) == 1 {
                _ = poll(&fds, 1, timeoutMs)
            }
            r = snd_seq_event_input(handle, &ev)
        }
        if r < 0 { return r }
        guard let e = ev else { return -EAGAIN }
        event = InputEvent(e.pointee)
        return 0
    }

    // MARK: Output (engine thread: schedule, sendNow, cancelScheduled; reader: passthrough)

    public func schedule(_ event: OutputEvent, at queueTime: Int64) { send(event, at: queueTime) }
    public func sendNow(_ event: OutputEvent) { send(event, at: nil) }
    public func passthrough(_ event: OutputEvent) { send(event, at: nil) }
    public var lostEvents: Int { failedSends.load(ordering: .relaxed) }

    /// Drops our events still waiting on the queue (panic, clock Stop, shutdown), before the
    /// note-offs that follow. An ioctl with the condition allocated at init.
    public func cancelScheduled() {
        if snd_seq_remove_events(handle, removeCondition) < 0 { failedSends.add(1, ordering: .relaxed) }
    }

    /// Control thread, at start: the accompaniment's instrument.
    public func sendProgram(channel: Int, program: Int) {
        var ev = snd_seq_event_t()
        acc_seq_ev_clear(&ev)
        acc_seq_ev_set_pgmchange(&ev, Int32(channel), Int32(program))
        output(&ev, at: nil)
    }

    /// An event to the output port's subscribers at a queue time in nanoseconds, or at once when
    /// `time` is nil. No allocation: the event lives on the stack and goes straight to the kernel.
    private func send(_ event: OutputEvent, at time: Int64?) {
        var ev = snd_seq_event_t()
        acc_seq_ev_clear(&ev)
        switch event {
        case .note(let channel, let pitch, let velocity):
            if velocity > 0 { acc_seq_ev_set_noteon(&ev, Int32(channel), Int32(pitch), Int32(velocity)) }
            else { acc_seq_ev_set_noteoff(&ev, Int32(channel), Int32(pitch), 0) }
        case .controller(let channel, let number, let value):
            acc_seq_ev_set_controller(&ev, Int32(channel), Int32(number), Int32(value))
        case .allNotesOff(let channel):
            acc_seq_ev_set_controller(&ev, Int32(channel), 123, 0)
        }
        output(&ev, at: time)
    }

    private func output(_ ev: inout snd_seq_event_t, at time: Int64?) {
        acc_seq_ev_set_source(&ev, outputPort)
        acc_seq_ev_set_subs(&ev)
        if let t = time {
            let clamped = max(0, t)
            acc_seq_ev_schedule_real(&ev, queue, 0, UInt32(clamped / 1_000_000_000), UInt32(clamped % 1_000_000_000))
        } else {
            acc_seq_ev_set_direct(&ev)
        }
        if snd_seq_event_output_direct(handle, &ev) < 0 { failedSends.add(1, ordering: .relaxed) }
    }
}
