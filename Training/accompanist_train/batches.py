"""Training segments: token windows with their encoder windows, transposition, batching."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tokens as Tk
from .data import CHORD_N, STEPS_PER_BAR, Song, rotate_masks, transpose_chords


@dataclass
class Batch:
    frames: np.ndarray      # (B, Le, 3) int32
    meter: np.ndarray       # (B, Le) int32
    chords: np.ndarray      # (B, Le) int32: chord at step S0+j+1 (target of column j)
    chord_mask: np.ndarray  # (B, Le) float32
    tokens: np.ndarray      # (B, T) int32
    ptime: np.ndarray       # (B, T) int32: prediction time - S0
    tok_meter: np.ndarray   # (B, T) int32
    targets: np.ndarray     # (B, T) int32
    mask: np.ndarray        # (B, T) float32
    chord_in: np.ndarray    # (B, T, CHORD_INPUT) float32: the annotated chord at each prediction time (chord_features)
    given: np.ndarray       # (B,) float32: 1 = the chord is given (chart, left hand), 0 = the model hears it itself

    def as_tuple(self):
        return (self.frames, self.meter, self.chords, self.chord_mask, self.tokens, self.ptime,
                self.tok_meter, self.targets, self.mask, self.chord_in, self.given)


CHORD_INPUT = 25   # chord features per decoder position: 12 chord tones, 12 bass one-hot, "given" flag


def chord_features(pc_mask: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """(T,) masks (bit k = pitch class k) and bass pitch classes (-1: root position or none) ->
    (T, 25) float32: tones, bass one-hot, and the flag 1 (a given chord, N.C. included)."""
    pc_mask = np.asarray(pc_mask, dtype=np.int32)
    bass = np.asarray(bass, dtype=np.int32)
    out = np.zeros(pc_mask.shape + (CHORD_INPUT,), np.float32)
    out[..., :12] = (pc_mask[..., None] >> np.arange(12)) & 1
    has = bass >= 0
    out[has, 12 + bass[has]] = 1.0
    out[..., 24] = 1.0
    return out


def _ext(arr: np.ndarray, n: int, fill) -> np.ndarray:
    if len(arr) >= n:
        return arr[:n]
    pad = np.full((n - len(arr),) + arr.shape[1:], fill, dtype=arr.dtype)
    return np.concatenate([arr, pad])


def make_segment(song: Song, a: int, T: int, Le: int, ctx: int, k: int = 0):
    """Segment of tokens [a, a+T) (targets [a+1, a+T+1)) with encoder steps [S0, S0+Le)."""
    ids = song.ids.astype(np.int32)
    times = song.times.astype(np.int32)
    N = len(ids)
    pt_all = Tk.prediction_times(ids, times)
    S0 = max(0, int(times[a]) - ctx)
    tok = _ext(ids[a:a + T], T, Tk.PAD)
    tgt = _ext(ids[a + 1:a + T + 1], T, Tk.PAD)
    pt = _ext(pt_all[a:a + T], T, 0) - S0
    n_in = min(T, N - a)
    pt[n_in:] = 0
    mask = (tgt != Tk.PAD).astype(np.float32)
    mask[pt > Le] = 0.0
    L = len(song.frames)
    fr = song.frames[S0:S0 + Le].astype(np.int32)
    if len(fr) < Le:
        rest = np.zeros((Le - len(fr), 3), np.int32)
        rest[:, 0] = -1
        fr = np.concatenate([fr, rest])
    # metrical positions beyond the stored range continue bar by bar
    need = S0 + Le + T + 64
    meter = song.meter.astype(np.int32)
    if len(meter) < need:
        tail = (meter[-1] + 1 + np.arange(need - len(meter))) % STEPS_PER_BAR
        meter = np.concatenate([meter, tail.astype(np.int32)])
    m_enc = meter[S0:S0 + Le]
    tok_meter = meter[np.clip(pt + S0, 0, len(meter) - 1)]
    ch = _ext(song.chords.astype(np.int32)[S0 + 1:S0 + Le + 1], Le, CHORD_N)
    cmask = ((S0 + 1 + np.arange(Le)) < L).astype(np.float32)
    # the chord annotated at each token's prediction time (a chart knows the chord at s itself)
    ci = np.clip(pt + S0, 0, len(song.chord_pc) - 1)
    cpc, cbass = song.chord_pc[ci].astype(np.int32), song.chord_bass[ci].astype(np.int32)
    if k:
        fr = fr.copy()
        fr[:, 0] = np.where(fr[:, 0] >= 0, fr[:, 0] + k, -1)
        note = tok < 256
        tok = np.where(note, tok + k, tok)
        tnote = tgt < 256
        tgt = np.where(tnote, tgt + k, tgt)
        ch = transpose_chords(ch, k)
        cpc = rotate_masks(cpc, k)
        cbass = np.where(cbass >= 0, (cbass + k) % 12, -1)
    return fr, m_enc, ch, cmask, tok, pt, tok_meter, tgt, mask, chord_features(cpc, cbass)


def legal_shift(song: Song, a: int, T: int, lo: int, hi: int, k: int) -> int:
    """k if every pitch in the song stays in 0..127 after transposing by k, else 0."""
    del a, T
    p = song.ids[song.ids < 256] % 128
    m = song.frames[:, 0][song.frames[:, 0] >= 0]
    allp = np.concatenate([p, m]).astype(np.int32)
    if allp.size == 0:
        return k
    return k if (allp.min() + k >= 0 and allp.max() + k <= 127) else 0


def segment_starts(song: Song, T: int, offset: int) -> list[int]:
    N = len(song.ids)
    starts = [0]
    a = offset if offset > 0 else T
    while a < N - 1:
        starts.append(a)
        a += T
    return starts


def epoch_plan(songs: list[Song], T: int, seed: int, epoch: int) -> list[tuple[int, int]]:
    """Shuffled (song index, start) pairs for one epoch, deterministic in (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch, 1])
    plan = []
    for si, s in enumerate(songs):
        off = int(rng.integers(1, T))
        plan += [(si, a) for a in segment_starts(s, T, off)]
    order = rng.permutation(len(plan))
    return [plan[i] for i in order]


def batch_from(songs, items, T, Le, ctx, transpose=None, rng=None, given=None) -> Batch:
    """`given`: per item, whether its chords are given (default: alternate, starting with given)."""
    segs = []
    for si, a in items:
        k = 0
        if transpose is not None:
            k = int(rng.integers(transpose[0], transpose[1] + 1))
            k = legal_shift(songs[si], a, T, transpose[0], transpose[1], k)
        segs.append(make_segment(songs[si], a, T, Le, ctx, k))
    cols = list(zip(*segs))
    g = np.asarray(given if given is not None else [(i + 1) % 2 for i in range(len(items))], np.float32)
    return Batch(*[np.stack(c) for c in cols], g)


def eval_items(songs: list[Song], T: int) -> list[tuple[int, int]]:
    return [(si, a) for si, s in enumerate(songs) for a in segment_starts(s, T, 0)]
