#!/usr/bin/env python3
"""Checks of the live tests (standard library only; runs in the VM guest).

  analyze.py replay --render R.jsonl [--render-mid R.mid] --recorded REC.jsonl --bpm BPM
      The daemon's recorded note events on the accompaniment channel, note-ons and note-offs in
      order (type, pitch, and velocity for a note-on), begin with exactly those of
      `accompanist render --events` of the same melody and seed at the steps before the render's
      end step (its closing all-notes-off there is left out: the daemon plays on). The end step
      is read from R.mid (the end of its accompaniment track), else taken as the last step of
      R.jsonl. Prints the first difference; prints the timing error of the note-ons (and of all
      events) against their grid times (p50/p99/max) from the kernel's timestamps, and fails if
      the note-ons' p99 is over the limit (0: report only).
  analyze.py expected --render R.jsonl [--render-mid R.mid]
      Prints how many note events of the render come before its end step: what a live replay
      must have recorded, at least, before it can be stopped.
  analyze.py latency --recorded LAT.jsonl [--max-p50-ms A] [--max-p99-ms B] [--reference ECHO.jsonl [--factor F]]
      Summarises `seq-probe latency`: p50/p99/max of the echo latency; fails when an echo is
      missing, p50 is over A or p99 over B (0: no bound).
  analyze.py balanced --recorded REC.jsonl [--until-cc C]
      Every note-on has its note-off (or an All Notes Off on its channel) by the end; with
      --until-cc, every note sounding before the first controller C got its own note-off.
  analyze.py wav --file F.wav --min-rms R
      The WAV file has sound.
  analyze.py left-hand --in MELODY.mid --out OUT.mid --chords "D A D A,D ..." [--channel C]
      Writes MELODY.mid with a left hand added to its melody track, as a keyboard with a split
      sends both hands on one channel: one chord per bar (a bar "A,D" has one per half bar),
      struck on its beat and let go 30 ticks before the next, voiced below G3 (55); the
      conductor track is copied. For the replay with a split (--split G3 / split_note = "G3").
"""
import argparse
import json
import statistics
import sys
import wave
import array


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def varint(body, i):
    """A MIDI variable-length number at body[i]: (value, index after it)."""
    value = 0
    while True:
        b = body[i]; i += 1
        value = value << 7 | (b & 0x7F)
        if b < 0x80:
            return value, i


def midi_end_step(path):
    """The render's end step, from its MIDI file: the end-of-track tick of the last track (the
    accompaniment, which ends at the end step), as a grid step (8 per quarter note)."""
    ppq, tracks = read_tracks(path)
    ends = [next(t for t, e in events if e[:2] == b"\xff\x2f") for events in tracks
            if any(e[:2] == b"\xff\x2f" for _, e in events)]
    assert ends, f"{path}: no end of track"
    return (16 * ends[-1] + ppq) // (2 * ppq)  # Grid.step(ofTick:)


def render_end_step(args, rendered):
    if args.render_mid:
        return midi_end_step(args.render_mid)
    return max(e["step"] for e in rendered)


def note_event(e):
    """What must be equal, live and rendered: the type, the pitch and a note-on's velocity."""
    on = e["velocity"] > 0 if "step" in e else e["type"] == "on"
    return ("on", e["pitch"], e["velocity"]) if on else ("off", e["pitch"])


def expected_events(args):
    rendered = load(args.render)
    end = render_end_step(args, rendered)
    return [e for e in rendered if e["step"] < end], end


def expected(args):
    print(len(expected_events(args)[0]))
    return 0


def timing(pairs, step_ns):
    """p50/p99/max (ms) of |live time - grid time| over the pairs (live, rendered) of steps > 0."""
    # The recorder's clock has another origin, taken as the median offset. Step 0 is left out:
    # when the first melody note defines beat 1, the accompaniment of that step can only be
    # computed after the note is heard.
    origin = statistics.median([g["t"] - w["step"] * step_ns for g, w in pairs])
    late = [abs(g["t"] - origin - w["step"] * step_ns) / 1e6 for g, w in pairs if w["step"] > 0]
    if not late:
        return None
    return percentile(late, 0.5), percentile(late, 0.99), max(late), len(late)


