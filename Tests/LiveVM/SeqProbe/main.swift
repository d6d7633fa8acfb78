// seq-probe: a small ALSA sequencer client for the live tests in the VM (Tests/LiveVM).
//
//   seq-probe record  [--from NAME] --out FILE [--ready FILE] [--seconds N]
//                      record note/controller events with the kernel's delivery timestamps (our
//                      queue, real time) as JSON lines, each written and flushed as it arrives.
//                      --ready FILE is created once the record port has a subscriber (the --from
//                      port, or without --from whoever connects to "probe-recorder:record"). On
//                      SIGINT/SIGTERM it first drains every event already queued for it, so it
//                      can be stopped as soon as the sender has exited.
//   seq-probe keyboard --name NAME --hold PITCH [--seconds N] a keyboard that appears, holds a
//                      note and vanishes without its note-off (an unplugged keyboard)
//   seq-probe flood   --to NAME --rate R --seconds N         R note events per second, direct
//   seq-probe play    --to NAME --pitch P --seconds N         one note on, wait, note off
//   seq-probe cc      --to NAME --controller C --value V     one controller event
//   seq-probe echo    --name NAME                          a client whose port sends every note
//                      it receives straight back out (the latency test's reference)
//   seq-probe clock   --to NAME --bpm B --seconds N [--pitch P]  MIDI clock as a DAW sends it:
//                      Start, 24 clocks per beat (scheduled on a queue), a melody note on beat 1
//                      of bar 2 held for a bar, then Stop
//   seq-probe latency --to NAME --from NAME --count N --out FILE [--channel C] [--pitch P]
//                      N note-on/note-off pairs, 60-100 ms apart, sent at once both to NAME and
//                      to our own timestamping input port, which is also subscribed to --from: the
//                      loop-back copy's kernel timestamp is the send time, the echo's is when it
//                      came out of --from (one queue, one clock). JSON lines, one per event:
//                      {"i", "type", "pitch", "sent", "echo" (ns, null if none came), "ms"}.
//                      Exit 1 if some echo did not come within --echo-timeout seconds (60).
//
// Ports are found by a case-insensitive substring of "client:port" names (waiting up to
// --port-timeout seconds, default 300: the guest is emulated). Exit status 0 on success; 2 with a
// message on bad use or a missing port.
import CALSA
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("seq-probe: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: seq-probe record|keyboard|flood|play|cc|clock|latency ...") }
arguments.removeFirst()
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

var handle: OpaquePointer? = nil
guard snd_seq_open(&handle, "default", SND_SEQ_OPEN_DUPLEX, 0) >= 0, let seq = handle else { fail("cannot open the sequencer") }
let me = snd_seq_client_id(seq)

func findPort(_ pattern: String, readable: Bool) -> (Int32, Int32)? {
    var cinfo: OpaquePointer? = nil, pinfo: OpaquePointer? = nil
    snd_seq_client_info_malloc(&cinfo); snd_seq_port_info_malloc(&pinfo)
    defer { snd_seq_client_info_free(cinfo); snd_seq_port_info_free(pinfo) }
    snd_seq_client_info_set_client(cinfo, -1)
    let want = UInt32(readable ? SND_SEQ_PORT_CAP_SUBS_READ : SND_SEQ_PORT_CAP_SUBS_WRITE)
    while snd_seq_query_next_client(seq, cinfo) >= 0 {
        let client = snd_seq_client_info_get_client(cinfo)
        if client == me { continue }
        let cname = String(cString: snd_seq_client_info_get_name(cinfo))
        snd_seq_port_info_set_client(pinfo, client)
        snd_seq_port_info_set_port(pinfo, -1)
        while snd_seq_query_next_port(seq, pinfo) >= 0 {
            let name = "\(cname):\(String(cString: snd_seq_port_info_get_name(pinfo)))".lowercased()
            if snd_seq_port_info_get_capability(pinfo) & want != 0 && name.contains(pattern.lowercased()) {
                return (client, snd_seq_port_info_get_port(pinfo))
            }
        }
    }
    return nil
}

