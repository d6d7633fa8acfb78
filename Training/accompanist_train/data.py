"""POP909 -> grid notes, melody frames, accompaniment tokens, chords; cached as npz.

See docs/model.md (Data) for the choices: 4/4 songs only, BRIDGE dropped, beats from
beat_midi.txt, bars from its downbeat column.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import tokens as T
from .midi import read_midi, track_notes

DATA_VERSION = 3
STEPS_PER_BAR = 32           # 4/4
N_CHORD = 61                 # 12 roots x 5 qualities + N
CHORD_N = 60
QUALITIES = ["maj", "min", "sus", "dim", "aug"]
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class DataError(RuntimeError):
    pass


def chord_class(label: str) -> int:
    """`C:maj`, `A:min7/b3`, `N` -> 0..60 (root*5 + quality, 60 = no chord)."""
    label = label.strip()
    if label in ("N", "X", ""):
        return CHORD_N
    m = re.match(r"^([A-G])([b#]*):?([^/]*)", label)
    if not m:
        return CHORD_N
    root = NOTE_NAMES[m.group(1)] + m.group(2).count("#") - m.group(2).count("b")
    q = m.group(3)
    if q.startswith("sus"):
        qi = 2
    elif q.startswith("hdim") or q.startswith("dim"):
        qi = 3
    elif q.startswith("aug"):
        qi = 4
    elif q.startswith("min"):
        qi = 1
    else:
        qi = 0
    return (root % 12) * 5 + qi


# Chord tones of POP909's qualities (semitones above the root); extensions in parentheses add.
QUALITY_TONES = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "sus2": (0, 2, 7), "sus4": (0, 5, 7), "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "maj6": (0, 4, 7, 9), "min6": (0, 3, 7, 9),
    "dim": (0, 3, 6), "dim7": (0, 3, 6, 9), "hdim7": (0, 3, 6, 10), "aug": (0, 4, 8), "minmaj7": (0, 3, 7, 11),
    "9": (0, 4, 7, 10, 2), "maj9": (0, 4, 7, 11, 2), "min9": (0, 3, 7, 10, 2),
}
DEGREES = {"1": 0, "b2": 1, "2": 2, "9": 2, "#2": 3, "b3": 3, "3": 4, "4": 5, "11": 5, "#4": 6, "#11": 6,
           "b5": 6, "5": 7, "#5": 8, "b6": 8, "b13": 8, "6": 9, "13": 9, "bb7": 9, "b7": 10, "7": 11}


def chord_tones(label: str) -> tuple[int, int]:
    """`C:maj`, `A:min7/b3`, `D:sus4(b7)`, `N` -> (pitch-class mask, bass pitch class or -1).
    Bit k of the mask = pitch class k; N (and anything unreadable) is (0, -1)."""
    label = label.strip()
    m = re.match(r"^([A-G])([b#]*):([^/(]*)(\(([^)]*)\))?(/(.+))?$", label)
    if not m:
        return 0, -1
    root = (NOTE_NAMES[m.group(1)] + m.group(2).count("#") - m.group(2).count("b")) % 12
    q = m.group(3) or "maj"
    tones = list(QUALITY_TONES.get(q, QUALITY_TONES["min" if q.startswith("min") else "maj"]))
    for ext in (m.group(5) or "").split(","):
        ext = ext.strip()
        if ext.startswith("*"):                    # an omitted tone
            tones = [t for t in tones if t != DEGREES.get(ext[1:], -1)]
        elif ext in DEGREES:
            tones.append(DEGREES[ext])
    mask = 0
    for t in tones:
        mask |= 1 << ((root + t) % 12)
    bass = (root + DEGREES[m.group(7)]) % 12 if m.group(7) in DEGREES else -1
    return mask, bass


def rotate_masks(mask: np.ndarray, k: int) -> np.ndarray:
    """Pitch-class masks (bit k = pitch class k) transposed by k semitones."""
    m = mask.astype(np.int32) & 0xFFF
    k %= 12
    return (((m << k) | (m >> (12 - k))) & 0xFFF).astype(mask.dtype)


def transpose_chords(ch: np.ndarray, k: int) -> np.ndarray:
    root, q = ch // 5, ch % 5
    out = ((root + k) % 12) * 5 + q
    return np.where(ch == CHORD_N, CHORD_N, out).astype(ch.dtype)


def seconds_to_steps(sec: np.ndarray, beat_times: np.ndarray) -> np.ndarray:
    """Piecewise-linear: beat i -> step 8*i, linear extrapolation with the first/last beat
    interval outside the annotated range; then round half up."""
    sec = np.asarray(sec, dtype=np.float64)
    bt = np.asarray(beat_times, dtype=np.float64)
    steps_at = T.STEPS_PER_BEAT * np.arange(len(bt), dtype=np.float64)
    x = np.interp(sec, bt, steps_at)
    lo = sec < bt[0]
    x[lo] = (sec[lo] - bt[0]) / (bt[1] - bt[0]) * T.STEPS_PER_BEAT
    hi = sec > bt[-1]
    x[hi] = steps_at[-1] + (sec[hi] - bt[-1]) / (bt[-1] - bt[-2]) * T.STEPS_PER_BEAT
    return T.round_half_up(x)


def read_index(root: Path) -> dict[str, tuple[int, int]]:
    path = root / "index.csv"
    if not path.is_file():
        raise DataError(f"POP909 index.csv not found in {root}")
    out = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["song_id"].zfill(3)] = (int(row["num_beats_per_measure"]), int(row["num_quavers_per_beat"]))
    return out


def check_root(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"POP909 data folder not found: {root} (set data.root in the config)")
    if not any(p.is_dir() and (p / f"{p.name}.mid").is_file() for p in root.iterdir()):
        raise DataError(f"no POP909 song folders (NNN/NNN.mid) in {root}")
    return root


def song_ids(root: str | Path, four_four_only: bool = True) -> list[str]:
    root = check_root(root)
    index = read_index(root) if (root / "index.csv").is_file() else {}
    ids = []
    for p in sorted(root.iterdir()):
        if not (p.is_dir() and (p / f"{p.name}.mid").is_file() and (p / "beat_midi.txt").is_file()):
            continue
        if four_four_only and index and index.get(p.name, (2, 2)) != (2, 2):
            continue
        ids.append(p.name)
    return ids


@dataclass
class Song:
    song_id: str
    frames: np.ndarray      # (L, 3) int16: pitch/-1, onset, velocity bin
    meter: np.ndarray       # (L + 64,) int8: metrical position of each step
    chords: np.ndarray      # (L + 64,) int8: chord class at each step
    chord_pc: np.ndarray    # (L + 64,) int16: the annotated chord's tones at each step (bit k = pitch class k; 0 = N)
    chord_bass: np.ndarray  # (L + 64,) int8: its bass pitch class, -1 for root position or N
    ids: np.ndarray         # (N,) int16 tokens (BOS first)
    times: np.ndarray       # (N,) int32 token times


def metre_from_downbeats(downbeat_beats: np.ndarray, n_steps: int) -> np.ndarray:
    """Metrical position per step: steps since the last annotated downbeat (mod 32); before the
    first downbeat, counted back from it."""
    pos = np.zeros(n_steps, dtype=np.int64)
    db = np.sort(np.asarray(downbeat_beats, dtype=np.int64)) * T.STEPS_PER_BEAT
    s = np.arange(n_steps)
    if len(db) == 0:
        return (s % STEPS_PER_BAR).astype(np.int8)
    k = np.searchsorted(db, s, side="right") - 1
    before = k < 0
    pos[before] = (s[before] - db[0]) % STEPS_PER_BAR
    pos[~before] = (s[~before] - db[k[~before]]) % STEPS_PER_BAR
    return pos.astype(np.int8)


def grid_notes(ns, tick_to_sec: np.ndarray, beat_times: np.ndarray) -> list[T.Note]:
    """A track's MIDI notes (miditoolkit) on the beat grid: ticks to seconds
    (`midi.get_tick_to_time_mapping()`), seconds to steps by the annotated beats."""
    if not ns:
        return []
    st = seconds_to_steps(tick_to_sec[np.minimum([n.start for n in ns], len(tick_to_sec) - 1)], beat_times)
    en = seconds_to_steps(tick_to_sec[np.minimum([n.end for n in ns], len(tick_to_sec) - 1)], beat_times)
    return T.normalize(T.make_note(n.pitch, a, b, n.velocity) for n, a, b in zip(ns, st, en))


def load_song(root: Path, sid: str) -> Song:
    d = root / sid
    midi = read_midi(d / f"{sid}.mid")
    beats = np.loadtxt(d / "beat_midi.txt", ndmin=2)
    if len(beats) < 2:
        raise DataError(f"{d}/beat_midi.txt has fewer than 2 beats")
    beat_times = beats[:, 0]
    tick_to_sec = midi.get_tick_to_time_mapping()
    mel = grid_notes(track_notes(midi, "MELODY"), tick_to_sec, beat_times)
    acc = grid_notes(track_notes(midi, "PIANO"), tick_to_sec, beat_times)
    n_end = T.end_step(mel, acc)
    frames = T.melody_frames(mel, n_end)
    ids, times = T.encode(acc, frames, n_end)
    downbeats = np.nonzero(beats[:, 2] > 0.5)[0] if beats.shape[1] > 2 else np.array([0])
    extra = 64
    meter = metre_from_downbeats(downbeats, n_end + extra)
    chords = np.full(n_end + extra, CHORD_N, dtype=np.int8)
    chord_pc = np.zeros(n_end + extra, dtype=np.int16)
    chord_bass = np.full(n_end + extra, -1, dtype=np.int8)
    cpath = d / "chord_midi.txt"
    if cpath.is_file():
        for line in cpath.read_text().splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            a, b = seconds_to_steps(np.array([float(parts[0]), float(parts[1])]), beat_times)
            a, b = max(0, int(a)), min(n_end + extra, int(b))
            if b > a:
                chords[a:b] = chord_class(parts[2])
                chord_pc[a:b], chord_bass[a:b] = chord_tones(parts[2])
    return Song(sid, frames.astype(np.int16), meter, chords, chord_pc, chord_bass, ids.astype(np.int16),
                times.astype(np.int32))


def make_split(ids: list[str], seed: int = 909, valid: float = 0.05, test: float = 0.05) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(sorted(ids)))
    n_va = max(1, int(round(valid * len(order))))
    n_te = max(1, int(round(test * len(order))))
    return {"test": sorted(order[:n_te]), "valid": sorted(order[n_te:n_te + n_va]),
            "train": sorted(order[n_te + n_va:])}


def load_split(path: Path) -> dict[str, list[str]]:
    return json.loads(Path(path).read_text())


def cache_key(root: Path, sids: list[str]) -> str:
    h = hashlib.sha1(f"{DATA_VERSION}|{root.resolve()}|{','.join(sids)}".encode()).hexdigest()[:12]
    return h


def load_songs(root: str | Path, sids: list[str], cache_dir: str | Path, progress: bool = True) -> list[Song]:
    """Preprocess (or load from the npz cache) the given songs."""
    from tqdm import tqdm
    root = check_root(root)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"pop909-{cache_key(root, sids)}.npz"
    if path.is_file():
        z = np.load(path)
        out = []
        for i, sid in enumerate(sids):
            out.append(Song(sid, z[f"{i}_frames"], z[f"{i}_meter"], z[f"{i}_chords"], z[f"{i}_chord_pc"],
                            z[f"{i}_chord_bass"], z[f"{i}_ids"], z[f"{i}_times"]))
        return out
    songs = [load_song(root, sid) for sid in tqdm(sids, desc="preprocess POP909", disable=not progress)]
    arrays = {}
    for i, s in enumerate(songs):
        arrays.update({f"{i}_frames": s.frames, f"{i}_meter": s.meter, f"{i}_chords": s.chords,
                       f"{i}_chord_pc": s.chord_pc, f"{i}_chord_bass": s.chord_bass,
                       f"{i}_ids": s.ids, f"{i}_times": s.times})
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")   # a run of its own: two runs may fill the cache at once
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return songs


def main(argv=None) -> None:
    """python -m accompanist_train.data --root DIR [--write-split Training/split.json] [--cache DIR]"""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2].parent / "shared/datasets/pop909"))
    ap.add_argument("--write-split", default=None)
    ap.add_argument("--cache", default=None)
    a = ap.parse_args(argv)
    root = check_root(a.root)
    if a.write_split:
        split = make_split(song_ids(root))
        Path(a.write_split).write_text(json.dumps(split, indent=1) + "\n")
        print({k: len(v) for k, v in split.items()})
    if a.cache:
        split = load_split(Path(a.write_split or Path(__file__).resolve().parents[1] / "split.json"))
        for k in ("valid", "test", "train"):
            songs = load_songs(root, split[k], a.cache)
            print(k, len(songs), sum(len(s.ids) for s in songs), "tokens")


if __name__ == "__main__":
    main()