def replay(args):
    want, end = expected_events(args)
    got = [e for e in load(args.recorded) if e["type"] in ("on", "off") and e["channel"] == args.channel]
    step_ns = 60e9 / args.bpm / 8
    # The same engine emits the same events in the same order, step by step, and the ALSA queue
    # delivers the events of a step in the order they were sent, so the live sequence of note-ons
    # and note-offs must begin with the rendered one, whatever its timing.
    first_bad = next((i for i, (g, w) in enumerate(zip(got, want)) if note_event(g) != note_event(w)), None)
    if first_bad is None and len(got) < len(want):
        first_bad = len(got)
    matched = list(zip(got, want))[:first_bad]
    ons = [(g, w) for g, w in matched if w["velocity"] > 0]
    summary = lambda t: "none" if t is None else f"p50 {t[0]:.3f} ms, p99 {t[1]:.3f} ms, max {t[2]:.3f} ms over {t[3]}"
    t_on, t_all = (timing(ons, step_ns) if ons else None), (timing(matched, step_ns) if matched else None)
    n_on = sum(1 for w in want if w["velocity"] > 0)
    if first_bad is not None:
        i = first_bad
        def show(e):
            n = note_event(e)
            return f"{n[0]} {n[1]}" + (f" v{n[2]}" if n[0] == "on" else "") + (f" @{e['step']}" if "step" in e else "")
        print(f"FAIL replay: the live sequence differs from the render at event {i} of {len(want)} "
              f"(steps < {end}; {len(got)} live events recorded on channel {args.channel}):")
        print(f"  rendered (type pitch velocity @step): ... {', '.join(show(w) for w in want[max(0, i - 3):i])} >>> "
              f"{', '.join(show(w) for w in want[i:i + 4]) or 'the end'}")
        print(f"  live:                                 ... {', '.join(show(g) for g in got[max(0, i - 3):i])} >>> "
              f"{', '.join(show(g) for g in got[i:i + 4]) or 'nothing more recorded'}")
        if i < len(want) and i < len(got) and note_event(got[i])[0] == "off" and note_event(want[i])[0] == "on":
            # A note-off the render does not have there: say how long the note it ends was held.
            p = got[i]["pitch"]
            began = next((k for k in range(i - 1, -1, -1) if got[k]["pitch"] == p and got[k]["type"] == "on"), None)
            if began is not None:
                steps = round((got[i]["t"] - got[began]["t"]) / step_ns)
                print(f"  (the live note-off of pitch {p} ends the note begun at event {began} (step {want[began]['step']}), "
                      f"{steps} steps = {steps / 8:g} beats later; the render holds it on)")
        print(f"  timing before the difference: note-ons {summary(t_on)}; all events {summary(t_all)}")
        return 1
    print(f"replay: the live sequence begins with the render's {len(want)} note events "
          f"({n_on} note-ons, {len(want) - n_on} note-offs; steps < {end}), in order")
    print(f"replay: timing error against the grid: note-ons {summary(t_on)}; all events {summary(t_all)}")
    if args.max_p50_ms > 0 and t_on is not None and t_on[0] > args.max_p50_ms:
        print(f"FAIL replay: p50 timing error of the note-ons {t_on[0]:.3f} ms over {args.max_p50_ms} ms")
        return 1
    if args.max_p99_ms > 0 and t_on is not None and t_on[1] > args.max_p99_ms:
        print(f"FAIL replay: p99 timing error of the note-ons {t_on[1]:.3f} ms over {args.max_p99_ms} ms")
        return 1
    print("PASS replay")
    return 0


def latency_of(path):
    """p50 and p99 of a latency recording (ms), None when nothing echoed."""
    got = [e["ms"] for e in load(path) if e["ms"] is not None]
    return (percentile(got, 0.5), percentile(got, 0.99)) if got else None