let portTimeout = Double(option("--port-timeout") ?? "300") ?? 300

func waitForPort(_ pattern: String, readable: Bool) -> (Int32, Int32) {
    let until = Date().addingTimeInterval(portTimeout)
    while Date() < until {
        if let p = findPort(pattern, readable: readable) { return p }
        usleep(50_000)
    }
    fail("no port matching \"\(pattern)\" after \(Int(portTimeout)) s")
}

/// Whether our port has a subscriber (`type`: SND_SEQ_QUERY_SUBS_READ for those who read from it,
/// SND_SEQ_QUERY_SUBS_WRITE for those who write to it).
func hasSubscriber(_ port: Int32, _ type: snd_seq_query_subs_type_t) -> Bool {
    var sub: OpaquePointer? = nil
    snd_seq_query_subscribe_malloc(&sub)
    defer { snd_seq_query_subscribe_free(sub) }
    var root = snd_seq_addr_t(client: UInt8(me), port: UInt8(port))
    snd_seq_query_subscribe_set_root(sub, &root)
    snd_seq_query_subscribe_set_type(sub, type)
    snd_seq_query_subscribe_set_index(sub, 0)
    return snd_seq_query_port_subscribers(seq, sub) >= 0
}

func note(_ message: String) { FileHandle.standardError.write(Data("seq-probe: \(message)\n".utf8)) }

/// A timestamping input port on `queue` (real time): the kernel stamps each event as it is
/// delivered to us.
func timestampingPort(_ name: String, queue: Int32) -> Int32 {
    var info: OpaquePointer? = nil
    snd_seq_port_info_malloc(&info)
    defer { snd_seq_port_info_free(info) }
    snd_seq_port_info_set_name(info, name)
    snd_seq_port_info_set_capability(info, UInt32(SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE))
    snd_seq_port_info_set_type(info, UInt32(SND_SEQ_PORT_TYPE_APPLICATION))
    snd_seq_port_info_set_timestamping(info, 1)
    snd_seq_port_info_set_timestamp_real(info, 1)
    snd_seq_port_info_set_timestamp_queue(info, queue)
    guard snd_seq_create_port(seq, info) >= 0 else { fail("cannot create the \(name) port") }
    return snd_seq_port_info_get_port(info)
}

/// A queue driven by the high-resolution timer, started.
func startedQueue() -> Int32 {
    let queue = snd_seq_alloc_queue(seq)
    if acc_seq_use_hrtimer(seq, queue) < 0 { note("no hrtimer, timestamps at jiffy resolution") }
    snd_seq_control_queue(seq, queue, Int32(SND_SEQ_EVENT_START.rawValue), 0, nil)
    snd_seq_drain_output(seq)
    return queue
}

func nanoseconds(_ e: snd_seq_event_t) -> Int64 { Int64(e.time.time.tv_sec) * 1_000_000_000 + Int64(e.time.time.tv_nsec) }

var stop = false
signal(SIGTERM) { _ in stop = true }
signal(SIGINT) { _ in stop = true }
let seconds = Double(option("--seconds") ?? "3600") ?? 3600  // clock: the length of the song
let deadline = Date().addingTimeInterval(seconds)

func send(_ port: Int32, on: Bool, channel: UInt8, note: UInt8, velocity: UInt8, buffered: Bool = false) {
    var ev = snd_seq_event_t()
    acc_seq_ev_clear(&ev)
    if on { acc_seq_ev_set_noteon(&ev, Int32(channel), Int32(note), Int32(velocity)) }
    else { acc_seq_ev_set_noteoff(&ev, Int32(channel), Int32(note), 0) }
    acc_seq_ev_set_source(&ev, port)
    acc_seq_ev_set_subs(&ev)
    acc_seq_ev_set_direct(&ev)
    if buffered { _ = snd_seq_event_output(seq, &ev) } else { _ = snd_seq_event_output_direct(seq, &ev) }
}

