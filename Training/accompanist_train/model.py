"""The streaming accompanist (Flax): causal Fourier-conv encoder + windowed transformer decoder.

docs/model.md states the exact math; accompanist_train.reference is the step-by-step twin that
the Swift runtime follows. Parameters are named so that flattening the tree with '.' gives the
safetensors tensor names.
"""
from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from .config import ModelConfig

NEG = -1e9


def chord_class_tones(n_chord: int) -> np.ndarray:
    """(n_chord, 12) float32: 1 where pitch class k is a tone of chord-head class c (root c // 5,
    quality c % 5: maj, min, sus, dim, aug; the last class, N, has none). docs/model.md."""
    q = [(0, 4, 7), (0, 3, 7), (0, 2, 5, 7), (0, 3, 6), (0, 4, 8)]
    m = np.zeros((n_chord, 12), np.float32)
    for c in range(n_chord - 1):
        for t in q[c % 5]:
            m[c, (c // 5 + t) % 12] = 1.0
    return m


def heard_chord_features(chord_logits, chord_input: int):
    """The chord features of a position whose chord is not given: the chord head's probability
    that each pitch class is a chord tone (softmax over classes times chord_class_tones), zero
    bass and flag. chord_logits (..., n_chord) -> (..., chord_input)."""
    q = jax.nn.softmax(chord_logits, axis=-1)
    pi = q @ jnp.asarray(chord_class_tones(chord_logits.shape[-1]))
    return jnp.concatenate([pi, jnp.zeros(pi.shape[:-1] + (chord_input - 12,), pi.dtype)], axis=-1)


def alibi_slopes(n_heads: int) -> np.ndarray:
    """slope_h = 2^(-8 (h+1) / H), h = 0..H-1."""
    return np.array([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)], dtype=np.float32)


def gelu(x):
    return 0.5 * x * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


class LayerNorm(nn.Module):
    eps: float = 1e-5

    @nn.compact
    def __call__(self, x):
        d = x.shape[-1]
        scale = self.param("scale", nn.initializers.ones, (d,))
        bias = self.param("bias", nn.initializers.zeros, (d,))
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + self.eps) * scale + bias


class FFN(nn.Module):
    d_model: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        init = nn.initializers.normal(0.02)
        w1 = self.param("w1", init, (self.d_model, self.d_ff))
        b1 = self.param("b1", nn.initializers.zeros, (self.d_ff,))
        w2 = self.param("w2", init, (self.d_ff, self.d_model))
        b2 = self.param("b2", nn.initializers.zeros, (self.d_model,))
        return gelu(x @ w1 + b1) @ w2 + b2


def causal_conv_fft(u, kernel):
    """y[s] = sum_{k=0}^{W-1} kernel[k] * u[s-k] (zero before 0), per channel.
    u: (B, L, d), kernel: (W, d). FFT of size >= 2L (zero padded: no wrap-around)."""
    L = u.shape[1]
    W = kernel.shape[0]
    k = kernel[:L] if W > L else kernel
    n = 1
    while n < 2 * L:
        n *= 2
    U = jnp.fft.rfft(u, n=n, axis=1)
    K = jnp.fft.rfft(k, n=n, axis=0)
    return jnp.fft.irfft(U * K[None], n=n, axis=1)[:, :L].astype(u.dtype)


class ConvMix(nn.Module):
    d_model: int
    window: int

    @nn.compact
    def __call__(self, u):
        def init(key, shape):
            W, d = shape
            # decaying random filters: each channel has its own time scale
            decay = jnp.exp(jnp.linspace(math.log(1.0), math.log(1.0 / W), d))    # (d,)
            env = jnp.exp(-jnp.arange(W)[:, None] * decay[None, :] * 4.0 / 4.0)
            g = jax.random.normal(key, shape) * env
            return g / jnp.sqrt((g ** 2).sum(0, keepdims=True) + 1e-6) * 0.5
        kernel = self.param("kernel", init, (self.window, self.d_model))
        return causal_conv_fft(u, kernel)


class EncoderBlock(nn.Module):
    cfg: ModelConfig

    @nn.compact
    def __call__(self, h):
        c = self.cfg
        h = h + ConvMix(c.d_model, c.conv_window, name="conv")(LayerNorm(c.ln_eps, name="ln1")(h))
        h = h + FFN(c.d_model, c.d_ff, name="ffn")(LayerNorm(c.ln_eps, name="ln2")(h))
        return h


