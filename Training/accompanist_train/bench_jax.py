"""The decoder stepped one token at a time under jax.jit: the Python side of `accompanist bench`.

    python -m accompanist_train.bench_jax MODEL.safetensors [--tokens N] [--warmup N]

Loads the same safetensors file as the Swift runtime (export.load), builds a jitted decoder step
over fixed-size caches — the math of reference.StreamingModel.step (docs/model.md), with the
self-attention K/V in rings of self_window slots and the cross-attention K/V of the last
cross_window encoder columns passed in as arrays — and times single-token calls with the caches
full, as the Swift bench does. Prints one JSON object on stdout:

    {"us_per_token_p50": ..., "us_per_token_p99": ..., "tokens": N, "jax": "0.x", "device": "cpu", ...}

Each timed call is one token: dispatch, the jitted step, and block_until_ready on the logits (the
next token's choice needs them). The caches are donated, so XLA updates them in place.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np


def _params(flat: dict, cfg) -> dict:
    """The tensors the decoder needs, as jnp arrays (float32)."""
    import jax.numpy as jnp
    keep = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in flat.items() if k.startswith("dec.")}
    return keep


def make_step(cfg):
    """step(P, state, token, ptime_meter, cur, cross_k, cross_v, cross_dist, cross_valid)
    -> (state, logits). state = (self_k (L, Ws, d), self_v (L, Ws, d), n int32: tokens cached).

    cur: the decoder's memory column for this token (dec.start when ptime = 0, else encoder column
    ptime − 1), (d,). cross_k/cross_v: (L, Wc, d) K/V of encoder columns; cross_dist (Wc,) their
    distance ptime − 1 − t; cross_valid (Wc,) which slots hold a visible column. The start column's
    K/V (always visible, bias 0) is computed from P inside the step."""
    import jax
    import jax.numpy as jnp

    from .model import alibi_slopes

    L, d, H = cfg.dec_layers, cfg.d_model, cfg.n_heads
    dh = d // H
    Ws = cfg.self_window
    eps = cfg.ln_eps
    slopes = jnp.asarray(alibi_slopes(H), dtype=jnp.float32)
    inv = 1.0 / math.sqrt(dh)

    def ln(x, P, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + eps) * P[name + ".scale"] + P[name + ".bias"]

    def gelu(x):
        return 0.5 * x * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def attend(q, K, V, bias, valid):
        # q (d,), K/V (n, d), bias (H, n), valid (n,)
        qh = q.reshape(H, dh)
        Kh = K.reshape(-1, H, dh)
        Vh = V.reshape(-1, H, dh)
        sc = jnp.einsum("nhd,hd->hn", Kh, qh) * inv - bias
        sc = jnp.where(valid[None, :], sc, -jnp.inf)
        p = jax.nn.softmax(sc, axis=-1)
        return jnp.einsum("hn,nhd->hd", p, Vh).reshape(d)

    def step(P, state, token, meter, cur, cross_k, cross_v, cross_dist, cross_valid):
        self_k, self_v, n = state
        h = P["dec.tok_emb"][token] + P["dec.meter_emb"][meter % cfg.n_meter] + cur @ P["dec.enc_w"] + P["dec.enc_b"]
        slot = n % Ws
        count = jnp.minimum(n + 1, Ws)
        dist = jnp.mod(slot - jnp.arange(Ws), Ws)                 # newest (this token) has distance 0
        valid = dist < count
        self_bias = slopes[:, None] * dist[None, :].astype(jnp.float32)
        cross_bias = jnp.concatenate([jnp.zeros((H, 1), jnp.float32), slopes[:, None] * cross_dist[None, :]], axis=1)
        cross_ok = jnp.concatenate([jnp.ones((1,), bool), cross_valid])
        start = P["dec.start"]
        for l in range(L):
            pre = f"dec.layers.{l}."
            a = ln(h, P, pre + "ln1")
            q = a @ P[pre + "self_attn.wq"]
            self_k = self_k.at[l, slot].set(a @ P[pre + "self_attn.wk"])
            self_v = self_v.at[l, slot].set(a @ P[pre + "self_attn.wv"])
            h = h + attend(q, self_k[l], self_v[l], self_bias, valid) @ P[pre + "self_attn.wo"]
            a = ln(h, P, pre + "ln2")
            q = a @ P[pre + "cross_attn.wq"]
            K = jnp.concatenate([(start @ P[pre + "cross_attn.wk"])[None], cross_k[l]], axis=0)
            V = jnp.concatenate([(start @ P[pre + "cross_attn.wv"])[None], cross_v[l]], axis=0)
            h = h + attend(q, K, V, cross_bias, cross_ok) @ P[pre + "cross_attn.wo"]
            a = ln(h, P, pre + "ln3")
            h = h + gelu(a @ P[pre + "ffn.w1"] + P[pre + "ffn.b1"]) @ P[pre + "ffn.w2"] + P[pre + "ffn.b2"]
        h = ln(h, P, "dec.ln_f")
        logits = h @ P["dec.out_w"] + P["dec.out_b"]
        return (self_k, self_v, n + 1), logits

    return step


def empty_state(cfg):
    import jax.numpy as jnp
    z = jnp.zeros((cfg.dec_layers, cfg.self_window, cfg.d_model), jnp.float32)
    return (z, z + 0, jnp.asarray(0, jnp.int32))


def cross_from_reference(ref, ptime: int):
    """(cur, cross_k, cross_v, cross_dist, cross_valid) for a token at `ptime` from a
    reference.StreamingModel's state (its encoder columns and cross K/V rings)."""
    c = ref.cfg
    L, Wc, d = c.dec_layers, c.cross_window, c.d_model
    ck = np.zeros((L, Wc, d), np.float32)
    cv = np.zeros((L, Wc, d), np.float32)
    dist = np.zeros(Wc, np.float32)
    ok = np.zeros(Wc, bool)
    for l in range(L):
        cols = [(s, k, v) for (s, k, v) in ref.cross_kv[l] if ptime - Wc <= s <= ptime - 1]
        for i, (s, k, v) in enumerate(cols):
            ck[l, i], cv[l, i] = k, v
            dist[i], ok[i] = ptime - 1 - s, True
    cur = ref.P["dec.start"] if ptime == 0 else ref._enc_col(ptime - 1)
    return np.asarray(cur, np.float32), ck, cv, dist, ok