switch command {
case "record":
    guard let out = option("--out") else { fail("record needs --out FILE [--from NAME] [--ready FILE]") }
    snd_seq_set_client_name(seq, "probe-recorder")
    let queue = startedQueue()
    let port = timestampingPort("record", queue: queue)
    guard let file = fopen(out, "w") else { fail("cannot create \(out)") }
    if let from = option("--from") {
        let source = waitForPort(from, readable: true)
        let r = snd_seq_connect_from(seq, port, source.0, source.1)
        guard r >= 0 || r == -EBUSY else { fail("cannot connect from \(from)") }  // EBUSY: it connected us
        note("recording \(source.0):\(source.1)")
    } else {
        // Someone connects to us (the daemon's --output): wait for them.
        let until = Date().addingTimeInterval(portTimeout)
        while !hasSubscriber(port, SND_SEQ_QUERY_SUBS_WRITE) {
            if stop || Date() > until { fail("nobody connected to probe-recorder:record in \(Int(portTimeout)) s") }
            usleep(20_000)
        }
        note("recording what is sent to \(me):\(port)")
    }
    if let ready = option("--ready") { _ = FileManager.default.createFile(atPath: ready, contents: nil) }
    snd_seq_nonblock(seq, 1)
    var count = 0
    var overruns = 0
    // Until stopped, then on until the kernel has nothing more queued for us.
    var draining = false
    while true {
        if !draining && (stop || Date() >= deadline) { draining = true }
        var ev: UnsafeMutablePointer<snd_seq_event_t>? = nil
        let r = snd_seq_event_input(seq, &ev)
        if r == -EAGAIN {
            if draining { break }
            usleep(1000)
            continue
        }
        if r == -ENOSPC { overruns += 1; continue }
        guard r >= 0, let e = ev?.pointee else { continue }
        let t = nanoseconds(e)
        var line: String? = nil
        switch Int32(e.type) {
        case Int32(SND_SEQ_EVENT_NOTEON.rawValue), Int32(SND_SEQ_EVENT_NOTEOFF.rawValue):
            let on = Int32(e.type) == Int32(SND_SEQ_EVENT_NOTEON.rawValue) && e.data.note.velocity > 0
            line = "{\"t\": \(t), \"type\": \"\(on ? "on" : "off")\", \"channel\": \(e.data.note.channel), \"pitch\": \(e.data.note.note), \"velocity\": \(on ? Int(e.data.note.velocity) : 0)}\n"
        case Int32(SND_SEQ_EVENT_CONTROLLER.rawValue):
            line = "{\"t\": \(t), \"type\": \"cc\", \"channel\": \(e.data.control.channel), \"controller\": \(e.data.control.param), \"value\": \(e.data.control.value)}\n"
        default: break
        }
        if let line {
            fputs(line, file)
            fflush(file)  // the tests count lines while we record
            count += 1
        }
    }
    fclose(file)
    note("recorded \(count) events\(overruns > 0 ? ", \(overruns) input overruns (events lost)" : "")")
    if overruns > 0 { exit(1) }

case "keyboard":
    guard let name = option("--name"), let pitch = option("--hold").flatMap(UInt8.init) else { fail("keyboard needs --name NAME --hold PITCH") }
    snd_seq_set_client_name(seq, name)
    let port = snd_seq_create_simple_port(seq, "keys", UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ),
                                          UInt32(SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_HARDWARE))
    // Wait until someone subscribed (the daemon connects us by name), then hold a note.
    var sub: OpaquePointer? = nil
    snd_seq_query_subscribe_malloc(&sub)
    var root = snd_seq_addr_t(client: UInt8(me), port: UInt8(port))
    snd_seq_query_subscribe_set_root(sub, &root)
    snd_seq_query_subscribe_set_type(sub, SND_SEQ_QUERY_SUBS_READ)
    var subscribed = false
    let until = Date().addingTimeInterval(portTimeout)
    while !subscribed && Date() < until {
        snd_seq_query_subscribe_set_index(sub, 0)
        subscribed = snd_seq_query_port_subscribers(seq, sub) >= 0
        if !subscribed { usleep(50_000) }
    }
    guard subscribed else { fail("nobody connected to \(name) in \(Int(portTimeout)) s") }
    FileHandle.standardError.write(Data("seq-probe: \(name) connected, holding \(pitch)\n".utf8))
    send(port, on: true, channel: 0, note: pitch, velocity: 100)
    let held = Date().addingTimeInterval(seconds)  // held N seconds from now, however long the wait was
    while !stop && Date() < held { usleep(20_000) }
    // Gone without the note-off, like a keyboard pulled out mid-note.
    exit(0)

