"""Hindsight harmony (issue #11): a small NON-causal chord estimator, melody -> one chord a beat.

    python -m accompanist_train.hindsight train --out Training/runs/hindsight [--steps 3000]
    python -m accompanist_train.hindsight eval --weights Models/hindsight.safetensors --subset valid
    python -m accompanist_train.hindsight charts --weights ... --subset test --out DIR

It may look at the whole melody (a file offline, or a take already played), so it is not bound by
the causality rule; it never runs on the real-time path. docs/hindsight.md has the contract; in
short:

- Features, one row a beat (8 grid steps), F = 53: the share of the beat each melody pitch class
  sounds (12), the pitch classes struck in it (12), the one sounding on its first step (12), the
  song's pitch-class histogram so far as a key cue (12, duration-weighted, normalised to sum 1
  over the whole melody given), the share of the beat that is rest (1), the beat's place in the
  bar (4, one-hot of metrical position // 8).
- Model (`HindsightModel`, d = 96): input projection; four residual dilated convolutions over
  beats (kernel 3, dilations 1, 2, 4, 8, pre-LayerNorm, GELU); two pre-LN blocks of full
  multi-head self-attention over the song (4 heads, no positions: it compares content, which is
  how it finds the repeated sections) and a GELU feed-forward (d -> 2d -> d); a final LayerNorm;
  a head for the 61 chord classes (root x maj/min/sus/dim/aug, N) and one for the 12 chord
  tones (sigmoid).
- Decoding (`decode`): Viterbi over the per-beat class log-probabilities with a penalty for a
  change of chord that depends on the beat's place in the bar (a change on beat 1 is free).
- Test-time transposition (`class_log_probs`): the posterior averaged over copies of the melody
  transposed evenly round the octave, each read back; the model file says how many
  (`transpositions` in its metadata, DEFAULT_TRANSPOSITIONS for an export).

Trained on POP909's chord annotations with random transposition and (`--dropout`) dropout on every
residual branch; the split is Training/split.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import data as D

REPO = Path(__file__).resolve().parents[2]
STEPS_PER_BEAT = 8
N_FEATURES = 53
N_CLASSES = D.N_CHORD
DILATIONS = (1, 2, 4, 8)
N_ATTENTION = 2
N_HEADS = 4
D_MODEL = 96
LN_EPS = 1e-5


# ---- features and labels -------------------------------------------------------------------------
def beat_features(frames: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """(n_beats, 53) float32 from melody frames (L, 3): pitch/-1, onset, velocity bin; and the
    metrical position per step (>= L)."""
    L = len(frames)
    nb = -(-L // STEPS_PER_BEAT)
    pitch = np.full(nb * STEPS_PER_BEAT, -1, np.int64)
    pitch[:L] = frames[:, 0]
    onset = np.zeros(nb * STEPS_PER_BEAT, bool)
    onset[:L] = frames[:, 1] > 0
    p = pitch.reshape(nb, STEPS_PER_BEAT)
    o = onset.reshape(nb, STEPS_PER_BEAT) & (p >= 0)
    f = np.zeros((nb, N_FEATURES), np.float32)
    sounding = p >= 0
    pc = np.where(sounding, p % 12, 0)
    for b in range(nb):
        for k in range(STEPS_PER_BEAT):
            if sounding[b, k]:
                f[b, pc[b, k]] += 1.0 / STEPS_PER_BEAT
                if o[b, k]:
                    f[b, 12 + pc[b, k]] = 1.0
        if sounding[b, 0]:
            f[b, 24 + pc[b, 0]] = 1.0
    hist = f[:, :12].sum(0)
    if hist.sum() > 0:
        f[:, 36:48] = hist / hist.sum()
    f[:, 48] = 1.0 - sounding.mean(1)
    m = np.asarray(meter[:nb * STEPS_PER_BEAT:STEPS_PER_BEAT], np.int64)
    m = np.concatenate([m, np.zeros(nb - len(m), np.int64)])
    f[np.arange(nb), 49 + (m // STEPS_PER_BEAT) % 4] = 1.0
    return f


def beat_labels(chords: np.ndarray, chord_pc: np.ndarray, n_beats: int) -> tuple[np.ndarray, np.ndarray]:
    """Per beat: the chord class covering most of its steps (ties: the earliest) and that
    chord's tone mask. (n_beats,), (n_beats,)"""
    cls = np.full(n_beats, D.CHORD_N, np.int64)
    pcs = np.zeros(n_beats, np.int64)
    for b in range(n_beats):
        c = np.asarray(chords[b * STEPS_PER_BEAT:(b + 1) * STEPS_PER_BEAT], np.int64)
        m = np.asarray(chord_pc[b * STEPS_PER_BEAT:(b + 1) * STEPS_PER_BEAT], np.int64)
        if len(c) == 0:
            continue
        vals, counts = np.unique(c, return_counts=True)
        best = vals[counts == counts.max()]
        pick = next(x for x in c if x in best)
        cls[b] = pick
        pcs[b] = m[list(c).index(pick)]
    return cls, pcs


