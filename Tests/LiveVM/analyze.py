#!/usr/bin/env python3
"""Checks of the live tests (standard library only; runs in the VM guest).

  analyze.py replay --render R.jsonl --recorded REC.jsonl --bpm BPM
      The daemon's recorded note-ons equal those of `accompanist render --events` of the same
      melody and seed, in order (pitch, velocity), up to the render's end; prints the timing error
      of each against its grid time (p50/p99/max) from the kernel's timestamps, and fails if p99
      is over the limit (0: report only).
  analyze.py balanced --recorded REC.jsonl [--until-cc C]
      Every note-on has its note-off (or an All Notes Off on its channel) by the end; with
      --until-cc, every note sounding before the first controller C got its own note-off.
  analyze.py wav --file F.wav --min-rms R
      The WAV file has sound.
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


def replay(args):
    rendered = load(args.render)
    recorded = [e for e in load(args.recorded) if e["type"] in ("on", "off")]
    end = max(e["step"] for e in rendered)  # the render's final all-notes-off step
    want = [e for e in rendered if e["velocity"] > 0 and e["step"] < end]
    got = [e for e in recorded if e["type"] == "on" and e["channel"] == args.channel][:len(want)]
    step_ns = 60e9 / args.bpm / 8
    # The same engine emits the same notes in the same order, and the ALSA queue delivers them in
    # that order, so the live note-ons, in order, must be the rendered ones, whatever their timing.
    pairs = list(zip(got, want))
    first_bad = next((i for i, (g, w) in enumerate(pairs) if (g["pitch"], g["velocity"]) != (w["pitch"], w["velocity"])), None)
    if len(got) != len(want) or first_bad is not None:
        i = first_bad if first_bad is not None else min(len(got), len(want))
        print(f"FAIL replay: {len(got)} notes live, {len(want)} rendered; first difference at note {i}: "
              f"live {[(g['pitch'], g['velocity']) for g in got[i:i + 5]]}, "
              f"rendered {[(w['step'], w['pitch'], w['velocity']) for w in want[i:i + 5]]}")
        return 1
    # Timing: each live note against its own grid time. The recorder's clock has another origin,
    # taken as the median offset. Step 0 is left out: when the first melody note defines beat 1,
    # the accompaniment of that step can only be computed after the note is heard.
    origin = statistics.median([g["t"] - w["step"] * step_ns for g, w in pairs])
    errors = [(g["t"] - origin - w["step"] * step_ns) / 1e6 for g, w in pairs if w["step"] > 0]
    late = [abs(x) for x in errors]
    p50, p99, worst = percentile(late, 0.5), percentile(late, 0.99), max(late)
    print(f"replay: {len(got)} notes equal to the render, in order (steps < {end}); timing error against "
          f"the grid over {len(errors)} note-ons: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {worst:.3f} ms")
    if args.max_p99_ms > 0 and p99 > args.max_p99_ms:
        print(f"FAIL replay: p99 timing error {p99:.3f} ms over {args.max_p99_ms} ms")
        return 1
    print("PASS replay")
    return 0


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


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("replay")
    r.add_argument("--render", required=True)
    r.add_argument("--recorded", required=True)
    r.add_argument("--bpm", type=float, required=True)
    r.add_argument("--channel", type=int, default=0)
    r.add_argument("--max-p99-ms", type=float, default=1.0, help="0: report the timing only")
    b = sub.add_parser("balanced")
    b.add_argument("--recorded", required=True)
    b.add_argument("--until-cc", type=int, default=None)
    w = sub.add_parser("wav")
    w.add_argument("--file", required=True)
    w.add_argument("--min-rms", type=float, default=0.001)
    args = p.parse_args()
    return {"replay": replay, "balanced": balanced, "wav": wav}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