case "flood", "play", "cc", "clock":
    guard let to = option("--to") else { fail("\(command) needs --to NAME") }
    snd_seq_set_client_name(seq, "probe-\(command)")
    let port = snd_seq_create_simple_port(seq, "out", UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ), UInt32(SND_SEQ_PORT_TYPE_APPLICATION))
    let dest = waitForPort(to, readable: false)
    guard snd_seq_connect_to(seq, port, dest.0, dest.1) >= 0 else { fail("cannot connect to \(to)") }
    if command == "cc" {
        var ev = snd_seq_event_t()
        acc_seq_ev_clear(&ev)
        acc_seq_ev_set_controller(&ev, 0, Int32(option("--controller") ?? "120") ?? 120, Int32(option("--value") ?? "0") ?? 0)
        acc_seq_ev_set_source(&ev, port)
        acc_seq_ev_set_subs(&ev)
        acc_seq_ev_set_direct(&ev)
        _ = snd_seq_event_output_direct(seq, &ev)
    } else if command == "clock" {
        let bpm = Double(option("--bpm") ?? "120") ?? 120
        let pitch = UInt8(option("--pitch") ?? "67") ?? 67
        let queue = snd_seq_alloc_queue(seq)
        _ = acc_seq_use_hrtimer(seq, queue)
        snd_seq_control_queue(seq, queue, Int32(SND_SEQ_EVENT_START.rawValue), 0, nil)
        snd_seq_drain_output(seq)
        let clockNs = 60e9 / bpm / 24
        let total = Int(seconds * 1e9 / clockNs)
        func schedule(_ type: snd_seq_event_type, at ns: Double, note: UInt8 = 0, velocity: UInt8 = 0) {
            var ev = snd_seq_event_t()
            acc_seq_ev_clear(&ev)
            ev.type = snd_seq_event_type_t(type.rawValue)
            if type == SND_SEQ_EVENT_NOTEON || type == SND_SEQ_EVENT_NOTEOFF {
                ev.data.note.channel = 0
                ev.data.note.note = note
                ev.data.note.velocity = velocity
            }
            acc_seq_ev_set_source(&ev, port)
            acc_seq_ev_set_subs(&ev)
            let t = Int64(ns) + 200_000_000
            acc_seq_ev_schedule_real(&ev, queue, 0, UInt32(t / 1_000_000_000), UInt32(t % 1_000_000_000))
            _ = snd_seq_event_output(seq, &ev)
        }
        schedule(SND_SEQ_EVENT_START, at: -1)
        for i in 0..<total {
            schedule(SND_SEQ_EVENT_CLOCK, at: Double(i) * clockNs)
            // The melody: beat 1 of bar 2 (clock 96), held for a bar.
            if i == 96 { schedule(SND_SEQ_EVENT_NOTEON, at: Double(i) * clockNs, note: pitch, velocity: 100) }
            if i == 96 + 96 { schedule(SND_SEQ_EVENT_NOTEOFF, at: Double(i) * clockNs, note: pitch) }
            if i % 64 == 0 { snd_seq_drain_output(seq) }
        }
        schedule(SND_SEQ_EVENT_STOP, at: Double(total) * clockNs)
        snd_seq_drain_output(seq)
        // Our queue's events vanish with us: stay until it has sent them all (the Stop included).
        var qs: OpaquePointer? = nil
        snd_seq_queue_status_malloc(&qs)
        while !stop {
            snd_seq_drain_output(seq)
            guard snd_seq_get_queue_status(seq, queue, qs) >= 0 else { break }
            if snd_seq_queue_status_get_events(qs) == 0 { break }
            usleep(20_000)
        }
        snd_seq_queue_status_free(qs)
    } else if command == "play" {
        let pitch = UInt8(option("--pitch") ?? "60") ?? 60
        send(port, on: true, channel: 0, note: pitch, velocity: 90)
        let held = Date().addingTimeInterval(seconds)  // from the note-on, however long the port took to appear
        while !stop && Date() < held { usleep(10_000) }
        send(port, on: false, channel: 0, note: pitch, velocity: 0)
    } else {
        let rate = Double(option("--rate") ?? "10000") ?? 10000
        let start = Date()
        var sent = 0
        while !stop && Date() < deadline {
            let due = Int(Date().timeIntervalSince(start) * rate)
            while sent < due {
                let pitch = UInt8(48 + sent / 2 % 36)
                send(port, on: sent % 2 == 0, channel: 0, note: pitch, velocity: 80, buffered: true)
                sent += 1
            }
            snd_seq_drain_output(seq)
            usleep(1000)
        }
        FileHandle.standardError.write(Data("seq-probe: sent \(sent) events in \(String(format: "%.1f", Date().timeIntervalSince(start))) s\n".utf8))
    }
    snd_seq_drain_output(seq)
    usleep(100_000)

