"""Tokenizer: exactly docs/tokens.md (the Swift twin is Sources/Tokens).

Notes are (pitch, start, end, velocity) in grid steps. Melody frames are int arrays of shape
(end_step, 3): pitch (-1 rest), onset (0/1), velocity bin.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

STEPS_PER_BEAT = 8

NOTE_ON = 0          # 0..127
NOTE_OFF = 128       # 128..255
TIME_SHIFT = 255     # id = 255 + n, n = 1..32
VELOCITY = 288       # 288..319
PAD = 320
BOS = 321
EOS = 322
VOCAB_SIZE = 323
MAX_SHIFT = 32


@dataclass(frozen=True, order=True)
class Note:
    pitch: int
    start: int
    end: int
    velocity: int


def tick_to_step(tick: int, ppq: int) -> int:
    """Round to nearest, halves up: step = (16*tick + ppq) // (2*ppq)."""
    return (16 * int(tick) + ppq) // (2 * ppq)


def round_half_up(x: np.ndarray | float) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def make_note(pitch: int, start: int, end: int, velocity: int) -> Note:
    """A quantised note; zero or negative length becomes one step."""
    if end <= start:
        end = start + 1
    return Note(int(pitch), int(start), int(end), int(velocity))


def normalize(notes: Iterable[Note]) -> list[Note]:
    """Note normalisation of docs/tokens.md: drop start < 0, merge same (pitch, start), cut
    overlaps per pitch. Returns notes sorted by (start, pitch)."""
    merged: dict[tuple[int, int], Note] = {}
    for n in notes:
        if n.start < 0:
            continue
        key = (n.pitch, n.start)
        if key in merged:
            m = merged[key]
            merged[key] = Note(n.pitch, n.start, max(m.end, n.end), max(m.velocity, n.velocity))
        else:
            merged[key] = n
    by_pitch: dict[int, list[Note]] = {}
    for n in merged.values():
        by_pitch.setdefault(n.pitch, []).append(n)
    out: list[Note] = []
    for pitch, ns in by_pitch.items():
        ns.sort(key=lambda n: n.start)
        for i, n in enumerate(ns):
            end = n.end
            if i + 1 < len(ns):
                end = min(end, ns[i + 1].start)
            out.append(Note(pitch, n.start, end, n.velocity))
    out.sort(key=lambda n: (n.start, n.pitch))
    return out


def end_step(melody: Sequence[Note], accompaniment: Sequence[Note]) -> int:
    return max([n.end for n in melody] + [n.end for n in accompaniment] + [0])


def melody_frames(melody: Sequence[Note], n_steps: int) -> np.ndarray:
    """Frames (n_steps, 3) int32: highest sounding pitch or -1, onset, velocity bin.
    `melody` must be normalised."""
    frames = np.zeros((n_steps, 3), dtype=np.int32)
    frames[:, 0] = -1
    for n in melody:  # highest pitch wins: compare per step
        a, b = n.start, min(n.end, n_steps)
        for s in range(a, b):
            if n.pitch > frames[s, 0]:
                frames[s, 0] = n.pitch
                frames[s, 1] = 1 if s == n.start else 0
                frames[s, 2] = n.velocity >> 2
    return frames


def onset_cut_points(frames: np.ndarray) -> set[int]:
    """Steps o + 1 for every melody onset frame o."""
    return {int(o) + 1 for o in np.nonzero(frames[:, 1])[0]}