def bench(path: str, tokens: int = 2000, warmup: int = 300, seed: int = 0) -> dict:
    import jax
    import jax.numpy as jnp

    from .export import load

    flat, cfg, _ = load(path)
    P = _params(flat, cfg)
    raw = make_step(cfg)
    # The weights are closed over (constants of the compiled step), so a call passes only the
    # caches and the token's inputs: the least dispatch work JAX can do per token.
    step = jax.jit(lambda state, *a: raw(P, state, *a), donate_argnums=(0,))
    rng = np.random.default_rng(seed)
    L, Wc, d = cfg.dec_layers, cfg.cross_window, cfg.d_model
    # Full cross window of plausible K/V (the values do not change the cost), all visible.
    cross_k = jnp.asarray(rng.standard_normal((L, Wc, d)).astype(np.float32))
    cross_v = jnp.asarray(rng.standard_normal((L, Wc, d)).astype(np.float32))
    cross_dist = jnp.asarray(np.arange(Wc, dtype=np.float32))
    cross_ok = jnp.ones((Wc,), bool)
    cur = jnp.asarray(rng.standard_normal(d).astype(np.float32))
    state = empty_state(cfg)
    toks = rng.integers(0, cfg.vocab_size, size=warmup + tokens)
    t_compile = time.perf_counter()
    state, logits = step(state, jnp.int32(toks[0]), jnp.int32(0), cur, cross_k, cross_v, cross_dist, cross_ok)
    logits.block_until_ready()
    t_compile = time.perf_counter() - t_compile
    times = np.zeros(tokens)
    # Warm-up fills the self ring (self_window tokens) so that the timed calls see full caches.
    for i in range(1, warmup + tokens):
        t0 = time.perf_counter()
        state, logits = step(state, jnp.int32(toks[i]), jnp.int32(i % 32), cur, cross_k, cross_v, cross_dist, cross_ok)
        logits.block_until_ready()
        if i >= warmup:
            times[i - warmup] = time.perf_counter() - t0
    times.sort()
    pct = lambda q: float(times[min(len(times) - 1, int(len(times) * q))]) * 1e6
    return {"us_per_token_p50": pct(0.5), "us_per_token_p99": pct(0.99), "us_per_token_max": float(times[-1]) * 1e6,
            "tokens": tokens, "warmup": warmup, "compile_s": t_compile, "jax": jax.__version__,
            "device": str(jax.devices()[0].platform), "d_model": d, "dec_layers": L,
            "self_window": cfg.self_window, "cross_window": Wc, "model": path}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Time the decoder one token at a time under jax.jit (JSON on stdout).")
    ap.add_argument("model", help="safetensors file (accompanist-v1)")
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1, help="XLA CPU threads (1: the same single core as Swift)")
    a = ap.parse_args(argv)
    if a.threads == 1:
        import os
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    try:
        out = bench(a.model, a.tokens, a.warmup)
    except Exception as e:  # noqa: BLE001 - the caller wants one line
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