case "latency":
    guard let to = option("--to"), let from = option("--from"), let out = option("--out"),
          let count = option("--count").flatMap(Int.init), count > 0
    else { fail("latency needs --to NAME --from NAME --count N --out FILE [--channel C] [--pitch P]") }
    let channel = UInt8(option("--channel") ?? "0") ?? 0
    let basePitch = Int(option("--pitch") ?? "60") ?? 60
    let echoTimeout = Double(option("--echo-timeout") ?? "60") ?? 60
    snd_seq_set_client_name(seq, "probe-latency")
    let queue = startedQueue()
    let outPort = snd_seq_create_simple_port(seq, "out", UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ), UInt32(SND_SEQ_PORT_TYPE_APPLICATION))
    let inPort = timestampingPort("in", queue: queue)
    let dest = waitForPort(to, readable: false)
    let source = waitForPort(from, readable: true)
    guard snd_seq_connect_to(seq, outPort, dest.0, dest.1) >= 0 else { fail("cannot connect to \(to)") }
    guard snd_seq_connect_to(seq, outPort, me, inPort) >= 0 else { fail("cannot connect our output to our input") }
    guard snd_seq_connect_from(seq, inPort, source.0, source.1) >= 0 else { fail("cannot connect from \(from)") }
    note("latency: \(count) notes on channel \(channel) to \(dest.0):\(dest.1), echoes from \(source.0):\(source.1)")
    snd_seq_nonblock(seq, 1)

    // Kernel timestamps of each (on/off, pitch), in order: the loop-back copies and the echoes.
    struct Key: Hashable { let on: Bool; let pitch: Int }
    var sent: [Key: [Int64]] = [:], echoed: [Key: [Int64]] = [:]
    var order: [(i: Int, key: Key)] = []
    var echoes = 0
    func pump() {
        while true {
            var ev: UnsafeMutablePointer<snd_seq_event_t>? = nil
            let r = snd_seq_event_input(seq, &ev)
            if r == -EAGAIN { return }
            if r == -ENOSPC { note("input overrun: events lost"); continue }
            guard r >= 0, let e = ev?.pointee else { continue }
            let type = Int32(e.type)
            guard type == Int32(SND_SEQ_EVENT_NOTEON.rawValue) || type == Int32(SND_SEQ_EVENT_NOTEOFF.rawValue),
                  e.data.note.channel == channel else { continue }
            let key = Key(on: type == Int32(SND_SEQ_EVENT_NOTEON.rawValue) && e.data.note.velocity > 0, pitch: Int(e.data.note.note))
            if Int32(e.source.client) == me { sent[key, default: []].append(nanoseconds(e)) }
            else if Int32(e.source.client) == source.0 { echoed[key, default: []].append(nanoseconds(e)); echoes += 1 }
        }
    }
    /// Waits `ms` milliseconds, reading what comes meanwhile (its timestamps are the kernel's, so
    /// when we read it does not matter).
    func pause(ms: Int) {
        let until = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < until { pump(); usleep(2000) }
    }
    for i in 0..<count where !stop {
        let pitch = basePitch + i % 12
        // 60-100 ms from one note-on to the next, not in step with anything periodic.
        let spacing = 60 + (i * 17) % 41
        send(outPort, on: true, channel: channel, note: UInt8(pitch), velocity: 90)
        order.append((i, Key(on: true, pitch: pitch)))
        pause(ms: spacing / 2)
        send(outPort, on: false, channel: channel, note: UInt8(pitch), velocity: 0)
        order.append((i, Key(on: false, pitch: pitch)))
        pause(ms: spacing - spacing / 2)
    }
    let until = Date().addingTimeInterval(echoTimeout)
    while echoes < order.count && Date() < until && !stop { pump(); usleep(2000) }
    pump()
    guard let file = fopen(out, "w") else { fail("cannot create \(out)") }
    var taken: [Key: Int] = [:]
    var missing = 0
    for (i, key) in order {
        let k = taken[key, default: 0]
        taken[key] = k + 1
        let s = sent[key].flatMap { k < $0.count ? $0[k] : nil }
        let e = echoed[key].flatMap { k < $0.count ? $0[k] : nil }
        if e == nil || s == nil { missing += 1 }
        let ms = s.flatMap { s in e.map { String(format: "%.4f", Double($0 - s) / 1e6) } } ?? "null"
        fputs("{\"i\": \(i), \"type\": \"\(key.on ? "on" : "off")\", \"pitch\": \(key.pitch), \"sent\": \(s.map(String.init) ?? "null"), \"echo\": \(e.map(String.init) ?? "null"), \"ms\": \(ms)}\n", file)
    }
    fclose(file)
    note("latency: \(order.count) events sent, \(order.count - missing) echoed\(missing > 0 ? ", \(missing) without an echo (or without their loop-back copy) after \(Int(echoTimeout)) s" : "")")
    if missing > 0 { exit(1) }

