"""python -m accompanist_train.evaluate --model Models/accompanist.safetensors [--data DIR] [--out DIR]

On a folder in POP909 layout (default: the test split of Training/split.json in the POP909
folder): teacher-forced NLL per token, and for accompaniment generated causally in streaming
mode (numpy reference, grammar mask, temperature/top-p, seeded): note-in-chord against
chord_midi.txt, melody consonance (PCS), melody doubling, onsets on the 16th grid, notes per
beat, notes per onset, coverage, pitch range — for the human PIANO track (and BRIDGE, for the
record), a causal rule baseline and the model. Writes report.md and piano-roll PNGs.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data as D
from . import tokens as Tk

REPO = Path(__file__).resolve().parents[2]

# ---- chords (same table as Sources/Engine/ChordAnnotations.swift) ------------------------------
QUALITIES = {
    "maj": [0, 4, 7], "min": [0, 3, 7], "dim": [0, 3, 6], "aug": [0, 4, 8],
    "maj7": [0, 4, 7, 11], "min7": [0, 3, 7, 10], "7": [0, 4, 7, 10], "dim7": [0, 3, 6, 9],
    "hdim7": [0, 3, 6, 10], "minmaj7": [0, 3, 7, 11], "maj6": [0, 4, 7, 9], "min6": [0, 3, 7, 9],
    "9": [0, 4, 7, 10, 2], "maj9": [0, 4, 7, 11, 2], "min9": [0, 3, 7, 10, 2],
    "11": [0, 4, 7, 10, 2, 5], "13": [0, 4, 7, 10, 2, 9], "sus2": [0, 2, 7], "sus4": [0, 5, 7],
    "1": [0], "5": [0, 7],
}
SEMIS = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 9: 2, 11: 5, 13: 9}


def chord_mask(label: str) -> int:
    if label in ("N", "X"):
        return 0
    root_txt, _, q = label.partition(":")
    if not root_txt or root_txt[0] not in D.NOTE_NAMES:
        return 0
    root = D.NOTE_NAMES[root_txt[0]] + root_txt[1:].count("#") - root_txt[1:].count("b")
    q = q or "maj"
    q = q.split("/")[0]
    added = []
    if "(" in q:
        inner = q[q.index("(") + 1:].rstrip(")")
        for deg in inner.split(","):
            if deg.startswith("*"):
                continue
            shift = 0
            while deg.startswith("b"):
                shift -= 1
                deg = deg[1:]
            while deg.startswith("#"):
                shift += 1
                deg = deg[1:]
            if deg.isdigit() and int(deg) in SEMIS:
                added.append(SEMIS[int(deg)] + shift)
        q = q[:q.index("(")]
    iv = QUALITIES.get(q or "maj", [0, 4, 7]) + added
    m = 0
    for i in iv:
        m |= 1 << ((root + i) % 12)
    return m


def chord_labels_per_step(song_dir: Path, n_steps: int) -> list[str]:
    """The chord_midi.txt label sounding at each grid step ("N" where none is annotated)."""
    beats = np.loadtxt(song_dir / "beat_midi.txt", ndmin=2)[:, 0]
    out = ["N"] * n_steps
    p = song_dir / "chord_midi.txt"
    if not p.is_file():
        return out
    for line in p.read_text().splitlines():
        f = line.split()
        if len(f) < 3:
            continue
        a, b = D.seconds_to_steps(np.array([float(f[0]), float(f[1])]), beats)
        a, b = max(0, int(a)), min(n_steps, int(b))
        if b > a:
            out[a:b] = [f[2]] * (b - a)
    return out


def chord_masks_per_step(song_dir: Path, n_steps: int) -> np.ndarray:
    labels = chord_labels_per_step(song_dir, n_steps)
    masks = {x: chord_mask(x) for x in set(labels)}
    return np.array([masks[x] for x in labels], dtype=np.int64)


# ---- metrics ----------------------------------------------------------------------------------
CONSONANT = {0, 3, 4, 7, 8, 9}   # unison/octave, thirds, fifth, sixths: +1; fourth 0; others -1


def metrics(notes: list[Tk.Note], frames: np.ndarray, chords: np.ndarray, n_steps: int) -> dict:
    notes = [n for n in notes if n.start < n_steps]
    judged = inc = 0
    pcs = []
    doubling = 0
    for n in notes:
        m = chords[n.start] if n.start < len(chords) else 0
        if m:
            judged += 1
            inc += bool(m >> (n.pitch % 12) & 1)
        mp = frames[n.start, 0] if n.start < len(frames) else -1
        if mp >= 0:
            iv = (mp - n.pitch) % 12
            pcs.append(1.0 if iv in CONSONANT else (0.0 if iv == 5 else -1.0))
            doubling += iv == 0
    onsets = {n.start for n in notes}
    sounding = np.zeros(n_steps, bool)
    for n in notes:
        sounding[n.start:min(n.end, n_steps)] = True
    pitches = [n.pitch for n in notes]
    return {
        "notes": len(notes),
        "note_in_chord": inc / judged if judged else float("nan"),
        "pcs": float(np.mean(pcs)) if pcs else float("nan"),
        "doubling": doubling / len(notes) if notes else float("nan"),
        "on_16th": float(np.mean([n.start % 2 == 0 for n in notes])) if notes else float("nan"),
        "notes_per_beat": len(notes) / max(n_steps / 8, 1e-9),
        "notes_per_onset": len(notes) / len(onsets) if onsets else float("nan"),
        "coverage": float(sounding.mean()) if n_steps else float("nan"),
        "pitch_lo": float(np.min(pitches)) if pitches else float("nan"),
        "pitch_hi": float(np.max(pitches)) if pitches else float("nan"),
        "_judged": judged, "_inc": inc, "_doubled": int(doubling), "_onsets": len(onsets),
    }


# ---- rule baseline (causal) -------------------------------------------------------------------
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])


def rules_accompaniment(frames: np.ndarray, n_steps: int, velocity: int = 70) -> list[Tk.Note]:
    """At every half bar (16 steps) choose the major/minor triad that best covers the melody of
    the last two beats (steps < now), with a key prior from a decayed histogram of all melody
    heard and some inertia; play bass root on beats 1 and 3 and the triad on every beat, below
    the melody. Uses only frames of steps < the note's start."""
    hist = np.zeros(12)
    chord = None
    out = []
    triads = [(r, q) for r in range(12) for q in (0, 1)]

    def tones(r, q):
        return [r, (r + (4 if q == 0 else 3)) % 12, (r + 7) % 12]
    low_mel = 72
    for b in range(0, n_steps, 8):
        # histogram of melody up to step b (exclusive)
        for s in range(max(0, b - 8), b):
            p = frames[s, 0] if s < len(frames) else -1
            if p >= 0:
                hist[p % 12] += 1.0
                low_mel = min(low_mel + 0.02, p) if p < low_mel else low_mel * 0.98 + p * 0.02
        hist *= 0.98
        if b % 16 == 0:
            recent = np.zeros(12)
            for s in range(max(0, b - 16), b):
                p = frames[s, 0] if s < len(frames) else -1
                if p >= 0:
                    recent[p % 12] += 1.0 + 2.0 * frames[s, 1]
            if recent.sum() > 0 or hist.sum() > 0:
                key = max(range(24), key=lambda k: np.corrcoef(np.roll(MAJOR_PROFILE, k % 12) if k < 12 else np.roll(MAJOR_PROFILE, (k % 12) + 3), hist + 1e-6)[0, 1])
                key_pc = np.roll(MAJOR_PROFILE, key % 12 if key < 12 else key % 12 + 3)
                best, best_s = chord, -1e9
                for r, q in triads:
                    t = tones(r, q)
                    sc = recent[t].sum() / max(recent.sum(), 1e-9) + 0.15 * key_pc[t].sum() / key_pc.sum() * 3
                    if chord == (r, q):
                        sc += 0.1
                    if sc > best_s:
                        best, best_s = (r, q), sc
                chord = best
        if chord is None:
            continue
        r, q = chord
        top = int(min(67, low_mel - 2))
        voicing = []
        for pc in tones(r, q):
            p = top - ((top - pc) % 12)
            while p < 48:
                p += 12
            voicing.append(p)
        beat = (b // 8) % 4
        if beat in (0, 2):
            out.append(Tk.Note(36 + (r - 36) % 12, b, b + 8, velocity))
        for p in sorted(set(voicing)):
            out.append(Tk.Note(p, b, b + 8, velocity - 10))
    return Tk.normalize(out)


# ---- model generation (streaming) -------------------------------------------------------------
QUALITY_TONES = [[0, 4, 7], [0, 3, 7], [0, 2, 5, 7], [0, 3, 6], [0, 4, 8]]   # data.QUALITIES order


def chord_pc_matrix(n_chord: int = D.N_CHORD) -> np.ndarray:
    """(n_chord, 12): 1 where the pitch class is a tone of the chord class (N: none)."""
    m = np.zeros((n_chord, 12))
    for c in range(n_chord - 1):
        r, q = divmod(c, 5)
        for i in QUALITY_TONES[q]:
            m[c, (r + i) % 12] = 1.0
    return m


CHORD_PC = chord_pc_matrix()


def chord_guidance_bias(chord_logits: np.ndarray, strength: float) -> np.ndarray:
    """Bias for the 128 NOTE_ON logits: strength * log P(pitch class is a chord tone), with the
    chord distribution from the encoder's chord head at the newest visible column."""
    z = chord_logits - chord_logits.max()
    p = np.exp(z)
    p /= p.sum()
    pc = p @ CHORD_PC + 1e-3
    pc = pc / pc.max()
    return strength * np.log(np.tile(pc, 11)[:128])



def sample(logits: np.ndarray, legal: np.ndarray, temperature: float, top_p: float, rng) -> int:
    x = np.where(legal, logits / max(temperature, 1e-6), -np.inf)
    x = x - x.max()
    p = np.exp(x)
    p /= p.sum()
    order = np.argsort(-p)
    c = np.cumsum(p[order])
    keep = order[:int(np.searchsorted(c, top_p) + 1)]
    q = p[keep] / p[keep].sum()
    return int(keep[rng.choice(len(keep), p=q)])


def generate(flat, cfg, frames: np.ndarray, meter: np.ndarray, n_steps: int, temperature=0.9, top_p=0.95,
             seed=0, lo=21, hi=108, polyphony=10, max_tokens=None, max_duration=64,
             chord_guidance=0.0) -> tuple[list[int], list[Tk.Note]]:
    """Causal streaming generation: the engine loop of docs/model.md with the tokens.md grammar;
    a pending time shift is cut where a melody onset becomes visible; a note that has sounded
    max_duration steps gets a forced NOTE_OFF (fed to the model like a sampled one)."""
    from .reference import StreamingModel
    m = StreamingModel(flat, cfg, np.float32)
    g = Tk.Grammar(lo, hi, polyphony)
    rng = np.random.default_rng(seed)
    onsets = set((np.nonzero(frames[:n_steps, 1])[0] + 1).tolist())
    tok, p = Tk.BOS, 0
    toks = [tok]
    g.feed(tok)
    limit = max_tokens or 20 * n_steps + 100
    while p < n_steps and len(toks) < limit:
        while m.n_steps < p:
            s = m.n_steps
            m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        logits = m.step(tok, p, int(meter[p]))
        if chord_guidance and p > 0:
            logits = logits.copy()
            logits[:128] += chord_guidance_bias(m.chord_logits(m.enc_ring[p - 1]), chord_guidance)
        overdue = [q for q, st in g.sounding.items() if max_duration and p - st >= max_duration]
        if overdue:
            nxt = Tk.NOTE_OFF + min(overdue)
        else:
            nxt = sample(logits, g.mask(), temperature, top_p, rng)
        n = Tk.shift_of(nxt)
        if n:
            for c in range(p + 1, p + n):
                if c in onsets:
                    nxt = Tk.TIME_SHIFT + (c - p)
                    n = c - p
                    break
        g.feed(nxt)
        toks.append(nxt)
        tok = nxt
        p = p + n
    return toks, Tk.decode(toks)


# ---- NLL ----------------------------------------------------------------------------------------
def teacher_forced_nll(flat, cfg, songs, T=512, Le=512, ctx=64, batch=8) -> dict:
    """NLL per token with the true melody and with another song's melody (the batch's melodies
    rotated by one), over all tokens and over NOTE_ON targets only."""
    import jax
    import jax.numpy as jnp

    from .batches import batch_from, eval_items
    from .model import Accompanist, unflatten_params
    model = Accompanist(cfg)
    params = unflatten_params(flat)

    @jax.jit
    def f(b):
        frames, meter, _, _, tokens, ptime, tmeter, targets, mask, chord_in, given = b
        # melody only: a model with chord input hears the chord itself (given = 0)
        logits, _ = model.apply({"params": params}, frames, meter, tokens, ptime, tmeter, chord_in, 0 * given)
        lp = jax.nn.log_softmax(logits)
        nll = -jnp.take_along_axis(lp, targets[..., None], -1)[..., 0]
        on = mask * (targets < 128)
        return jnp.stack([(nll * mask).sum(), mask.sum(), (nll * on).sum(), on.sum()])
    items = eval_items(songs, T)
    acc = {"true": np.zeros(4), "wrong": np.zeros(4)}
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        chunk = chunk + [chunk[-1]] * (batch - len(chunk)) if len(chunk) < batch else chunk
        b = batch_from(songs, chunk, T, Le, ctx).as_tuple()
        if i + batch > len(items):   # do not count the padding repeats twice
            k = len(items) - i
            b = tuple(x if j != 8 else np.concatenate([x[:k], np.zeros_like(x[k:])]) for j, x in enumerate(b))
        acc["true"] += np.asarray(f(b))
        acc["wrong"] += np.asarray(f((np.roll(b[0], 1, axis=0),) + b[1:]))
    out = {}
    for k, v in acc.items():
        out[k] = v[0] / max(v[1], 1.0)
        out[k + "_note_on"] = v[2] / max(v[3], 1.0)
    return out


# ---- piano rolls --------------------------------------------------------------------------------
def piano_roll(path: Path, title: str, frames, systems: dict[str, list[Tk.Note]], chords, n_steps: int):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(systems), 1, figsize=(14, 2.6 * len(systems)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (name, notes) in zip(axes, systems.items()):
        for s in range(0, n_steps, 32):
            ax.axvline(s, color="0.85", lw=0.6)
        for n in notes:
            if n.start >= n_steps:
                continue
            ok = bool(chords[n.start] >> (n.pitch % 12) & 1) if chords[n.start] else None
            col = "tab:blue" if ok else ("tab:orange" if ok is False else "0.5")
            ax.add_patch(plt.Rectangle((n.start, n.pitch - 0.4), min(n.end, n_steps) - n.start, 0.8, color=col))
        s = 0
        while s < n_steps:
            if frames[s, 0] >= 0:
                e = s + 1
                while e < n_steps and frames[e, 0] == frames[s, 0] and not frames[e, 1]:
                    e += 1
                ax.add_patch(plt.Rectangle((s, frames[s, 0] - 0.4), e - s, 0.8, color="tab:red", alpha=0.8))
                s = e
            else:
                s += 1
        ax.set_ylim(24, 96)
        ax.set_xlim(0, n_steps)
        ax.set_ylabel(name)
    axes[0].set_title(f"{title}: melody red; accompaniment blue = chord tone, orange = not")
    axes[-1].set_xlabel("step (8 per beat; lines at bars)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ---- main ---------------------------------------------------------------------------------------
def load_model(path: str):
    from .export import flat_from_checkpoint, load
    if path.endswith(".safetensors"):
        flat, cfg, meta = load(path)
        return flat, cfg, meta
    flat, cfg, info = flat_from_checkpoint(path)
    return flat, cfg, {"training": json.dumps(info)}


def summarize(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if not k.startswith("_")]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
    j = sum(r["_judged"] for r in rows)
    out["note_in_chord"] = sum(r["_inc"] for r in rows) / j if j else float("nan")   # pooled over notes
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="safetensors file or training checkpoint (.msgpack)")
    ap.add_argument("--data", default=str(REPO.parent / "shared/datasets/pop909"), help="folder in POP909 layout")
    ap.add_argument("--split", default=str(REPO / "Training/split.json"),
                    help="with the default data folder: evaluate its 'test' songs")
    ap.add_argument("--songs", default=None, help="comma-separated song ids (default: test split, or all)")
    ap.add_argument("--max-songs", type=int, default=0)
    ap.add_argument("--max-bars", type=int, default=32, help="bars per song generated (0: whole song)")
    ap.add_argument("--temperature", type=float, default=0.9)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chord-guidance", type=float, default=0.0,
                    help="add this times log P(chord tone) from the chord head to NOTE_ON logits (0: off)")
    ap.add_argument("--subset", default="test", choices=["test", "valid", "train"], help="split subset to evaluate")
    ap.add_argument("--max-duration", type=int, default=64, help="steps after which a generated note is released")
    ap.add_argument("--rolls", type=int, default=3, help="piano-roll PNGs to draw")
    ap.add_argument("--out", default=str(REPO / "Training/runs/eval"))
    a = ap.parse_args(argv)
    try:
        root = D.check_root(a.data)
    except D.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.songs:
        sids = a.songs.split(",")
    else:
        avail = D.song_ids(root)
        sids = avail
        sp = Path(a.split)
        if sp.is_file():
            test = [s for s in D.load_split(sp)[a.subset] if s in avail]
            if test:
                sids = test
    if a.max_songs:
        sids = sids[:a.max_songs]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(a.model) if a.model else None
    rows: dict[str, list[dict]] = {"human PIANO": [], "human BRIDGE": [], "rules": []}
    if model:
        rows["model"] = []
    songs = []
    t0 = time.time()
    from .midi import read_midi, track_notes
    for i, sid in enumerate(sids):
        song = D.load_song(root, sid)
        songs.append(song)
        L = len(song.frames)
        n = L if not a.max_bars else min(L, a.max_bars * 32)
        chords = chord_masks_per_step(root / sid, L + 64)
        frames = song.frames.astype(np.int64)
        human = Tk.decode(song.ids)
        # BRIDGE, placed on the grid as the other tracks
        midi = read_midi(root / sid / f"{sid}.mid")
        beats = np.loadtxt(root / sid / "beat_midi.txt", ndmin=2)[:, 0]
        tts = midi.get_tick_to_time_mapping()
        br = track_notes(midi, "BRIDGE")
        bridge = []
        if br:
            st = D.seconds_to_steps(tts[np.minimum([x.start for x in br], len(tts) - 1)], beats)
            en = D.seconds_to_steps(tts[np.minimum([x.end for x in br], len(tts) - 1)], beats)
            bridge = Tk.normalize(Tk.make_note(x.pitch, s_, e_, x.velocity) for x, s_, e_ in zip(br, st, en))
        systems = {"human PIANO": human, "human BRIDGE": bridge, "rules": rules_accompaniment(frames, n)}
        if model:
            flat, cfg, _ = model
            meter = song.meter.astype(np.int64)
            _, gen = generate(flat, cfg, frames, meter, n, a.temperature, a.top_p, a.seed + i,
                              max_duration=a.max_duration, chord_guidance=a.chord_guidance)
            systems["model"] = gen
        for k, notes in systems.items():
            rows[k].append(metrics(notes, frames, chords, n))
        if i < a.rolls:
            piano_roll(out / f"roll_{sid}.png", f"song {sid}", frames,
                       {k: v for k, v in systems.items() if k != "human BRIDGE"}, chords, min(n, 16 * 32))
        print(f"[{i + 1}/{len(sids)}] {sid} ({time.time() - t0:.0f}s)", file=sys.stderr)
    summ = {k: summarize(v) for k, v in rows.items() if v}
    nll = None
    if model:
        flat, cfg, meta = model
        nll = teacher_forced_nll(flat, cfg, songs)
    cols = ["note_in_chord", "pcs", "doubling", "notes_per_beat", "notes_per_onset", "on_16th", "coverage",
            "pitch_lo", "pitch_hi"]
    lines = ["# Evaluation", "",
             f"Data: `{root}`, {len(sids)} songs ({a.subset + ' split' if not a.songs else 'chosen'}), "
             f"first {a.max_bars or 'all'} bars each. Model: `{a.model}`; sampling temperature {a.temperature}, "
             f"top-p {a.top_p}, chord guidance {a.chord_guidance}, seed {a.seed}, notes released after {a.max_duration} steps; generated causally "
             f"with the streaming reference.", ""]
    if nll is not None:
        lines += [f"Teacher-forced NLL on these songs (whole songs): **{nll['true']:.4f} nats/token** "
                  f"(NOTE_ON targets {nll['true_note_on']:.4f}); with another song's melody {nll['wrong']:.4f} "
                  f"(NOTE_ON {nll['wrong_note_on']:.4f}): the model listens to the melody by "
                  f"{nll['wrong'] - nll['true']:.4f} nats/token ({nll['wrong_note_on'] - nll['true_note_on']:.4f} on NOTE_ONs).", ""]
    lines += ["| system | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for k, s in summ.items():
        lines.append(f"| {k} | " + " | ".join(f"{s[c]:.3f}" if c not in ("pitch_lo", "pitch_hi") else f"{s[c]:.1f}" for c in cols) + " |")
    lines += ["", "Definitions: note_in_chord = accompaniment notes whose pitch class is in the annotated chord at "
              "their onset (notes under `N` not counted), pooled over notes; pcs = mean over accompaniment onsets "
              "with a sounding melody note of +1 (interval class 0, 3, 4, 7, 8, 9), 0 (5), -1 (others); doubling = "
              "share of accompaniment notes with the pitch class of the melody note sounding at their onset; "
              "on_16th = onsets on even steps; coverage = share of steps with an accompaniment note sounding; "
              "pitch_lo/hi = mean per-song lowest/highest pitch. Rules: causal triad choice every half bar "
              "(melody of the last two beats, key prior, inertia), bass on beats 1 and 3, triad on every beat.", ""]
    for sid in sids[:a.rolls]:
        lines.append(f"![song {sid}](roll_{sid}.png)")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps({"summary": summ, "nll": nll, "songs": sids}, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