def latency(args):
    events = load(args.recorded)
    got = [e["ms"] for e in events if e["ms"] is not None]
    missing = len(events) - len(got)
    notes = len({e["i"] for e in events})
    if not got:
        print(f"FAIL latency: no echo of {len(events)} events")
        return 1
    p50, p99, worst = percentile(got, 0.5), percentile(got, 0.99), max(got)
    ons = [e["ms"] for e in events if e["ms"] is not None and e["type"] == "on"]
    offs = [e["ms"] for e in events if e["ms"] is not None and e["type"] == "off"]
    print(f"passthrough latency (kernel timestamps, guest): p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms "
          f"over {notes} notes ({len(ons)} note-ons: p50 {percentile(ons, 0.5) if ons else 0:.3f} ms; "
          f"{len(offs)} note-offs: p50 {percentile(offs, 0.5) if offs else 0:.3f} ms)")
    max_p50, max_p99 = args.max_p50_ms, args.max_p99_ms
    if args.reference:
        # The guest's CPU is emulated: when the host is busy, every wake-up in the guest is late,
        # the daemon's as much as any program's. The bounds scale with a trivial echo client's
        # latency measured just before, in the same guest (never below the absolute ones).
        ref = latency_of(args.reference)
        if ref is None:
            print("FAIL latency: the reference echo client echoed nothing")
            return 1
        print(f"reference echo client (poll, read, send; same guest, same load): p50 {ref[0]:.3f} ms, p99 {ref[1]:.3f} ms")
        max_p50 = max(max_p50, args.factor * ref[0])
        max_p99 = max(max_p99, args.factor * ref[1])
    bad = 0
    if missing:
        print(f"FAIL latency: {missing} of {len(events)} events never came out of the daemon")
        bad = 1
    if max_p50 > 0 and p50 > max_p50:
        print(f"FAIL latency: p50 {p50:.3f} ms over {max_p50:.3f} ms")
        bad = 1
    if max_p99 > 0 and p99 > max_p99:
        print(f"FAIL latency: p99 {p99:.3f} ms over {max_p99:.3f} ms")
        bad = 1
    if not bad:
        print(f"PASS latency: p50 {p50:.3f} ms within {max_p50:.3f} ms, p99 {p99:.3f} ms within {max_p99:.3f} ms, "
              f"every event echoed")
    return bad


def balanced(args):
    sounding = {}
    for e in load(args.recorded):
        if args.until_cc is not None and e["type"] == "cc" and e["controller"] == args.until_cc:
            break  # judge the explicit note-offs sent before this controller
        key = (e["channel"], e.get("pitch"))
        if e["type"] == "on":
            sounding[key] = sounding.get(key, 0) + 1
        elif e["type"] == "off" and sounding.get(key, 0) > 0:
            sounding[key] -= 1
        elif e["type"] == "cc" and e["controller"] in (120, 123):
            for k in list(sounding):
                if k[0] == e["channel"]:
                    sounding[k] = 0
    hanging = {k: v for k, v in sounding.items() if v > 0}
    if hanging:
        print(f"FAIL balanced: notes left hanging (channel, pitch): {sorted(hanging)}")
        return 1
    print("PASS balanced: every note ended")
    return 0


