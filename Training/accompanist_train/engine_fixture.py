"""Greedy generation by the Python streaming reference on a melody file, for the Swift engine's
parity test (Tests/EngineTests/NeuralEngineTests.swift): the same model, the same melody, the
same engine loop (evaluate.generate: cut time shifts, forced NOTE_OFF after max_duration, the
grammar's pitch range and polyphony), temperature 0. The Swift NeuralEngine must feed exactly
these tokens.

  python -m accompanist_train.engine_fixture --model M.safetensors --midi Examples/twinkle.mid \\
      --out Tests/Fixtures/model/engine_tiny_twinkle.json [--beats-per-bar 4]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import tokens as Tk
from .evaluate import generate
from .export import load
from .midi import grid_notes_from_ticks, read_midi


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--midi", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--beats-per-bar", type=int, default=4)
    ap.add_argument("--chord-guidance", type=float, default=0.0)
    args = ap.parse_args(argv)

    flat, cfg, _ = load(args.model)
    midi = read_midi(args.midi)
    track = next(i for i in midi.instruments if i.notes)  # the first track with notes, as render
    melody = grid_notes_from_ticks(track.notes, midi.ticks_per_beat)
    last = max(n.end for n in melody)
    bar = 8 * args.beats_per_bar
    n_steps = max(bar, (last + bar - 1) // bar * bar)  # render: the bar line at or after the end
    frames = Tk.melody_frames(melody, n_steps + 1)
    meter = np.arange(n_steps + 1) % bar
    toks, _ = generate(flat, cfg, frames, meter, n_steps, temperature=0.0, top_p=1.0, seed=0,
                       chord_guidance=args.chord_guidance)
    out = {"model": Path(args.model).name, "midi": Path(args.midi).name, "beats_per_bar": args.beats_per_bar,
           "steps": n_steps, "chord_guidance": args.chord_guidance, "tokens": [int(t) for t in toks],
           "made_by": "python -m accompanist_train.engine_fixture " + " ".join(argv if argv is not None else sys.argv[1:])}
    Path(args.out).write_text(json.dumps(out) + "\n")
    print(f"{args.out}: {len(toks)} tokens over {n_steps} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