class Encoder(nn.Module):
    cfg: ModelConfig

    @nn.compact
    def __call__(self, frames, meter):
        """frames: (B, L, 3) int (pitch/-1, onset, vel bin); meter: (B, L) int.
        Returns enc (B, L, d) and chord logits (B, L, n_chord) (column s predicts the chord at s+1)."""
        c = self.cfg
        init = nn.initializers.normal(0.02)
        pitch_emb = self.param("pitch_emb", init, (129, c.d_model))
        onset_emb = self.param("onset_emb", init, (2, c.d_model))
        vel_emb = self.param("vel_emb", init, (32, c.d_model))
        meter_emb = self.param("meter_emb", init, (c.n_meter, c.d_model))
        h = (pitch_emb[frames[..., 0] + 1] + onset_emb[frames[..., 1]] + vel_emb[frames[..., 2]]
             + meter_emb[meter % c.n_meter])
        for l in range(c.enc_layers):
            h = EncoderBlock(c, name=f"layers_{l}")(h)
        enc = LayerNorm(c.ln_eps, name="ln_f")(h)
        cw = self.param("chord_w", init, (c.d_model, c.n_chord))
        cb = self.param("chord_b", nn.initializers.zeros, (c.n_chord,))
        return enc, enc @ cw + cb


class Attention(nn.Module):
    d_model: int
    n_heads: int

    @nn.compact
    def __call__(self, x, mem, bias):
        """x: (B, T, d) queries; mem: (B, S, d) keys/values source; bias: (B, H, T, S) additive
        (ALiBi and mask). Projections have no biases."""
        init = nn.initializers.normal(0.02)
        d, H = self.d_model, self.n_heads
        dh = d // H
        wq = self.param("wq", init, (d, d))
        wk = self.param("wk", init, (d, d))
        wv = self.param("wv", init, (d, d))
        wo = self.param("wo", init, (d, d))
        B, T, _ = x.shape
        S = mem.shape[1]
        q = (x @ wq).reshape(B, T, H, dh)
        k = (mem @ wk).reshape(B, S, H, dh)
        v = (mem @ wv).reshape(B, S, H, dh)
        s = jnp.einsum("bthd,bshd->bhts", q, k) / math.sqrt(dh) + bias
        p = jax.nn.softmax(s, axis=-1)
        o = jnp.einsum("bhts,bshd->bthd", p, v).reshape(B, T, d)
        return o @ wo


class DecoderBlock(nn.Module):
    cfg: ModelConfig

    @nn.compact
    def __call__(self, h, mem, self_bias, cross_bias):
        c = self.cfg
        a = LayerNorm(c.ln_eps, name="ln1")(h)
        h = h + Attention(c.d_model, c.n_heads, name="self_attn")(a, a, self_bias)
        a = LayerNorm(c.ln_eps, name="ln2")(h)
        h = h + Attention(c.d_model, c.n_heads, name="cross_attn")(a, mem, cross_bias)
        h = h + FFN(c.d_model, c.d_ff, name="ffn")(LayerNorm(c.ln_eps, name="ln3")(h))
        return h


def decoder_biases(cfg: ModelConfig, ptime, enc_len: int, valid=None):
    """Self bias (B,H,T,T) and cross bias (B,H,T,1+L) for prediction times `ptime` (B,T), given
    in encoder-column coordinates (column j of the segment is step S0 + j). Column 0 of the
    memory is the start column (bias 0, always visible); memory column 1+j is encoder column j,
    visible iff ptime - cross_window <= j <= ptime - 1, with bias -slope * (ptime - 1 - j)."""
    slopes = jnp.asarray(alibi_slopes(cfg.n_heads))[None, :, None, None]
    T = ptime.shape[1]
    i = jnp.arange(T)
    dist = i[:, None] - i[None, :]                                  # (T, T)
    ok = (dist >= 0) & (dist < cfg.self_window)
    self_bias = jnp.where(ok[None, None], -slopes * dist[None, None].astype(jnp.float32), NEG)
    j = jnp.arange(enc_len)
    p = ptime[:, :, None]                                           # (B, T, 1)
    cd = p - 1 - j[None, None, :]                                   # (B, T, L)
    vis = (cd >= 0) & (cd < cfg.cross_window)
    cb = jnp.where(vis[:, None], -slopes * cd[:, None].astype(jnp.float32), NEG)   # (B,H,T,L)
    start = jnp.zeros(cb.shape[:3] + (1,), cb.dtype)
    return self_bias, jnp.concatenate([start, cb], axis=-1)


