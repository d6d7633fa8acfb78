"""Shared helpers for the tests: tiny configs, random songs, full-sequence logits."""
from __future__ import annotations

import numpy as np

from accompanist_train import tokens as Tk
from accompanist_train.config import ModelConfig

TINY = ModelConfig(d_model=16, n_heads=2, d_ff=32, enc_layers=2, dec_layers=2, conv_window=8,
                   self_window=6, cross_window=5)


def random_notes(rng, n, max_start=80, lo=40, hi=90):
    out = []
    for _ in range(n):
        s = int(rng.integers(0, max_start))
        out.append(Tk.make_note(int(rng.integers(lo, hi)), s, s + int(rng.integers(0, 20)), int(rng.integers(1, 128))))
    return out


def random_song(seed=0, n_mel=20, n_acc=30, max_start=80):
    rng = np.random.default_rng(seed)
    mel = Tk.normalize(random_notes(rng, n_mel, max_start, 60, 84))
    acc = Tk.normalize(random_notes(rng, n_acc, max_start, 36, 72))
    end = Tk.end_step(mel, acc)
    frames = Tk.melody_frames(mel, end)
    ids, times = Tk.encode(acc, frames, end)
    return mel, acc, frames, ids, times


from accompanist_train.fixtures import random_params  # noqa: E402,F401


def full_logits(flat, cfg, frames, meter, ids, ptimes, tmeter):
    import jax.numpy as jnp
    from accompanist_train.model import Accompanist, unflatten_params
    m = Accompanist(cfg)
    logits, chord = m.apply({"params": unflatten_params(flat)}, jnp.asarray(frames[None]), jnp.asarray(meter[None]),
                            jnp.asarray(ids[None]), jnp.asarray(ptimes[None]), jnp.asarray(tmeter[None]))
    return np.asarray(logits[0]), np.asarray(chord[0])
