"""The Swift engine against the Python streaming reference on POP909 songs (issue 4: note-in-chord
within 0.02 of the reference for the same songs and seeds).

For each song: the MELODY placed on the beat grid (beat_midi.txt) exactly as for training,
shifted by whole steps so that bar lines fall on multiples of 32 (the engines' metrical
position is the step within a 4/4 bar), written as a MIDI file (480 ticks per beat, 60 ticks a
step) and rendered by `accompanist render --engine model --events`; the same frames go through
`evaluate.generate` (the numpy streaming reference). Both accompaniments are scored by
`evaluate.metrics` against the song's chords. The two use different random generators, so with
sampling the comparison is of the averages; greedy (`--temperature 0`) they are the same tokens.

  python -m accompanist_train.swift_compare --model Models/accompanist.safetensors \\
      --binary .build/release/accompanist --max-songs 20 --max-bars 32 --out Training/runs/swift_compare

With --swift-only the reference is skipped: the Swift engine alone scores a model over many songs
and seeds (--seeds K renders each song K times) in minutes, to compare checkpoints.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import miditoolkit
import numpy as np

from . import data as D
from . import tokens as Tk
from .evaluate import REPO, chord_masks_per_step, generate, load_model, metrics, summarize
from .midi import read_midi, track_notes


def melody_notes(root: Path, sid: str, track: str = "MELODY") -> tuple[list[Tk.Note], int]:
    """The MELODY (or another track) on the beat grid (as data.load_song) and the step of the
    first downbeat."""
    d = root / sid
    midi = read_midi(d / f"{sid}.mid")
    beats = np.loadtxt(d / "beat_midi.txt", ndmin=2)
    tts = midi.get_tick_to_time_mapping()
    ns = track_notes(midi, track)
    st = D.seconds_to_steps(tts[np.minimum([n.start for n in ns], len(tts) - 1)], beats[:, 0])
    en = D.seconds_to_steps(tts[np.minimum([n.end for n in ns], len(tts) - 1)], beats[:, 0])
    mel = Tk.normalize(Tk.make_note(n.pitch, a, b, n.velocity) for n, a, b in zip(ns, st, en))
    downbeats = np.nonzero(beats[:, 2] > 0.5)[0] if beats.shape[1] > 2 else np.array([0])
    return mel, int(downbeats[0]) * 8 if len(downbeats) else 0


def write_midi(path: Path, tracks: dict[str, list[Tk.Note]]) -> None:
    """Grid notes as a MIDI file, one track per entry (in order): 120 bpm, 480 ticks per beat,
    60 ticks a step."""
    midi = miditoolkit.MidiFile(ticks_per_beat=480)
    midi.tempo_changes = [miditoolkit.TempoChange(120, 0)]
    for name, notes in tracks.items():
        inst = miditoolkit.Instrument(program=0, name=name)
        inst.notes = [miditoolkit.Note(velocity=x.velocity, pitch=x.pitch, start=x.start * 60, end=x.end * 60)
                      for x in notes]
        midi.instruments.append(inst)
    midi.dump(str(path))


def read_events(path: Path) -> list[Tk.Note]:
    """The accompaniment of `render --events` (JSON lines: step, pitch, velocity; 0 = off) as notes."""
    open_at: dict[int, tuple[int, int]] = {}
    out: list[Tk.Note] = []
    for line in Path(path).read_text().splitlines():
        e = json.loads(line)
        if e["velocity"] > 0:
            open_at[e["pitch"]] = (e["step"], e["velocity"])
        elif e["pitch"] in open_at:
            s0, v = open_at.pop(e["pitch"])
            out.append(Tk.make_note(e["pitch"], s0, e["step"], v))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--binary", default=str(REPO / ".build/release/accompanist"))
    ap.add_argument("--data", default=str(REPO.parent / "shared/datasets/pop909"))
    ap.add_argument("--split", default=str(REPO / "Training/split.json"))
    ap.add_argument("--subset", default="test")
    ap.add_argument("--max-songs", type=int, default=20)
    ap.add_argument("--max-bars", type=int, default=32)
    ap.add_argument("--temperature", type=float, default=0.9)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--chord-guidance", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "Training/runs/swift_compare"))
    ap.add_argument("--swift-only", action="store_true",
                    help="only the Swift engine: fast enough to compare models over many songs and seeds")
    ap.add_argument("--seeds", type=int, default=1, help="renders per song (seeds seed + song index + 1000 k)")
    a = ap.parse_args(argv)
    root = D.check_root(a.data)
    sids = [s for s in D.load_split(Path(a.split))[a.subset] if s in set(D.song_ids(root))][:a.max_songs]
    flat, cfg = (None, None) if a.swift_only else load_model(a.model)[:2]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = {"python": [], "swift": []}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for i, sid in enumerate(sids):
            mel, first_downbeat = melody_notes(root, sid)
            shift = (-first_downbeat) % 32
            n = a.max_bars * 32
            mel = [Tk.make_note(x.pitch, x.start + shift, x.end + shift, x.velocity) for x in mel if x.start + shift < n]
            if not mel:
                print(f"[{i + 1}/{len(sids)}] {sid}: no melody in the first {a.max_bars} bars, skipped", file=sys.stderr)
                continue
            frames = Tk.melody_frames(mel, n + 64).astype(np.int64)
            meter = np.arange(n + 64) % 32
            chords = np.concatenate([np.zeros(shift, np.int64), chord_masks_per_step(root / sid, n + 64)])[:n + 64]
            src, dst, ev = Path(tmp) / f"{sid}.mid", Path(tmp) / f"{sid}.out.mid", Path(tmp) / f"{sid}.jsonl"
            write_midi(src, {"MELODY": mel})
            for k in range(a.seeds):
                seed = a.seed + i + 1000 * k
                if not a.swift_only:
                    _, py = generate(flat, cfg, frames, meter, n, a.temperature, a.top_p, seed, chord_guidance=a.chord_guidance)
                cmd = [a.binary, "render", str(src), "-o", str(dst), "--events", str(ev), "--engine", "model",
                       "--model", a.model, "--seed", str(seed), "--temperature", str(a.temperature),
                       "--top-p", str(a.top_p), "--chord-guidance", str(a.chord_guidance), "--beats-per-bar", "4"]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"error: {' '.join(cmd)}: {r.stderr.strip()}", file=sys.stderr)
                    return 1
                sw = read_events(ev)
                if not a.swift_only:
                    rows["python"].append(metrics(py, frames, chords, n))
                rows["swift"].append(metrics(sw, frames, chords, n))
                py_text = "" if a.swift_only else f"python {rows['python'][-1]['note_in_chord']:.3f}, "
                print(f"[{i + 1}/{len(sids)}] {sid} seed {seed}: note-in-chord {py_text}"
                      f"swift {rows['swift'][-1]['note_in_chord']:.3f} ({time.time() - t0:.0f}s)", file=sys.stderr)
    summ = {k: summarize(v) for k, v in rows.items() if v}
    report = {"songs": sids, "settings": vars(a), "summary": summ}
    (out / "swift_compare.json").write_text(json.dumps(report, indent=1, default=float))
    for k, v in summ.items():
        print(f"{k}: note-in-chord {v['note_in_chord']:.3f}, pcs {v['pcs']:.3f}, notes/beat {v['notes_per_beat']:.2f}, "
              f"doubling {v['doubling']:.3f}")
    if not a.swift_only:
        diff = abs(summ["python"]["note_in_chord"] - summ["swift"]["note_in_chord"])
        print(f"note-in-chord difference: {diff:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