class Accompanist(nn.Module):
    cfg: ModelConfig

    def setup(self):
        c = self.cfg
        self.enc = Encoder(c)
        self.dec = Decoder(c)

    def __call__(self, frames, meter, tokens, ptime, tok_meter, chord_in=None, given=None):
        """frames (B,L,3), meter (B,L): the segment's melody (column j = step S0+j);
        tokens (B,T); ptime (B,T): prediction time of each input position minus S0;
        tok_meter (B,T): metrical position of the prediction time;
        chord_in (B,T,chord_input): the given chord at each prediction time (batches.chord_features);
        given (B,): 1 where those are used, 0 where the chord head's own hearing replaces them
        (docs/model.md, "Chord input"). Without chord_in, no chord is given anywhere.
        Returns (token logits (B,T,V), chord logits (B,L,n_chord))."""
        enc, chord = self.enc(frames, meter)
        cin = None
        if self.cfg.chord_input:
            B, L, _ = chord.shape
            # the chord head at column ptime-1 (zero features at ptime 0), not trained through this path
            ch = jnp.concatenate([jnp.zeros((B, 1, chord.shape[-1]), chord.dtype), jax.lax.stop_gradient(chord)], axis=1)
            idx = jnp.clip(ptime, 0, L)
            heard = heard_chord_features(jnp.take_along_axis(ch, idx[:, :, None], axis=1), self.cfg.chord_input)
            heard = jnp.where((ptime > 0)[..., None], heard, 0.0)
            if chord_in is None:
                cin = heard
            else:
                g = (jnp.ones((B,)) if given is None else given)[:, None, None]
                cin = g * chord_in + (1 - g) * heard
        return self.dec(enc, tokens, ptime, tok_meter, cin), chord

    def encode(self, frames, meter):
        return self.enc(frames, meter)


class Decoder(nn.Module):
    cfg: ModelConfig

    @nn.compact
    def __call__(self, enc, tokens, ptime, tok_meter, chord_in=None):
        c = self.cfg
        init = nn.initializers.normal(0.02)
        tok_emb = self.param("tok_emb", init, (c.vocab_size, c.d_model))
        meter_emb = self.param("meter_emb", init, (c.n_meter, c.d_model))
        start = self.param("start", init, (c.d_model,))
        enc_w = self.param("enc_w", init, (c.d_model, c.d_model))
        enc_b = self.param("enc_b", nn.initializers.zeros, (c.d_model,))
        B, L, d = enc.shape
        mem = jnp.concatenate([jnp.broadcast_to(start, (B, 1, d)), enc], axis=1)    # (B, 1+L, d)
        # encoder state at the prediction time: column ptime-1, i.e. memory index ptime (0 = start)
        idx = jnp.clip(ptime, 0, L)
        cur = jnp.take_along_axis(mem, idx[:, :, None], axis=1)                       # (B, T, d)
        h = tok_emb[tokens] + meter_emb[tok_meter % c.n_meter] + cur @ enc_w + enc_b
        if c.chord_input:
            # zero at init, so a model without chord input starts from exactly its old behaviour
            chord_w = self.param("chord_in_w", nn.initializers.zeros, (c.chord_input, c.d_model))
            h = h + chord_in @ chord_w
        self_bias, cross_bias = decoder_biases(c, ptime, L)
        for l in range(c.dec_layers):
            h = DecoderBlock(c, name=f"layers_{l}")(h, mem, self_bias, cross_bias)
        h = LayerNorm(c.ln_eps, name="ln_f")(h)
        out_w = self.param("out_w", init, (c.d_model, c.vocab_size))
        out_b = self.param("out_b", nn.initializers.zeros, (c.vocab_size,))
        return h @ out_w + out_b


def init_params(cfg: ModelConfig, seed: int = 0, L: int = 16, T: int = 8):
    m = Accompanist(cfg)
    frames = jnp.zeros((1, L, 3), jnp.int32).at[..., 0].set(-1)
    z = jnp.zeros((1, L), jnp.int32)
    t = jnp.zeros((1, T), jnp.int32)
    return m.init(jax.random.PRNGKey(seed), frames, z, t, t, t)["params"]


def flatten_params(params) -> dict[str, np.ndarray]:
    """Nested Flax params -> {'dec.layers.0.self_attn.wq': array, ...}."""
    out = {}

    def rec(prefix, node):
        for k, v in node.items():
            name = k.replace("layers_", "layers.")
            name = {"enc": "enc", "dec": "dec"}.get(name, name)
            key = f"{prefix}.{name}" if prefix else name
            if isinstance(v, dict) or hasattr(v, "items"):
                rec(key, v)
            else:
                out[key] = np.asarray(v, dtype=np.float32)
    rec("", params)
    return out


def unflatten_params(flat: dict[str, np.ndarray]):
    tree: dict = {}
    for k, v in flat.items():
        parts = k.split(".")
        merged = []
        i = 0
        while i < len(parts):
            if parts[i] == "layers" and i + 1 < len(parts):
                merged.append(f"layers_{parts[i + 1]}")
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        node = tree
        for p in merged[:-1]:
            node = node.setdefault(p, {})
        node[merged[-1]] = jnp.asarray(v)
    return tree


def count_params(params) -> int:
    return int(sum(np.prod(v.shape) for v in jax.tree_util.tree_leaves(params)))