def wav(args):
    with wave.open(args.file) as w:
        frames = w.readframes(w.getnframes())
        width, rate, channels = w.getsampwidth(), w.getframerate(), w.getnchannels()
    if width != 2:
        print(f"FAIL wav: {width * 8}-bit samples, expected 16")
        return 1
    samples = array.array("h", frames)
    rms = (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5 / 32768
    seconds = len(samples) / channels / rate
    print(f"wav: {seconds:.1f} s, RMS {rms:.4f}")
    if rms < args.min_rms:
        print(f"FAIL wav: silent (RMS {rms:.5f} < {args.min_rms})")
        return 1
    print("PASS wav")
    return 0


# Left-hand voicings below G3 (55), root position.
VOICINGS = {"D": [38, 42, 45], "A": [45, 49, 52], "G": [43, 47, 50], "Em": [40, 43, 47], "Bm": [35, 38, 42],
            "F#m": [42, 45, 49], "E": [40, 44, 47]}


def read_tracks(path):
    """(ppq, [[(tick, event bytes)]]) of a MIDI file, running status expanded."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"MThd", f"{path}: not a MIDI file"
    ppq = int.from_bytes(data[12:14], "big")
    pos, tracks = 8 + int.from_bytes(data[4:8], "big"), []
    while pos + 8 <= len(data):
        kind, length = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
        body, pos = data[pos + 8:pos + 8 + length], pos + 8 + length
        if kind != b"MTrk":
            continue
        i, tick, status, events = 0, 0, 0, []
        while i < len(body):
            delta, i = varint(body, i)
            tick += delta
            if body[i] >= 0x80:
                status = body[i]; i += 1
            if status == 0xFF:
                start = i
                n, i = varint(body, i + 1)
                i += n
                events.append((tick, bytes([0xFF]) + body[start:i]))
            elif status in (0xF0, 0xF7):
                start = i
                n, i = varint(body, i)
                i += n
                events.append((tick, bytes([status]) + body[start:i]))
            else:
                n = 1 if status & 0xF0 in (0xC0, 0xD0) else 2
                events.append((tick, bytes([status]) + body[i:i + n]))
                i += n
        tracks.append(events)
    return ppq, tracks


def write_varint(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def left_hand(args):
    ppq, tracks = read_tracks(args.input)
    bar = 4 * ppq
    strikes = []  # (tick, chord name)
    for b, cell in enumerate(args.chords.split()):
        parts = cell.split(",")
        for k, name in enumerate(parts):
            strikes.append((b * bar + k * bar // len(parts), name))
    # Each chord after the first is struck an eighth of a step early (8 ticks at 480 per beat), as
    # a player's left hand often is, and let go 10 ticks before that. Both then lie well inside
    # the window that counts for the beat's step (the left hand's wait, docs/harmony.md: from
    # 0.75 step before the beat to 0.25 after), never near its edges, where the live timestamp
    # and the file's tick may fall on different sides. The first chord is on tick 0: it may
    # start the performance (beat 1) live as it does the render.
    strikes = [(t - ppq // 60 if t > 0 else t, name) for t, name in strikes]
    ends = [t for t, _ in strikes[1:]] + [len(args.chords.split()) * bar]
    added = []
    for (t, name), end in zip(strikes, ends):
        for p in VOICINGS[name]:
            added.append((t, bytes([0x90 | args.channel, p, 70])))
            added.append((end - ppq // 48, bytes([0x80 | args.channel, p, 64])))
    melody = next(i for i, t in enumerate(tracks) if any(e[0] & 0xF0 == 0x90 for _, e in t))

    def order(item):
        (tick, e), seq = item
        kind = e[0] & 0xF0
        # At one tick: meta and controls, then note-offs, then note-ons (stable otherwise).
        return (tick, 2 if kind == 0x90 and e[2] > 0 else 1 if kind in (0x80, 0x90) else 0, seq)
    body = [(t, e) for t, e in tracks[melody] if e[:2] != b"\xff\x2f"] + added
    merged = [x for x, _ in sorted(((x, i) for i, x in enumerate(body)), key=order)]
    end_tick = max(t for t, _ in merged)
    merged.append((end_tick, b"\xff\x2f\x00"))
    tracks[melody] = merged
    out = bytearray(b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big") + ppq.to_bytes(2, "big"))
    for events in tracks:
        chunk, last = bytearray(), 0
        for t, e in events:
            chunk += write_varint(t - last) + e
            last = t
        out += b"MTrk" + len(chunk).to_bytes(4, "big") + chunk
    with open(args.output, "wb") as f:
        f.write(out)
    print(f"left-hand: {len(strikes)} chords added to track {melody + 1} of {args.input} -> {args.output}")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("replay")
    r.add_argument("--render", required=True)
    r.add_argument("--recorded", required=True)
    r.add_argument("--bpm", type=float, required=True)
    r.add_argument("--channel", type=int, default=0)
    r.add_argument("--max-p99-ms", type=float, default=0, help="0: no bound on the p99")
    r.add_argument("--max-p50-ms", type=float, default=0, help="0: no bound on the p50")
    r.add_argument("--render-mid", default=None, help="the render's MIDI file, for its end step")
    x = sub.add_parser("expected")
    x.add_argument("--render", required=True)
    x.add_argument("--render-mid", default=None)
    lt = sub.add_parser("latency")
    lt.add_argument("--recorded", required=True)
    lt.add_argument("--max-p50-ms", type=float, default=0, help="0: no bound")
    lt.add_argument("--max-p99-ms", type=float, default=0, help="0: no bound")
    lt.add_argument("--reference", default=None, help="a latency recording of the echo client: the bounds scale with it")
    lt.add_argument("--factor", type=float, default=3.0, help="bound = max(absolute, factor x the reference's)")
    b = sub.add_parser("balanced")
    b.add_argument("--recorded", required=True)
    b.add_argument("--until-cc", type=int, default=None)
    w = sub.add_parser("wav")
    w.add_argument("--file", required=True)
    w.add_argument("--min-rms", type=float, default=0.001)
    lh = sub.add_parser("left-hand")
    lh.add_argument("--in", dest="input", required=True)
    lh.add_argument("--out", dest="output", required=True)
    lh.add_argument("--chords", required=True, help='one chord per bar; "A,D": two in a bar')
    lh.add_argument("--channel", type=int, default=0, help="0-based")
    args = p.parse_args()
    return {"replay": replay, "expected": expected, "latency": latency,
            "balanced": balanced, "wav": wav, "left-hand": left_hand}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