def _shifts(t: int, e: int, cuts: set[int]) -> list[int]:
    pieces = []
    while t < e:
        nxt = e
        c = (t // STEPS_PER_BEAT + 1) * STEPS_PER_BEAT   # next beat boundary > t
        nxt = min(nxt, c)
        for o in range(t + 1, nxt):
            if o in cuts:
                nxt = o
                break
        pieces.append(nxt - t)
        t = nxt
    return pieces


def encode(accompaniment: Sequence[Note], frames: np.ndarray, n_end: int) -> tuple[np.ndarray, np.ndarray]:
    """Tokens and their times. `accompaniment` normalised; `frames` the melody frames (their
    onsets give cut points); `n_end` = endStep. Returns (ids, times), int32 arrays."""
    cuts = onset_cut_points(frames)
    starts: dict[int, list[Note]] = {}
    ends: dict[int, list[Note]] = {}
    for n in accompaniment:
        starts.setdefault(n.start, []).append(n)
        ends.setdefault(n.end, []).append(n)
    events = sorted(set(starts) | set(ends))
    if not events or n_end > events[-1]:
        events.append(n_end)
    ids = [BOS]
    times = [0]
    t = 0
    vel = None
    for e in events:
        for piece in _shifts(t, e, cuts):
            ids.append(TIME_SHIFT + piece)
            times.append(t)
            t += piece
        for n in sorted(ends.get(e, []), key=lambda n: n.pitch):
            ids.append(NOTE_OFF + n.pitch)
            times.append(t)
        for n in sorted(starts.get(e, []), key=lambda n: n.pitch):
            b = n.velocity >> 2
            if b != vel:
                ids.append(VELOCITY + b)
                times.append(t)
                vel = b
            ids.append(NOTE_ON + n.pitch)
            times.append(t)
    return np.asarray(ids, dtype=np.int32), np.asarray(times, dtype=np.int32)


def shift_of(token: int) -> int:
    return token - TIME_SHIFT if TIME_SHIFT < token <= TIME_SHIFT + MAX_SHIFT else 0


def token_times(ids: Sequence[int]) -> np.ndarray:
    """Time of each token (the clock when it is emitted)."""
    out = np.zeros(len(ids), dtype=np.int32)
    t = 0
    for i, tok in enumerate(ids):
        out[i] = t
        t += shift_of(int(tok))
    return out


def prediction_times(ids: Sequence[int], times: Sequence[int]) -> np.ndarray:
    """For input position i, the time of the token it predicts: times[i] + shift(ids[i])."""
    ids = np.asarray(ids)
    sh = np.where((ids > TIME_SHIFT) & (ids <= TIME_SHIFT + MAX_SHIFT), ids - TIME_SHIFT, 0)
    return (np.asarray(times) + sh).astype(np.int32)


def metrical_positions(times: np.ndarray, beats_per_bar: int = 4, bar_offset: int = 0) -> np.ndarray:
    """time - start of its bar, with bars of 8*beats_per_bar steps starting at bar_offset
    (bar_offset may be negative or positive: bars repeat in both directions)."""
    spb = STEPS_PER_BEAT * beats_per_bar
    return ((np.asarray(times) - bar_offset) % spb).astype(np.int32)


def decode(ids: Sequence[int]) -> list[Note]:
    t = 0
    vel = 64
    open_: dict[int, tuple[int, int]] = {}
    out: list[Note] = []
    for tok in ids:
        tok = int(tok)
        if tok < 128:
            p = tok
            if p in open_:
                s, v = open_[p]
                if s == t:
                    continue  # same-step duplicate ignored
                out.append(Note(p, s, t, v))
            open_[p] = (t, vel)
        elif tok < 256:
            p = tok - 128
            if p in open_:
                s, v = open_.pop(p)
                out.append(Note(p, s, t, v))
        elif tok <= TIME_SHIFT + MAX_SHIFT:
            t += tok - TIME_SHIFT
        elif tok < PAD:
            vel = 4 * (tok - VELOCITY) + 2
    for p, (s, v) in open_.items():
        out.append(Note(p, s, max(t, s + 1), v))
    out.sort(key=lambda n: (n.start, n.pitch))
    return out


class Grammar:
    """Legal next tokens given the decoder state (docs/tokens.md, Grammar)."""

    def __init__(self, lo: int = 21, hi: int = 108, polyphony: int = 10):
        self.lo, self.hi, self.polyphony = lo, hi, polyphony
        self.t = 0
        self.sounding: dict[int, int] = {}
        self.vel_set = False
        self.last_was_velocity = False

    def feed(self, tok: int) -> None:
        tok = int(tok)
        self.last_was_velocity = False
        if tok < 128:
            self.sounding[tok] = self.t
        elif tok < 256:
            self.sounding.pop(tok - 128, None)
        elif tok <= TIME_SHIFT + MAX_SHIFT:
            self.t += tok - TIME_SHIFT
        elif tok < PAD:
            self.vel_set = True
            self.last_was_velocity = True

    def mask(self) -> np.ndarray:
        m = np.zeros(VOCAB_SIZE, dtype=bool)
        if self.vel_set and len(self.sounding) < self.polyphony:
            m[NOTE_ON + self.lo:NOTE_ON + self.hi + 1] = True
            for p in self.sounding:
                m[NOTE_ON + p] = False
        for p, s in self.sounding.items():
            if s < self.t:
                m[NOTE_OFF + p] = True
        max_n = STEPS_PER_BEAT - self.t % STEPS_PER_BEAT
        m[TIME_SHIFT + 1:TIME_SHIFT + max_n + 1] = True
        if not self.last_was_velocity:
            m[VELOCITY:VELOCITY + 32] = True
        return m