def transpose_features(f: np.ndarray, k: int) -> np.ndarray:
    """Beat features (n, 53) of the melody k semitones up: the four pitch-class blocks rotated."""
    g = f.copy()
    for a in (0, 12, 24, 36):
        g[:, a:a + 12] = np.roll(f[:, a:a + 12], k, axis=1)
    return g


def transpose(f: np.ndarray, cls: np.ndarray, pcs: np.ndarray, k: int):
    """Everything up k semitones."""
    return transpose_features(f, k), D.transpose_chords(cls, k), D.rotate_masks(pcs, k)


def song_arrays(s: D.Song) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = beat_features(s.frames, s.meter)
    cls, pcs = beat_labels(s.chords, s.chord_pc, len(f))
    return f, cls, pcs


# ---- the model (numpy reference, used for export checks and by the Swift parity test) -----------
def _ln(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + LN_EPS) * g + b


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def _softmax(x: np.ndarray) -> np.ndarray:
    """Row softmax of logits."""
    q = np.exp(x - x.max(-1, keepdims=True))
    return q / q.sum(-1, keepdims=True)


def split_members(w: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    """The members of an ensemble file (docs/hindsight.md, "Ensembles"): member 0's tensors are
    named as a single model's, member i's (i >= 1) carry the prefix `m{i}.`. A single model is
    an ensemble of one."""
    out = [{k: v for k, v in w.items() if not (k[:1] == "m" and k.split(".", 1)[0][1:].isdigit())}]
    while f"m{len(out)}.in.w" in w:
        p = f"m{len(out)}."
        out.append({k[len(p):]: v for k, v in w.items() if k.startswith(p)})
    return out


def join_members(ws: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One weight set from the members of an ensemble (`split_members` undoes it)."""
    out = dict(ws[0])
    for i, w in enumerate(ws[1:], 1):
        out.update({f"m{i}.{k}": v for k, v in w.items()})
    return out


def shape_of(w: dict[str, np.ndarray]) -> tuple[int, tuple[int, ...], int]:
    """(d_model, dilations, attention blocks) of a weight set (the dilations double from 1); of
    its first member if it is an ensemble."""
    w = split_members(w)[0]
    n_conv = sum(1 for k in w if k.endswith(".ln.g") and k.startswith("conv"))
    n_att = sum(1 for k in w if k.endswith(".ln1.g"))
    return w["in.w"].shape[1], tuple(2 ** i for i in range(n_conv)), n_att


def forward_numpy(w: dict[str, np.ndarray], f: np.ndarray, heads: int = N_HEADS) -> tuple[np.ndarray, np.ndarray]:
    """(class logits (n, 61), tone logits (n, 12)) for features f (n, 53), float64 math; of the
    first member of an ensemble."""
    d_model, dilations, n_att = shape_of(w)
    w = {k: v.astype(np.float64) for k, v in split_members(w)[0].items()}
    h = f.astype(np.float64) @ w["in.w"] + w["in.b"]
    n = len(h)
    for i, d in enumerate(dilations):
        x = _ln(h, w[f"conv{i}.ln.g"], w[f"conv{i}.ln.b"])
        y = np.zeros_like(h) + w[f"conv{i}.b"]
        for tap, off in enumerate((-d, 0, d)):
            src = np.arange(n) + off
            ok = (src >= 0) & (src < n)
            y[ok] += x[src[ok]] @ w[f"conv{i}.w"][tap]
        h = h + _gelu(y)
    dh = d_model // heads
    for i in range(n_att):
        x = _ln(h, w[f"att{i}.ln1.g"], w[f"att{i}.ln1.b"])
        q, k, v = (x @ w[f"att{i}.{m}"] for m in ("wq", "wk", "wv"))
        out = np.zeros_like(h)
        for hd in range(heads):
            sl = slice(hd * dh, (hd + 1) * dh)
            a = q[:, sl] @ k[:, sl].T / math.sqrt(dh)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            out[:, sl] = a @ v[:, sl]
        h = h + out @ w[f"att{i}.wo"]
        x = _ln(h, w[f"att{i}.ln2.g"], w[f"att{i}.ln2.b"])
        h = h + _gelu(x @ w[f"att{i}.ff1.w"] + w[f"att{i}.ff1.b"]) @ w[f"att{i}.ff2.w"] + w[f"att{i}.ff2.b"]
    h = _ln(h, w["out.ln.g"], w["out.ln.b"])
    return h @ w["chord.w"] + w["chord.b"], h @ w["tones.w"] + w["tones.b"]


def class_log_probs(w: dict[str, np.ndarray], f: np.ndarray, transpositions: int = 1, heads: int = N_HEADS) -> np.ndarray:
    """(n, 61) log class posterior, averaged over `transpositions` evenly spaced transpositions
    of the melody (12 / transpositions semitones apart; 1: the model as it is) and over the
    members of an ensemble (`split_members`: every member hears every copy). Each copy's
    features are transposed up k semitones (`transpose_features`), and its posterior is read back
    down k: the model was trained under random transposition, and averaging 12 copies gave the
    first model (no dropout) three points of top-1 on the validation songs (Models/README.md).
    Float64."""
    if transpositions < 1 or 12 % transpositions:
        raise ValueError(f"transpositions must divide 12, not {transpositions}")
    acc = np.zeros((len(f), N_CLASSES))
    ms = split_members(w)
    for m in ms:
        for i in range(transpositions):
            k = i * 12 // transpositions
            cl, _ = forward_numpy(m, transpose_features(f, k), heads)
            acc += _softmax(cl)[:, D.transpose_chords(np.arange(N_CLASSES), k)]     # class c of the copy is c + k
    return np.log(np.maximum(acc / (transpositions * len(ms)), 1e-30))


def init_weights(seed: int = 0, d: int = D_MODEL, dilations=DILATIONS, n_att: int = N_ATTENTION) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def lin(i, o, scale=1.0):
        return (rng.standard_normal((i, o)) * scale / math.sqrt(i)).astype(np.float32)
    w = {"in.w": lin(N_FEATURES, d), "in.b": np.zeros(d, np.float32)}
    for i in range(len(dilations)):
        w[f"conv{i}.ln.g"], w[f"conv{i}.ln.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
        w[f"conv{i}.w"] = np.stack([lin(d, d, 0.5) for _ in range(3)])
        w[f"conv{i}.b"] = np.zeros(d, np.float32)
    for i in range(n_att):
        for n in ("ln1", "ln2"):
            w[f"att{i}.{n}.g"], w[f"att{i}.{n}.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
        for m in ("wq", "wk", "wv"):
            w[f"att{i}.{m}"] = lin(d, d)
        w[f"att{i}.wo"] = lin(d, d, 0.5)
        w[f"att{i}.ff1.w"], w[f"att{i}.ff1.b"] = lin(d, 2 * d), np.zeros(2 * d, np.float32)
        w[f"att{i}.ff2.w"], w[f"att{i}.ff2.b"] = lin(2 * d, d, 0.5), np.zeros(d, np.float32)
    w["out.ln.g"], w["out.ln.b"] = np.ones(d, np.float32), np.zeros(d, np.float32)
    w["chord.w"], w["chord.b"] = lin(d, N_CLASSES), np.zeros(N_CLASSES, np.float32)
    w["tones.w"], w["tones.b"] = lin(d, 12), np.zeros(12, np.float32)
    return w


def forward_jax(w, f, valid, dropout: float = 0.0, key=None):
    """Batched forward: f (B, N, 53), valid (B, N) bool -> (class logits, tone logits). With
    `dropout` > 0 and a PRNG `key` (training), each residual branch's output is dropped at that
    rate (inverted dropout)."""
    import jax
    import jax.numpy as jnp
    keys = iter(jax.random.split(key, 3 * (len(DILATIONS) + N_ATTENTION) + 1)) if dropout > 0 and key is not None else None

    def drop(x):
        if keys is None:
            return x
        return jnp.where(jax.random.bernoulli(next(keys), 1.0 - dropout, x.shape), x / (1.0 - dropout), 0.0)

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) * jax.lax.rsqrt(var + LN_EPS) * g + b

    def gelu(x):
        return 0.5 * x * (1.0 + jnp.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))
    vm = valid[..., None].astype(f.dtype)
    h = (f @ w["in.w"] + w["in.b"]) * vm
    B, N, _ = h.shape
    for i, d in enumerate(DILATIONS):
        x = ln(h, w[f"conv{i}.ln.g"], w[f"conv{i}.ln.b"]) * vm
        xp = jnp.pad(x, ((0, 0), (d, d), (0, 0)))
        y = xp[:, :N] @ w[f"conv{i}.w"][0] + x @ w[f"conv{i}.w"][1] + xp[:, 2 * d:] @ w[f"conv{i}.w"][2] + w[f"conv{i}.b"]
        h = (h + drop(gelu(y))) * vm
    dh = D_MODEL // N_HEADS
    mask = valid[:, None, None, :]
    for i in range(N_ATTENTION):
        x = ln(h, w[f"att{i}.ln1.g"], w[f"att{i}.ln1.b"])
        q, k, v = ((x @ w[f"att{i}.{m}"]).reshape(B, N, N_HEADS, dh).transpose(0, 2, 1, 3) for m in ("wq", "wk", "wv"))
        a = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh)
        a = jnp.where(mask, a, -1e9)
        a = jax.nn.softmax(a, -1)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(B, N, D_MODEL)
        h = h + drop(o @ w[f"att{i}.wo"])
        x = ln(h, w[f"att{i}.ln2.g"], w[f"att{i}.ln2.b"])
        h = (h + drop(gelu(x @ w[f"att{i}.ff1.w"] + w[f"att{i}.ff1.b"]) @ w[f"att{i}.ff2.w"] + w[f"att{i}.ff2.b"])) * vm
    h = ln(h, w["out.ln.g"], w["out.ln.b"])
    return h @ w["chord.w"] + w["chord.b"], h @ w["tones.w"] + w["tones.b"]


# ---- decoding ------------------------------------------------------------------------------------
# Penalty (in nats) for a change of chord on beats 1, 2, 3, 4 of a 4/4 bar (chosen on validation).
DEFAULT_PENALTY = (0.0, 2.0, 1.0, 2.0)
# Transpositions a shipped model's users average (`class_log_probs`; chosen on validation: 4 gave
# the rendered note-in-chord of 12 at a third of the work, Models/README.md).
DEFAULT_TRANSPOSITIONS = 4


def decode(class_logits: np.ndarray, beat_in_bar: np.ndarray, penalty=DEFAULT_PENALTY) -> np.ndarray:
    """Viterbi: one class a beat maximising the sum of log-probabilities minus `penalty[beat]` at
    each change. (n,) int."""
    lp = class_logits - class_logits.max(-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
    n, c = lp.shape
    if n == 0:
        return np.zeros(0, np.int64)
    score = lp[0].copy()
    back = np.zeros((n, c), np.int64)
    for t in range(1, n):
        pen = penalty[int(beat_in_bar[t]) % len(penalty)]
        best = int(score.argmax())
        stay = score
        move = score[best] - pen
        back[t] = np.where(stay >= move, np.arange(c), best)
        score = np.maximum(stay, move) + lp[t]
    out = np.zeros(n, np.int64)
    out[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        out[t - 1] = back[t, out[t]]
    return out


def class_tones(c: int) -> int:
    """The tone mask of a chord class (sus: 0 2 5 7)."""
    if c == D.CHORD_N:
        return 0
    iv = [(0, 4, 7), (0, 3, 7), (0, 2, 5, 7), (0, 3, 6), (0, 4, 8)][c % 5]
    return sum(1 << ((c // 5 + i) % 12) for i in iv)


def class_symbol(c: int) -> str:
    """A chart symbol for a class: C, Cm, Csus4, Cdim, Caug, N.C."""
    if c == D.CHORD_N:
        return "N.C."
    names = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]  # as Swift's ChordSymbol spells them
    return names[c // 5] + ["", "m", "sus4", "dim", "aug"][c % 5]


# ---- training ------------------------------------------------------------------------------------
def load_arrays(subset: str, cache: str, data: str) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    sids = D.load_split(REPO / "Training/split.json")[subset]
    songs = D.load_songs(data, sids, cache, progress=False)
    return [(s.song_id, *song_arrays(s)) for s in songs]


def bridge_arrays(arrays, data: str, cache: str) -> dict[str, np.ndarray]:
    """Beat features (n, 53) of each training song's BRIDGE track (POP909's second melodic line),
    on the song's own grid, for the songs whose bridge has at least 32 notes: extra melodies over
    the same annotated chords (`train --bridge`). Cached beside the songs' cache."""
    from . import tokens as Tk
    from .midi import read_midi, track_notes
    root = Path(data)
    path = Path(cache) / f"bridge-{D.cache_key(root, [a[0] for a in arrays])}.npz"
    if path.is_file():
        z = np.load(path)
        return {k: z[k] for k in z.files}
    songs = {s.song_id: s for s in D.load_songs(data, [a[0] for a in arrays], cache, progress=False)}
    out = {}
    for sid, f, _, _ in arrays:
        d = root / sid
        midi = read_midi(d / f"{sid}.mid")
        ns = track_notes(midi, "BRIDGE")
        if len(ns) < 32:
            continue
        notes = D.grid_notes(ns, midi.get_tick_to_time_mapping(), np.loadtxt(d / "beat_midi.txt", ndmin=2)[:, 0])
        s = songs[sid]
        fb = beat_features(Tk.melody_frames(notes, len(s.frames)).astype(np.int64), s.meter)
        if len(fb) == len(f):
            out[sid] = fb
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")   # a run of its own: two runs may fill the cache at once
    np.savez(tmp, **out)
    os.replace(tmp, path)
    return out


def batches(arrays, rng, batch: int, window: int, bridges: dict[str, np.ndarray] | None = None, bridge: float = 0.0):
    """Training windows; with `bridges`, a window of a song that has one takes its melody from the
    BRIDGE track instead at rate `bridge`."""
    while True:
        fb = np.zeros((batch, window, N_FEATURES), np.float32)
        cb = np.zeros((batch, window), np.int64)
        pb = np.zeros((batch, window, 12), np.float32)
        vb = np.zeros((batch, window), bool)
        for i in range(batch):
            sid, f, c, p = arrays[rng.integers(len(arrays))]
            if bridges and sid in bridges and rng.random() < bridge:
                f = bridges[sid]
            start = rng.integers(max(1, len(f) - window + 1)) if len(f) > window else 0
            start -= start % 4                       # windows begin on a bar line
            f, c, p = f[start:start + window], c[start:start + window], p[start:start + window]
            f, c, p = transpose(f, c, p, int(rng.integers(12)))
            n = len(f)
            fb[i, :n], cb[i, :n], vb[i, :n] = f, c, True
            pb[i, :n] = (p[:, None] >> np.arange(12)) & 1
        yield fb, cb, pb, vb


def evaluate(w, arrays, penalty=DEFAULT_PENALTY, transpositions: int = 1) -> dict:
    """Per-beat accuracy over annotated (not N) beats: top-1 class, root, chord-tone accuracy (the
    three most likely tones of the tone head, share in the annotated chord), the decoded
    chord's tone precision (share of its tones in the annotated chord: what a chart of it gives),
    and of the tones heard (class posterior times the classes' tones, what the engine hears):
    the share of beats whose likeliest is in the chord, and the Brier score over the 12.
    Classes and decoding from the posterior averaged over `transpositions` (`class_log_probs`)."""
    n = top1 = root = 0
    ct = prec = dec_top1 = heard_top = brier = 0.0
    tones = np.array([[(class_tones(c) >> k) & 1 for k in range(12)] for c in range(N_CLASSES)], float)
    ms = split_members(w)
    for _, f, c, p in arrays:
        outs = [forward_numpy(m, f) for m in ms]
        tl = np.mean([1 / (1 + np.exp(-t)) for _, t in outs], 0)                # tone head, members averaged
        cl = (class_log_probs(w, f, transpositions) if transpositions > 1
              else np.log(np.mean([_softmax(c_) for c_, _ in outs], 0)))      # class_log_probs with one copy
        keep = c != D.CHORD_N
        pred = cl.argmax(-1)
        top1 += int((pred[keep] == c[keep]).sum())
        root += int((pred[keep] // 5 == c[keep] // 5).sum())
        top3 = np.argsort(-tl, axis=1)[:, :3]
        ct += float((((p[:, None] >> top3) & 1)[keep]).mean(1).sum())
        heard = np.exp(cl) @ tones                                   # (n, 12) what the engine hears
        truth = (p[:, None] >> np.arange(12)) & 1
        heard_top += float(truth[np.arange(len(p)), heard.argmax(1)][keep].sum())
        brier += float(((heard - truth) ** 2).mean(1)[keep].sum())
        dec = decode(cl, np.argmax(f[:, 49:53], 1), penalty)
        dec_top1 += float((dec[keep] == c[keep]).sum())
        for b in np.nonzero(keep)[0]:
            m = class_tones(int(dec[b]))
            if m:
                prec += bin(m & int(p[b])).count("1") / bin(m).count("1")
        n += int(keep.sum())
    return {"beats": n, "top1": top1 / max(n, 1), "root": root / max(n, 1), "chord_tone": ct / max(n, 1),
            "decoded_top1": dec_top1 / max(n, 1), "decoded_tone_precision": prec / max(n, 1),
            "heard_top_tone": heard_top / max(n, 1), "heard_brier": brier / max(n, 1)}


def train(a) -> int:
    import jax
    import jax.numpy as jnp
    import optax
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "train.log", "a")

    def say(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, file=sys.stderr, flush=True)
        log.write(line + "\n")
        log.flush()
    train_arrays = load_arrays("train", a.cache, a.data)
    valid_arrays = load_arrays("valid", a.cache, a.data)
    ckpt = out / "checkpoint.msgpack"
    sched = optax.warmup_cosine_decay_schedule(0.0, a.lr, min(200, a.steps // 10), a.steps, end_value=a.lr * 0.05)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, weight_decay=a.weight_decay))
    params = {k: jnp.asarray(v) for k, v in init_weights(a.seed).items()}
    state = opt.init(params)
    step0 = 0
    if ckpt.is_file():
        from flax import serialization
        restored = serialization.from_bytes({"params": params, "opt": state, "step": 0}, ckpt.read_bytes())
        params, state, step0 = restored["params"], restored["opt"], int(restored["step"])
        say(f"resumed at step {step0}")

    def loss(params, f, c, p, v, key):
        cl, tl = forward_jax(params, f, v, a.dropout, key)
        vm = v.astype(jnp.float32)
        ce = -jnp.take_along_axis(jax.nn.log_softmax(cl), c[..., None], -1)[..., 0]
        bce = optax.sigmoid_binary_cross_entropy(tl, p).mean(-1)
        return ((ce + bce) * vm).sum() / vm.sum()

    @jax.jit
    def update(params, state, step, f, c, p, v):
        l, g = jax.value_and_grad(loss)(params, f, c, p, v, jax.random.fold_in(jax.random.PRNGKey(a.seed), step))
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state, l
    rng = np.random.default_rng(a.seed + step0)
    bridges = bridge_arrays(train_arrays, a.data, a.cache) if a.bridge > 0 else None
    if bridges is not None:
        say(f"{len(bridges)} of {len(train_arrays)} songs have a BRIDGE melody (used at rate {a.bridge})")
    gen = batches(train_arrays, rng, a.batch, a.window, bridges, a.bridge)
    t0, run = time.time(), 0.0
    best = -1.0
    for step in range(step0, a.steps):
        f, c, p, v = next(gen)
        params, state, l = update(params, state, step, f, c, p, v)
        run = 0.98 * run + 0.02 * float(l) if step > step0 else float(l)
        if (step + 1) % a.every == 0 or step + 1 == a.steps:
            w = {k: np.asarray(x) for k, x in params.items()}
            r = evaluate(w, valid_arrays)
            say(f"step {step + 1}: loss {run:.4f}, valid {json.dumps({k: round(x, 4) for k, x in r.items()})} ({time.time() - t0:.0f}s)")
            from flax import serialization
            tmp = out / "checkpoint.tmp"
            tmp.write_bytes(serialization.to_bytes({"params": params, "opt": state, "step": step + 1}))
            os.replace(tmp, ckpt)
            if r["decoded_tone_precision"] > best:
                best = r["decoded_tone_precision"]
                save_weights(w, out / "best.safetensors", {"step": step + 1, "valid": r})
    return 0


def save_weights(w: dict[str, np.ndarray], path: Path, info: dict, heads: int = N_HEADS, penalty=DEFAULT_PENALTY,
                 transpositions: int = 1) -> None:
    from safetensors.numpy import save_file
    d_model, dilations, n_att = shape_of(w)
    meta = {"format": "accompanist-hindsight", "version": "1", "d_model": str(d_model), "features": str(N_FEATURES),
            "dilations": ",".join(map(str, dilations)), "attention_blocks": str(n_att), "heads": str(heads),
            "penalty": ",".join(map(str, penalty)), "info": json.dumps(info)}
    if transpositions != 1:
        meta["transpositions"] = str(transpositions)
    members = len(split_members(w))
    if members > 1:
        meta["members"] = str(members)
    tmp = path.with_suffix(".tmp")
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in w.items()}, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file
    return load_file(str(path))


def write_fixture(out: Path) -> None:
    """The Swift parity fixture: tiny.safetensors (a tiny random model: d 16, dilations 1 2, one
    attention block, 4 heads), tiny_t4.safetensors (the same weights, averaging 4 transpositions),
    tiny_m2.safetensors (an ensemble of those weights and a second set) and tiny_case.json (a random melody's frames, its beat features, the float64 logits, the
    decoded classes with the fixture's penalty; the 4-transposition log posterior and its
    decoding; the ensemble's log posterior and its decoding)."""
    from . import tokens as Tk
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    w = init_weights(3, d=16, dilations=(1, 2), n_att=1)
    for k in w:
        w[k] = (w[k] + (0.2 * rng.standard_normal(w[k].shape) if not k.endswith(".g") else 0)).astype(np.float32)
    penalty = (0.0, 1.5, 0.75, 1.5)
    save_weights(w, out / "tiny.safetensors", {"fixture": True}, heads=4, penalty=penalty)
    save_weights(w, out / "tiny_t4.safetensors", {"fixture": True}, heads=4, penalty=penalty, transpositions=4)
    notes, t = [], 0
    while t < 150:
        d = int(rng.integers(1, 12))
        if rng.random() < 0.85:
            notes.append(Tk.make_note(int(rng.integers(55, 84)), t, t + d, int(rng.integers(40, 120))))
        t += d + int(rng.integers(0, 3))
    n_steps = 154                                     # not a whole number of beats: the last is padded
    frames = Tk.melody_frames(notes, n_steps).astype(np.int64)
    meter = np.arange(n_steps + 8) % STEPS_PER_BAR_4
    f = beat_features(frames, meter)
    cl, tl = forward_numpy(w, f, heads=4)
    dec = decode(cl, np.argmax(f[:, 49:53], 1), penalty)
    lp4 = class_log_probs(w, f, 4, heads=4)
    dec4 = decode(lp4, np.argmax(f[:, 49:53], 1), penalty)
    # A two-member ensemble: the weights above and a second set (its own generator, so the
    # outputs above are unchanged).
    rng2 = np.random.default_rng(12)
    w2 = init_weights(5, d=16, dilations=(1, 2), n_att=1)
    for k in w2:
        w2[k] = (w2[k] + (0.2 * rng2.standard_normal(w2[k].shape) if not k.endswith(".g") else 0)).astype(np.float32)
    save_weights(join_members([w, w2]), out / "tiny_m2.safetensors", {"fixture": True}, heads=4, penalty=penalty)
    lpm = class_log_probs(join_members([w, w2]), f, 1, heads=4)
    decm = decode(lpm, np.argmax(f[:, 49:53], 1), penalty)
    case = {"beats_per_bar": 4, "frames": frames.tolist(), "features": f.tolist(),
            "m2_log_probs": lpm.tolist(), "m2_decoded": decm.tolist(),
            "class_logits": cl.tolist(), "tone_logits": tl.tolist(), "decoded": dec.tolist(),
            "symbols": [class_symbol(int(c)) for c in dec],
            "t4_log_probs": lp4.tolist(), "t4_decoded": dec4.tolist(), "t4_symbols": [class_symbol(int(c)) for c in dec4]}
    (out / "tiny_case.json").write_text(json.dumps(case))


STEPS_PER_BAR_4 = 32


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", default=str(REPO / "Training/runs/hindsight"))
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--window", type=int, default=256, help="beats per training window")
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--every", type=int, default=250)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dropout", type=float, default=0.0, help="rate on each residual branch (0: none, as the first model)")
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--bridge", type=float, default=0.0,
                   help="rate at which a window's melody is the song's BRIDGE track (0: MELODY only, as the shipped model)")
    x2 = sub.add_parser("export", help="the run's last checkpoint as a model file")
    x2.add_argument("--run", default=str(REPO / "Training/runs/hindsight"))
    x2.add_argument("--out", default=str(REPO / "Models/hindsight.safetensors"))
    x2.add_argument("--transpositions", type=int, default=DEFAULT_TRANSPOSITIONS,
                    help="transpositions the model file asks its users to average (class_log_probs)")
    en = sub.add_parser("ensemble", help="one model file averaging several (docs/hindsight.md, Ensembles)")
    en.add_argument("--weights", nargs="+", required=True)
    en.add_argument("--out", required=True)
    x = sub.add_parser("fixture")
    x.add_argument("--out", default=str(REPO / "Tests/Fixtures/hindsight"))
    e = sub.add_parser("eval")
    e.add_argument("--weights", required=True)
    e.add_argument("--subset", default="valid")
    e.add_argument("--penalty", default=",".join(map(str, DEFAULT_PENALTY)))
    e.add_argument("--transpositions", type=int, default=None, help="default: the file's metadata (1 where absent)")
    for p in (t, e):
        p.add_argument("--cache", default=str(REPO / "Training/runs/cache"))
        p.add_argument("--data", default=str(REPO.parent / "shared/datasets/pop909"))
    a = ap.parse_args(argv)
    if a.cmd == "train":
        return train(a)
    if a.cmd == "export":
        from flax import serialization
        raw = serialization.msgpack_restore((Path(a.run) / "checkpoint.msgpack").read_bytes())
        w = {k: np.asarray(v, np.float32) for k, v in raw["params"].items()}
        save_weights(w, Path(a.out), {"run": Path(a.run).name, "step": int(raw["step"])}, transpositions=a.transpositions)
        print(f"{a.out}: step {int(raw['step'])}, {sum(v.size for v in w.values())} parameters")
        return 0
    if a.cmd == "ensemble":
        from safetensors import safe_open
        ws = [m for p in a.weights for m in split_members(load_weights(p))]
        if len({shape_of(m) for m in ws}) != 1:
            raise SystemExit("the members differ in shape")
        with safe_open(a.weights[0], "np") as fh:
            meta = fh.metadata() or {}
        save_weights(join_members(ws), Path(a.out), {"members": [Path(p).name for p in a.weights]},
                     heads=int(meta.get("heads", N_HEADS)), penalty=tuple(float(x) for x in meta.get("penalty", "0,2,1,2").split(",")),
                     transpositions=int(meta.get("transpositions", "1")))
        print(f"{a.out}: {len(ws)} members")
        return 0
    if a.cmd == "fixture":
        write_fixture(Path(a.out))
        return 0
    w = load_weights(a.weights)
    if a.transpositions is None:
        from safetensors import safe_open
        with safe_open(a.weights, "np") as fh:
            a.transpositions = int((fh.metadata() or {}).get("transpositions", "1"))
    r = evaluate(w, load_arrays(a.subset, a.cache, a.data), tuple(float(x) for x in a.penalty.split(",")), a.transpositions)
    print(json.dumps({"weights": a.weights, "subset": a.subset, "transpositions": a.transpositions, **r}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
