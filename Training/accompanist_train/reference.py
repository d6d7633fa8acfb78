"""Pure numpy streaming reference: one encoder column per step, one decoder token at a time,
with bounded caches — the algorithm the Swift runtime implements (docs/model.md).

Usage:
    m = StreamingModel(flat_params, cfg)          # flat names as in the safetensors file
    m.push_frame(pitch, onset, vel_bin, meter)    # step s = 0, 1, 2, ... (one call per step)
    logits = m.step(token, ptime, meter_of_ptime) # requires frames < ptime pushed
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from .config import ModelConfig
from .model import alibi_slopes, chord_class_tones


def _ln(x, scale, bias, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * scale + bias


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


class StreamingModel:
    def __init__(self, params: dict[str, np.ndarray], cfg: ModelConfig, dtype=np.float64):
        self.P = {k: np.asarray(v, dtype=dtype) for k, v in params.items()}
        self.cfg = cfg
        self.dtype = dtype
        self.slopes = alibi_slopes(cfg.n_heads).astype(dtype)
        self.reset()

    def reset(self):
        c = self.cfg
        self.n_steps = 0
        # encoder: per layer, the last W conv inputs (newest last)
        self.conv_hist = [deque(maxlen=c.conv_window) for _ in range(c.enc_layers)]
        self.enc_ring = {}                                    # step -> encoder column (d,), bounded
        # cross K/V per decoder layer for the last cross_window columns: deque of (step, k, v)
        self.cross_kv = [deque(maxlen=c.cross_window) for _ in range(c.dec_layers)]
        # self-attention K/V per decoder layer: the last self_window tokens, current included
        # (capacity self_window, so that dropping the newest entry restores the previous window)
        self.self_kv = [deque(maxlen=c.self_window) for _ in range(c.dec_layers)]
        self.n_tokens = 0
        self.start_kv = []
        P = self.P
        start = P["dec.start"]
        for l in range(c.dec_layers):
            pre = f"dec.layers.{l}.cross_attn."
            self.start_kv.append((start @ P[pre + "wk"], start @ P[pre + "wv"]))

    # ---- encoder -----------------------------------------------------------------------------
    def push_frame(self, pitch: int, onset: int, vel: int, meter: int) -> np.ndarray:
        """Compute encoder column for the next step from its melody frame."""
        c, P = self.cfg, self.P
        h = (P["enc.pitch_emb"][pitch + 1] + P["enc.onset_emb"][onset] + P["enc.vel_emb"][vel]
             + P["enc.meter_emb"][meter % c.n_meter])
        for l in range(c.enc_layers):
            pre = f"enc.layers.{l}."
            u = _ln(h, P[pre + "ln1.scale"], P[pre + "ln1.bias"], c.ln_eps)
            hist = self.conv_hist[l]
            hist.append(u)
            K = P[pre + "conv.kernel"]                        # (W, d), K[k] multiplies u[s-k]
            n = len(hist)
            y = (K[:n][::-1] * np.stack(hist)).sum(0)      # hist[n-1-k] is u_{s-k}
            h = h + y
            a = _ln(h, P[pre + "ln2.scale"], P[pre + "ln2.bias"], c.ln_eps)
            h = h + _gelu(a @ P[pre + "ffn.w1"] + P[pre + "ffn.b1"]) @ P[pre + "ffn.w2"] + P[pre + "ffn.b2"]
        enc = _ln(h, P["enc.ln_f.scale"], P["enc.ln_f.bias"], c.ln_eps)
        s = self.n_steps
        for l in range(c.dec_layers):
            pre = f"dec.layers.{l}.cross_attn."
            self.cross_kv[l].append((s, enc @ P[pre + "wk"], enc @ P[pre + "wv"]))
        self.enc_ring[s] = enc
        self.enc_ring.pop(s - c.cross_window - 1, None)
        self.n_steps += 1
        return enc

    def chord_logits(self, enc: np.ndarray) -> np.ndarray:
        return enc @ self.P["enc.chord_w"] + self.P["enc.chord_b"]

    def heard_chord(self, ptime: int) -> np.ndarray:
        """The chord features of a position at `ptime` whose chord is not given (docs/model.md,
        "Chord input"): the chord head's chord-tone probabilities at column ptime-1; zero at 0."""
        out = np.zeros(self.cfg.chord_input, dtype=self.dtype)
        if ptime > 0:
            q = _softmax(self.chord_logits(self._enc_col(ptime - 1)))
            out[:12] = q @ chord_class_tones(self.cfg.n_chord).astype(self.dtype)
        return out

    # ---- decoder -----------------------------------------------------------------------------
    def _heads(self, x):
        H = self.cfg.n_heads
        return x.reshape(H, -1)

    def step(self, token: int, ptime: int, meter: int, chord: np.ndarray | None = None) -> np.ndarray:
        """Feed one input token whose prediction time is `ptime` (its time plus its own time
        shift); returns the logits of the next token. Frames of steps < ptime must have been
        pushed; frames >= ptime may or may not have been (they are not used). `chord`: the
        chord features of this position (batches.chord_features for a given chord); None: the
        model's own hearing (heard_chord). Ignored by a model without chord input."""
        c, P = self.cfg, self.P
        assert self.n_steps >= ptime, "encoder columns up to ptime-1 are needed"
        H, dh = c.n_heads, c.d_model // c.n_heads
        if ptime == 0:
            cur = P["dec.start"]
        else:
            cur = self._enc_col(ptime - 1)
        h = P["dec.tok_emb"][token] + P["dec.meter_emb"][meter % c.n_meter] + cur @ P["dec.enc_w"] + P["dec.enc_b"]
        if c.chord_input:
            x = self.heard_chord(ptime) if chord is None else np.asarray(chord, dtype=self.dtype)
            h = h + x @ P["dec.chord_in_w"]
        for l in range(c.dec_layers):
            pre = f"dec.layers.{l}."
            # self-attention over the cached tokens and this one
            a = _ln(h, P[pre + "ln1.scale"], P[pre + "ln1.bias"], c.ln_eps)
            q, k, v = a @ P[pre + "self_attn.wq"], a @ P[pre + "self_attn.wk"], a @ P[pre + "self_attn.wv"]
            cache = self.self_kv[l]
            cache.append((k, v))
            ks = np.stack([kk for kk, _ in cache])           # (n, d), oldest first, newest = this token
            vs = np.stack([vv for _, vv in cache])
            n = len(ks)
            dist = np.arange(n - 1, -1, -1, dtype=self.dtype)  # newest has distance 0
            o = np.zeros(c.d_model, dtype=self.dtype)
            for hh in range(H):
                sl = slice(hh * dh, (hh + 1) * dh)
                sc = ks[:, sl] @ q[sl] / math.sqrt(dh) - self.slopes[hh] * dist
                p = _softmax(sc)
                o[sl] = p @ vs[:, sl]
            h = h + o @ P[pre + "self_attn.wo"]
            # cross-attention: start column + columns j in [ptime - cross_window, ptime - 1]
            a = _ln(h, P[pre + "ln2.scale"], P[pre + "ln2.bias"], c.ln_eps)
            q = a @ P[pre + "cross_attn.wq"]
            sk, sv = self.start_kv[l]
            cols = [(s, kk, vv) for (s, kk, vv) in self.cross_kv[l] if ptime - c.cross_window <= s <= ptime - 1]
            ks = np.stack([sk] + [kk for _, kk, _ in cols])
            vs = np.stack([sv] + [vv for _, _, vv in cols])
            cd = np.array([0.0] + [ptime - 1 - s for s, _, _ in cols], dtype=self.dtype)
            isstart = np.zeros(len(cd), dtype=bool)
            isstart[0] = True
            o = np.zeros(c.d_model, dtype=self.dtype)
            for hh in range(H):
                sl = slice(hh * dh, (hh + 1) * dh)
                sc = ks[:, sl] @ q[sl] / math.sqrt(dh) - np.where(isstart, 0.0, self.slopes[hh] * cd)
                p = _softmax(sc)
                o[sl] = p @ vs[:, sl]
            h = h + o @ P[pre + "cross_attn.wo"]
            a = _ln(h, P[pre + "ln3.scale"], P[pre + "ln3.bias"], c.ln_eps)
            h = h + _gelu(a @ P[pre + "ffn.w1"] + P[pre + "ffn.b1"]) @ P[pre + "ffn.w2"] + P[pre + "ffn.b2"]
        h = _ln(h, P["dec.ln_f.scale"], P["dec.ln_f.bias"], c.ln_eps)
        self.n_tokens += 1
        return h @ P["dec.out_w"] + P["dec.out_b"]

    def drop_last_token(self) -> None:
        """Truncate the decoder cache by one position (a pending time shift cut short by a
        melody onset is fed again with its shorter length)."""
        for cache in self.self_kv:
            cache.pop()
        self.n_tokens -= 1

    def _enc_col(self, s: int) -> np.ndarray:
        """Encoder column s (the engine keeps the last cross_window + 1 columns)."""
        return self.enc_ring[s]


def stream_logits(params, cfg: ModelConfig, frames: np.ndarray, meter: np.ndarray, tokens, ptimes, tok_meter,
                  dtype=np.float64, chord_in: np.ndarray | None = None) -> np.ndarray:
    """Runs the streaming model over a whole sequence as the engine would: before each token,
    push frames until all steps < its prediction time are in. `chord_in` (T, chord_input): the
    given chord of each position; None: heard. Returns (T, V) logits."""
    m = StreamingModel(params, cfg, dtype)
    out = []
    for i, (tok, p, mt) in enumerate(zip(tokens, ptimes, tok_meter)):
        while m.n_steps < p:
            s = m.n_steps
            m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        out.append(m.step(int(tok), int(p), int(mt), None if chord_in is None else chord_in[i]))
    return np.stack(out)