case "echo":
    // A client that sends every note it receives straight back out, as the daemon's reader does
    // with the player's notes (poll, read, send direct): the guest's own wake-up latency under
    // the present load, a reference for the daemon's passthrough figures.
    guard let name = option("--name") else { fail("echo needs --name NAME") }
    snd_seq_set_client_name(seq, name)
    let port = snd_seq_create_simple_port(seq, "echo", UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ | SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE),
                                          UInt32(SND_SEQ_PORT_TYPE_APPLICATION | SND_SEQ_PORT_TYPE_MIDI_GENERIC))
    guard port >= 0 else { fail("cannot create the echo port") }
    snd_seq_nonblock(seq, 1)
    var fds = pollfd(fd: -1, events: 0, revents: 0)
    guard snd_seq_poll_descriptors(seq, &fds, 1, Int16(POLLIN)) == 1 else { fail("no poll descriptor") }
    note("echo: \(me):\(port) ready")
    while !stop {
        _ = poll(&fds, 1, 50)
        while true {
            var ev: UnsafeMutablePointer<snd_seq_event_t>? = nil
            let r = snd_seq_event_input(seq, &ev)
            guard r >= 0, let e = ev else { break }
            let type = Int32(e.pointee.type)
            guard type == Int32(SND_SEQ_EVENT_NOTEON.rawValue) || type == Int32(SND_SEQ_EVENT_NOTEOFF.rawValue) else { continue }
            var out = e.pointee
            acc_seq_ev_set_source(&out, port)
            acc_seq_ev_set_subs(&out)
            acc_seq_ev_set_direct(&out)
            _ = snd_seq_event_output_direct(seq, &out)
        }
    }

default:
    fail("unknown command \(command)")
}
