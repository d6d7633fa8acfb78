"""How well the model hears the chord from the melody alone (issue #10): the encoder's chord head,
causally, on the songs of a split.

    python -m accompanist_train.chord_accuracy --model Models/accompanist.safetensors --subset test

At every step s with an annotated chord (not N), column s−1 of the encoder (melody frames < s)
predicts the chord at s, as the engine uses it:
- top1: the most likely of the 61 classes (root x maj/min/sus/dim/aug, N) is the annotated
  chord's class (data.chord_class);
- chord_tone: of the three pitch classes the model finds most likely to be chord tones (π,
  docs/model.md), the share that are tones of the annotated chord (data.chord_tones: every
  quality, seventh and added tone);
- root: the most likely class has the annotated root.
Pooled over steps of all songs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from . import data as D
from .evaluate import REPO


def chord_accuracy(flat, cfg, songs) -> dict:
    import jax.numpy as jnp

    from .model import Accompanist, chord_class_tones, unflatten_params
    params = unflatten_params(flat)
    model = Accompanist(cfg)
    tones = chord_class_tones(cfg.n_chord)
    n = top1 = root = 0
    ct = 0.0
    for s in songs:
        L = len(s.frames)
        frames = jnp.asarray(s.frames[None].astype(np.int32))
        meter = jnp.asarray(s.meter[None, :L].astype(np.int32))
        _, logits = model.apply({"params": params}, frames, meter, method=Accompanist.encode)
        logits = np.asarray(logits[0])                      # (L, n_chord): column j predicts step j+1
        q = np.exp(logits - logits.max(-1, keepdims=True))
        q /= q.sum(-1, keepdims=True)
        pi = q @ tones                                      # (L, 12)
        steps = np.arange(1, L)
        cls = s.chords[steps].astype(int)
        keep = cls != D.CHORD_N
        pred = logits[steps - 1].argmax(-1)
        top1 += int((pred[keep] == cls[keep]).sum())
        root += int(((pred[keep] // 5) == (cls[keep] // 5)).sum())
        mask = s.chord_pc[steps].astype(int)
        top3 = np.argsort(-pi[steps - 1], axis=1)[:, :3]
        hit = (mask[:, None] >> top3) & 1
        ct += float(hit[keep].mean(1).sum())
        n += int(keep.sum())
    return {"steps": n, "top1": top1 / max(n, 1), "root": root / max(n, 1), "chord_tone": ct / max(n, 1)}


def main(argv=None) -> int:
    from .data import load_songs, load_split
    from .export import load
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=str(REPO.parent / "shared/datasets/pop909"))
    ap.add_argument("--split", default=str(REPO / "Training/split.json"))
    ap.add_argument("--subset", default="test")
    ap.add_argument("--cache", default=str(REPO / "Training/runs/cache"))
    a = ap.parse_args(argv)
    flat, cfg, _ = load(a.model)
    songs = load_songs(a.data, load_split(Path(a.split))[a.subset], a.cache, progress=False)
    r = chord_accuracy(flat, cfg, songs)
    print(json.dumps({"model": a.model, "subset": a.subset, "songs": len(songs), **r}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
