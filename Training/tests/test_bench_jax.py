"""bench_jax: the jitted one-token decoder step equals reference.py, and the CLI prints JSON."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from accompanist_train import bench_jax, export
from accompanist_train import tokens as Tk
from accompanist_train.reference import StreamingModel

from helpers import TINY, random_params, random_song


def test_jit_step_matches_reference():
    import jax
    import jax.numpy as jnp

    flat = random_params(TINY, seed=3)
    _, _, frames, ids, times = random_song(seed=5)
    ptimes = np.asarray(Tk.prediction_times(ids, times))
    ref = StreamingModel(flat, TINY)
    P = {k: jnp.asarray(v) for k, v in flat.items() if k.startswith("dec.")}
    step = jax.jit(bench_jax.make_step(TINY))
    state = bench_jax.empty_state(TINY)
    worst = 0.0
    n = 0
    for tok, p in zip(ids, ptimes):
        p = int(p)
        while ref.n_steps < p:
            s = ref.n_steps
            ref.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), s % 32)
        want = ref.step(int(tok), p, p % 32)
        cur, ck, cv, dist, ok = bench_jax.cross_from_reference(ref, p)
        state, got = step(P, state, jnp.int32(tok), jnp.int32(p % 32), cur, ck, cv, dist, ok)
        got = np.asarray(got, np.float64)
        worst = max(worst, float(np.abs(got - want).max() / np.abs(want).max()))
        n += 1
    assert n > TINY.self_window + 5          # the self ring wrapped
    assert worst < 1e-4, worst


def test_cli_prints_json(tmp_path):
    flat = random_params(TINY, seed=1)
    path = tmp_path / "tiny.safetensors"
    export.save(flat, TINY, path)
    out = subprocess.run([sys.executable, "-m", "accompanist_train.bench_jax", str(path), "--tokens", "50", "--warmup", "10"],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["tokens"] == 50
    assert 0 < r["us_per_token_p50"] <= r["us_per_token_p99"] <= r["us_per_token_max"]
    assert r["d_model"] == TINY.d_model
