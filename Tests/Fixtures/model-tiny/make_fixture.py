"""Writes the tiny-model parity fixture for the Swift ModelTests (Tests/ModelTests).

A randomly initialised model with small windows (so every ring buffer wraps), a random melody and
a random token sequence with non-decreasing prediction times; the expected logits come from the
numpy streaming reference (accompanist_train.reference, float64), the algorithm the Swift runtime
implements. Run from the repository root:

    Training/.venv/bin/python Tests/Fixtures/model-tiny/make_fixture.py

Writes model.safetensors (weights, config JSON in metadata "config") and
expected.safetensors (frames [L,3], meter [L], tokens/ptime/tok_meter [T] as F32, logits [T,V]).
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "Training"))
from accompanist_train.config import ModelConfig  # noqa: E402
from accompanist_train.model import flatten_params, init_params  # noqa: E402
from accompanist_train.reference import stream_logits  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

out = Path(__file__).resolve().parent
cfg = ModelConfig(d_model=32, n_heads=2, d_ff=64, enc_layers=2, dec_layers=2, conv_window=8,
                  self_window=12, cross_window=6, n_meter=32)
params = flatten_params(init_params(cfg, seed=3))
rng = np.random.default_rng(7)
# Larger than init scale so that attention and GELU see a real range of values.
params = {k: (v * 4.0 if v.ndim >= 2 else v + rng.normal(0, 0.3, v.shape)).astype(np.float32)
          for k, v in params.items()}

L, T = 40, 48
pitch = rng.integers(-1, 128, L)
onset = rng.integers(0, 2, L)
vel = rng.integers(0, 32, L)
frames = np.stack([pitch, onset, vel], axis=1).astype(np.int64)
meter = (np.arange(L) % 32).astype(np.int64)
tokens = rng.integers(0, cfg.vocab_size, T)
ptime = np.sort(rng.integers(0, L + 1, T))
ptime[:3] = 0                                         # a few tokens before any melody frame
tok_meter = ptime % 32

logits = stream_logits(params, cfg, frames, meter, tokens, ptime, tok_meter)

meta = {"config": json.dumps(asdict(cfg)), "format": "accompanist-model-v1"}
save_file(params, str(out / "model.safetensors"), metadata=meta)
save_file({"frames": frames.astype(np.float32), "meter": meter.astype(np.float32),
           "tokens": tokens.astype(np.float32), "ptime": ptime.astype(np.float32),
           "tok_meter": tok_meter.astype(np.float32), "logits": logits.astype(np.float32)},
          str(out / "expected.safetensors"))
print("wrote", out, "params", sum(v.size for v in params.values()), "logits", logits.shape)
