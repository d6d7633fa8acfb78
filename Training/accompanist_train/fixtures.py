"""Parity fixtures for the Swift runtime (Tests/Fixtures/model/).

    python -m accompanist_train.fixtures --out Tests/Fixtures/model

Writes tiny.safetensors (a tiny random model, float32, config in the metadata) and
tiny_case.json: a melody (frames, metrical positions per step), a token sequence with the
prediction time and metrical position of each input position, and the expected outputs of the
float64 numpy streaming reference: encoder columns and chord logits per step, token logits per
input position.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import tokens as Tk
from .config import ModelConfig
from .export import save

TINY = ModelConfig(d_model=16, n_heads=2, d_ff=32, enc_layers=2, dec_layers=2, conv_window=8,
                   self_window=6, cross_window=5, n_meter=32)


def random_params(cfg: ModelConfig, seed: int = 0, scale: float = 0.3) -> dict[str, np.ndarray]:
    """Init shapes, then every tensor N(0, scale^2) (LayerNorm scales 1 + N(0, 0.2^2)), so that
    every path matters numerically."""
    from .model import flatten_params, init_params
    flat = flatten_params(init_params(cfg, seed))
    rng = np.random.default_rng(seed + 1)
    out = {}
    for k, v in flat.items():
        if k.endswith(".scale"):
            out[k] = (1.0 + 0.2 * rng.standard_normal(v.shape)).astype(np.float32)
        else:
            out[k] = (scale * rng.standard_normal(v.shape)).astype(np.float32)
    return out


def make_case(seed: int = 0):
    rng = np.random.default_rng(seed)
    mel, acc = [], []
    for _ in range(14):
        s = int(rng.integers(0, 60))
        mel.append(Tk.make_note(int(rng.integers(60, 84)), s, s + int(rng.integers(1, 10)), int(rng.integers(1, 128))))
    for _ in range(16):
        s = int(rng.integers(0, 60))
        acc.append(Tk.make_note(int(rng.integers(36, 72)), s, s + int(rng.integers(1, 16)), int(rng.integers(1, 128))))
    mel, acc = Tk.normalize(mel), Tk.normalize(acc)
    end = Tk.end_step(mel, acc)
    frames = Tk.melody_frames(mel, end)
    ids, times = Tk.encode(acc, frames, end)
    pt = Tk.prediction_times(ids, times)
    meter = Tk.metrical_positions(np.arange(end + 1))
    return frames, meter, ids, times, pt, meter[pt]


TINY_CHORD = ModelConfig(**{**TINY.__dict__, "chord_input": 25})


def chord_inputs(n: int, seed: int = 0) -> list:
    """Per position: a given chord's features (random tones and bass) or None (heard), mixed."""
    from .batches import chord_features
    rng = np.random.default_rng(seed + 17)
    out = []
    for i in range(n):
        if i % 3 == 2:
            out.append(None)
        else:
            out.append(chord_features(np.array([int(rng.integers(0, 4096))]), np.array([int(rng.integers(-1, 12))]))[0])
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="Tests/Fixtures/model")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_case(out, TINY, "tiny")
    write_case(out, TINY_CHORD, "tiny_chord")


def write_case(out: Path, cfg: ModelConfig, name: str) -> None:
    """{name}.safetensors and {name}_case.json; a model with chord input also gets `chord_in`
    (per position: 25 features, or null for the model's own hearing)."""
    from .reference import StreamingModel
    TINY = cfg
    flat = random_params(TINY, 0)
    save(flat, TINY, out / f"{name}.safetensors")
    frames, meter, ids, times, pt, tm = make_case(0)
    cin = chord_inputs(len(ids)) if cfg.chord_input else [None] * len(ids)
    m = StreamingModel(flat, TINY, np.float64)
    enc, chord, logits = [], [], []
    for s in range(len(frames)):
        e = m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        enc.append(e)
        chord.append(m.chord_logits(e))
    m2 = StreamingModel(flat, TINY, np.float64)
    for tok, p, mt in zip(ids, pt, tm):
        while m2.n_steps < p:
            s = m2.n_steps
            m2.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        logits.append(m2.step(int(tok), int(p), int(mt), cin[len(logits)]))
    r = lambda x: [[float(f"{v:.7g}") for v in row] for row in np.asarray(x)]
    case = {
        "about": f"tiny random model ({name}.safetensors) run by the float64 numpy streaming reference "
                 "(Training/accompanist_train/reference.py); regenerate with "
                 "`python -m accompanist_train.fixtures --out Tests/Fixtures/model` from the repository root",
        "config": json.loads(json.dumps(TINY.__dict__)),
        "frames": frames.tolist(),
        "meter": meter[:len(frames)].tolist(),
        "tokens": ids.tolist(),
        "times": times.tolist(),
        "ptimes": pt.tolist(),
        "token_meter": tm.tolist(),
        "enc": r(enc),
        "chord_logits": r(chord),
        "logits": r(logits),
        "tolerance": 1e-4,
    }
    if cfg.chord_input:
        case["chord_in"] = [None if c is None else [float(v) for v in c] for c in cin]
    (out / f"{name}_case.json").write_text(json.dumps(case, separators=(",", ":")) + "\n")
    print(f"wrote {out}/{name}.safetensors and {name}_case.json: {len(frames)} steps, {len(ids)} tokens")


if __name__ == "__main__":
    main()
