"""The Swift engine with and without given harmony (issue #10): `accompanist render` on POP909 songs
in four harmony modes, scored against the annotated chords.

  python -m accompanist_train.harmony_eval --binary .build/release/accompanist \\
      --model Models/accompanist.safetensors --subset test --max-songs 41 --max-bars 32 \\
      --modes melody,chart,chord-track,split --seeds 0 --out Training/runs/harmony_eval \\
      [--rolls 3] [--extra-args "--temperature 0.6"]

**Songs.** The first --max-songs songs of the --subset of Training/split.json. Each song's MELODY
is put on the beat grid (beat_midi.txt, 8 steps a beat) and shifted by whole beats so that its
first annotated downbeat falls on a multiple of 32 steps, exactly as swift_compare does; the
first --max-bars bars (n = 32 steps a bar; fewer bars if the melody ends sooner) are rendered and
scored. A song with no melody note there is skipped. Every file is written at 120 bpm, 480 ticks
a beat (60 ticks a step); step 0 is bar 1.

**The per-beat chords.** The annotation (chord_midi.txt, put on the same grid, shifted alike) is
read as a player would write a chart: for each beat (8 steps), the chord symbol that covers most
of its steps; on a tie, the one sounding at step 4 (the beat's middle) if it is among the tied,
else the first. A POP909 label becomes a chord symbol of docs/harmony.md (`chord_symbol`:
`A:min7/b3` -> `Am7/C`, `D:sus4(b7)` -> `D7sus4`, `F#:hdim7` -> `F#m7b5`, `Bb:minmaj7` ->
`Bbm(maj7)`; roots spelled `C Db D Eb E F F# G Ab A Bb B`, a slash bass as the degree above that
root, `E:maj/3` -> `E/G#`, `Db:maj/5` -> `Db/Ab`; `N`, or no annotation, -> `N.C.`).

**Modes** (every song, every mode, the same --seeds; renders run one at a time):
- `melody`: the melody file alone.
- `memory-chart`, `memory-melody` (issue #11, take 2): take 1 is rendered into a fresh memory
  (`--memory DIR`) with the chart (`memory-chart`: its chords are stored as ground truth) or from
  the melody alone (`memory-melody`: the hindsight estimate is stored); take 2, scored, is the
  melody varied (`vary`: grace notes of one step dropped, one note in 20 moved a semitone or a
  whole tone, starts and ends moved a step at random, one in four) rendered melody-only with that
  memory.
- `memory-unknown`: the melody rendered with a memory of the chart takes of the songs before it in
  this run, never its own: it must play as `melody` does.
- Each seed of a memory mode renders with its own copy of the memory (`{mode}.seed{N}.memory`),
  so every seed hears the same takes: the render stores itself as a take, and without the copy
  seed 1 would also remember seed 0's take 2 (and in `memory-unknown`, the song itself).
- `hindsight`: the melody file with `--hindsight` (issue #11: the chords estimated from the whole
  melody first, then followed as a chart; `--hindsight-model` picks the model).
- `chart`: the melody file and `--chart FILE`: the per-beat chords, 4 cells a bar
  (`| C C Am Am | F F G7 G7 |`), bar 1 at step 0.
- `chord-track`: a file with the MELODY track and a track "Chords" holding the per-beat chords
  as notes, rendered with `--chord-track Chords`. A chord is a close root-position voicing of the
  docs/harmony.md intervals with its root in C3..B3 (MIDI 48-59), and for a slash chord the bass
  note in the octave below the root; a chord repeated on the next beat is held, not re-struck;
  `N.C.` is silence.
- `split`: one track, the melody and those chord notes, rendered with `--split N`, N the
  song's lowest melody pitch in the rendered bars: each voicing is moved down by octaves until
  its highest note is below N, so every melody note is at or above the split and every chord
  note below it.

**Metrics** (`song_metrics`), over accompaniment notes with onset step < n, against the annotated
chord at each step (evaluate.chord_masks_per_step: pitch-class masks of chord_midi.txt on the grid;
a step under `N` is not judged):
- note_in_chord: share of judged notes whose pitch class is a tone of the chord at their onset.
- in_chord_time: the same, sampled every 50 ms over each note's duration (onset to release, cut at
  n): a sample at time t is judged against the chord of step floor(t / step). Seconds are those
  of the rendered file (120 bpm: 62.5 ms a step), the time a listener of the render hears; the
  song's own beat times would only rescale the sampling (POP909 tempos are near constant).
- notes_per_beat: notes / (n / 8). notes_per_onset: notes / distinct onset steps.
- doubling: share of notes whose pitch class is that of the melody note sounding at their onset
  (the highest, where several sound).
- groove: each bar's onsets on a 16th-note grid (16 cells; cell = (step mod 32) // 2);
  1 - Hamming distance / 16 between consecutive bars, averaged over the pairs in which both
  bars have an onset.
- failures: renders that exited non-zero, with their last line of error output.
Rows pool over songs and seeds: each ratio is the sum of its numerators over the sum of its
denominators (notes, onsets, beats, judged notes or samples, bar pairs). The row "human PIANO" is
POP909's PIANO track on the same grid, songs and bars.

Writes OUT/summary.json (settings, songs, pooled rows, failures), OUT/report.md (one row per mode
and the human), OUT/songs/SID.json (every render's metrics or error), the inputs and renders
under OUT/files/SID/, and with --rolls K, OUT/roll_SID.png for the first K songs (panels: human,
then each mode that rendered, first seed, first 16 bars; melody red, accompaniment blue on a chord
tone, orange off it, grey under N).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import data as D
from . import tokens as Tk
from .evaluate import REPO, chord_labels_per_step, chord_masks_per_step, metrics, piano_roll
from .swift_compare import melody_notes, read_events, write_midi

MODES = ("melody", "chart", "chord-track", "split", "hindsight", "memory-chart", "memory-melody", "memory-unknown")
MEMORY_MODES = ("memory-chart", "memory-melody", "memory-unknown")
STEPS_PER_BAR = 32
SECONDS_PER_STEP = 60 / 120 / Tk.STEPS_PER_BEAT   # the tempo swift_compare.write_midi writes
SAMPLE_SECONDS = 0.05
NO_CHORD = "N.C."

# ---- chord symbols ------------------------------------------------------------------------------
NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]   # ChordSymbol.pitchClassNames
# canonical suffix -> semitones above the root (docs/harmony.md, "Chord symbols")
INTERVALS = {
    "": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
    "dim": (0, 3, 6), "dim7": (0, 3, 6, 9), "m7b5": (0, 3, 6, 10), "aug": (0, 4, 8), "sus2": (0, 2, 7),
    "sus4": (0, 5, 7), "7sus4": (0, 5, 7, 10), "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10, 14), "add9": (0, 4, 7, 14), "m(maj7)": (0, 3, 7, 11),
}
# POP909 quality (with its parenthesised extension, if any) -> canonical suffix
SUFFIX = {
    "maj": "", "min": "m", "7": "7", "maj7": "maj7", "min7": "m7", "dim": "dim", "dim7": "dim7",
    "hdim7": "m7b5", "aug": "aug", "sus2": "sus2", "sus4": "sus4", "sus4(b7)": "7sus4", "maj6": "6",
    "min6": "m6", "9": "9", "maj(9)": "add9", "minmaj7": "m(maj7)",
}
SYMBOL = re.compile(r"([A-G][b#]?)(.*?)(?:/([A-G][b#]?))?")


def pitch_class(name: str) -> int:
    """`C`, `F#`, `Bb`, `Cb` -> 0..11."""
    return (D.NOTE_NAMES[name[0]] + name.count("#") - name.count("b")) % 12


def bass_name(root: str, degree: str, pc: int) -> str:
    """The slash bass spelled as the degree above the spelled root (`E` `3` -> `G#`, `A` `b3` ->
    `C`); NAMES[pc] where that would need a double accidental."""
    letter = "CDEFGAB"[("CDEFGAB".index(root[0]) + int(re.sub(r"\D", "", degree)) - 1) % 7]
    acc = (pc - D.NOTE_NAMES[letter] + 6) % 12 - 6
    return letter + {-1: "b", 0: "", 1: "#"}[acc] if abs(acc) <= 1 else NAMES[pc]


def chord_symbol(label: str) -> str:
    """A POP909 label as a chart chord symbol: `A:min7/b3` -> `Am7/C`, `E:maj/3` -> `E/G#`, `N`
    -> `N.C.`. A quality not in SUFFIX keeps its triad (`min...` minor, else major); the bass pitch
    class is data.chord_tones'."""
    m = re.match(r"^([A-G][b#]*):([^/]*)(?:/(.+))?$", label.strip())
    if not m:
        return NO_CHORD
    root = NAMES[pitch_class(m[1])]
    q = m[2] or "maj"
    suffix = SUFFIX.get(q, SUFFIX.get(q.split("(")[0], "m" if q.startswith("min") else ""))
    bass = D.chord_tones(label)[1]
    slash = "/" + bass_name(root, m[3], bass) if bass >= 0 and bass != pitch_class(root) else ""
    return root + suffix + slash


def voicing(symbol: str, below: int | None = None) -> list[int]:
    """MIDI pitches of a chord symbol (chord_symbol's spelling): root in 48..59 with the
    intervals above it, a slash bass in the octave below the root; with `below`, moved down by
    octaves until the highest pitch is < below."""
    m = SYMBOL.fullmatch(symbol)
    root = 48 + pitch_class(m[1])
    out = [root + i for i in INTERVALS[m[2]]]
    if m[3]:
        out.insert(0, root - 12 + (pitch_class(m[3]) - root) % 12)
    while below is not None and out[-1] >= below and out[0] >= 12:
        out = [p - 12 for p in out]
    return out


def beat_chords(labels: list[str], n_beats: int) -> list[str]:
    """One chord symbol per beat from per-step labels: the symbol covering most of the beat's 8
    steps (a tie goes to the one at step 4 of the beat, if tied, else the first); missing steps
    are N."""
    out = []
    for b in range(n_beats):
        cells = [chord_symbol(x) for x in labels[8 * b:8 * b + 8]]
        cells += [NO_CHORD] * (8 - len(cells))
        counts = Counter(cells)
        tied = [c for c, k in counts.items() if k == max(counts.values())]
        out.append(cells[4] if cells[4] in tied else tied[0])
    return out


def chart_text(chords: list[str], beats_per_bar: int = 4, bars_per_line: int = 4) -> str:
    """The per-beat chords as a chart: one cell a beat, `bars_per_line` bars a line."""
    bars = [" ".join(chords[i:i + beats_per_bar]) for i in range(0, len(chords), beats_per_bar)]
    lines = ["| " + " | ".join(bars[i:i + bars_per_line]) + " |" for i in range(0, len(bars), bars_per_line)]
    return "\n".join(lines) + "\n"


def chord_notes(chords: list[str], below: int | None = None, velocity: int = 70) -> list[Tk.Note]:
    """The per-beat chords as held notes (voicing(chord, below)); a chord repeated on the next
    beat is held on, N.C. is silence."""
    out = []
    b = 0
    while b < len(chords):
        e = b + 1
        while e < len(chords) and chords[e] == chords[b]:
            e += 1
        if chords[b] != NO_CHORD:
            out += [Tk.Note(p, 8 * b, 8 * e, velocity) for p in voicing(chords[b], below)]
        b = e
    return out


# ---- metrics ------------------------------------------------------------------------------------
def in_chord_time(notes: list[Tk.Note], chords: np.ndarray, n_steps: int,
                  seconds_per_step: float = SECONDS_PER_STEP, dt: float = SAMPLE_SECONDS) -> tuple[int, int]:
    """(samples on a chord tone, samples judged): every note sampled every dt seconds from its
    onset until its release (cut at n_steps); samples under N are not judged."""
    inc = judged = 0
    per = dt / seconds_per_step                      # steps between samples
    for x in notes:
        end = min(x.end, n_steps)
        for k in range(max(0, math.ceil((end - x.start) / per - 1e-9))):
            m = int(chords[math.floor(x.start + k * per + 1e-9)])
            if m:
                judged += 1
                inc += m >> (x.pitch % 12) & 1
    return inc, judged


def groove(notes: list[Tk.Note], n_steps: int) -> tuple[float, int]:
    """(sum of similarities, bar pairs): onsets per bar on a 16-cell grid; for each two
    consecutive bars that both have onsets, 1 - Hamming distance / 16."""
    grid = np.zeros((max(1, -(-n_steps // STEPS_PER_BAR)), 16), bool)
    for x in notes:
        if 0 <= x.start < n_steps:
            grid[x.start // STEPS_PER_BAR, (x.start % STEPS_PER_BAR) // 2] = True
    has = grid.any(axis=1)
    sims = [1 - np.sum(grid[b] != grid[b + 1]) / 16 for b in range(len(grid) - 1) if has[b] and has[b + 1]]
    return float(sum(sims)), len(sims)


def _ratio(a, b) -> float:
    return a / b if b else float("nan")


def song_metrics(notes: list[Tk.Note], frames: np.ndarray, chords: np.ndarray, n_steps: int) -> dict:
    """The metrics of one accompaniment (notes with onset < n_steps) and the counts they pool by."""
    notes = [x for x in notes if x.start < n_steps]
    m = metrics(notes, frames, chords, n_steps)
    t_in, t_judged = in_chord_time(notes, chords, n_steps)
    g_sum, g_pairs = groove(notes, n_steps)
    counts = {"notes": m["notes"], "beats": n_steps / Tk.STEPS_PER_BEAT, "onsets": m["_onsets"],
              "judged": m["_judged"], "in_chord": m["_inc"], "time_judged": t_judged, "time_in_chord": t_in,
              "doubled": m["_doubled"], "groove_sum": g_sum, "bar_pairs": g_pairs}
    return {**rates(counts), "counts": counts}


def rates(c: dict) -> dict:
    return {"note_in_chord": _ratio(c["in_chord"], c["judged"]),
            "in_chord_time": _ratio(c["time_in_chord"], c["time_judged"]),
            "notes_per_beat": _ratio(c["notes"], c["beats"]),
            "notes_per_onset": _ratio(c["notes"], c["onsets"]),
            "doubling": _ratio(c["doubled"], c["notes"]),
            "groove": _ratio(c["groove_sum"], c["bar_pairs"])}


def pooled(rows: list[dict]) -> dict:
    """Rows pooled: the sums of their counts, and the rates of those sums."""
    total = {k: sum(r["counts"][k] for r in rows) for k in rows[0]["counts"]} if rows else {}
    return {**rates(total), "renders": len(rows), "counts": total} if rows else {"renders": 0}


# ---- songs and their inputs ---------------------------------------------------------------------
@dataclass
class SongInputs:
    sid: str
    n_steps: int
    shift: int
    melody: list[Tk.Note]
    human: list[Tk.Note]
    frames: np.ndarray
    chords: np.ndarray      # pitch-class mask per step (0 = N)
    beat_chords: list[str]  # chord symbol per beat
    split: int              # lowest melody pitch


def prepare_song(root: Path, sid: str, max_bars: int) -> SongInputs | None:
    """The song's melody, PIANO, chords and per-beat chords on the bar-aligned grid (None: no
    melody in the first max_bars bars)."""
    mel, first_downbeat = melody_notes(root, sid)
    piano, _ = melody_notes(root, sid, "PIANO")
    shift = (-first_downbeat) % STEPS_PER_BAR
    bars = min(max_bars, -(-(max((x.end for x in mel), default=0) + shift) // STEPS_PER_BAR))
    n = bars * STEPS_PER_BAR

    def crop(notes):
        return [Tk.make_note(x.pitch, x.start + shift, x.end + shift, x.velocity) for x in notes if x.start + shift < n]
    mel, human = crop(mel), crop(piano)
    if not mel:
        return None
    labels = (["N"] * shift + chord_labels_per_step(root / sid, n + 64))[:n + 64]
    chords = np.concatenate([np.zeros(shift, np.int64), chord_masks_per_step(root / sid, n + 64)])[:n + 64]
    return SongInputs(sid, n, shift, mel, human, Tk.melody_frames(mel, n + 64).astype(np.int64), chords,
                      beat_chords(labels, n // Tk.STEPS_PER_BEAT), min(x.pitch for x in mel))


def vary(notes: list[Tk.Note], seed: int) -> list[Tk.Note]:
    """A second take of a melody: grace notes (one step long) dropped, one note in 20 moved by a
    semitone or a whole tone, starts and ends moved by a step at random (one in four each)."""
    rng = np.random.default_rng(seed)
    out = []
    for x in notes:
        if x.end - x.start <= 1:
            continue
        p = x.pitch + (int(rng.choice([-2, -1, 1, 2])) if rng.random() < 0.05 else 0)
        a = x.start + (int(rng.choice([-1, 1])) if rng.random() < 0.25 else 0)
        b = x.end + (int(rng.choice([-1, 1])) if rng.random() < 0.25 else 0)
        a = max(0, a)
        if b > a:
            out.append(Tk.make_note(p, a, b, x.velocity))
    return Tk.normalize(out)


def write_inputs(song: SongInputs, folder: Path, modes=MODES, hindsight_model: str | None = None) -> dict[str, tuple[Path, list[str]]]:
    """Each mode's input file (and chart) in `folder`: mode -> (MIDI file, render options)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    melody = folder / "melody.mid"
    if any(m in modes for m in ("melody", "chart", "hindsight") + MEMORY_MODES):
        write_midi(melody, {"MELODY": song.melody})
    if "melody" in modes:
        out["melody"] = (melody, [])
    if any(m in modes for m in MEMORY_MODES):
        write_midi(folder / "take2.mid", {"MELODY": vary(song.melody, int(song.sid) if song.sid.isdigit() else 0)})
        if "chart" not in modes:
            (folder / "chart.txt").write_text(f"# song {song.sid}: chord_midi.txt, one chord a beat\n" + chart_text(song.beat_chords))
    for m in ("memory-chart", "memory-melody"):
        if m in modes:
            out[m] = (folder / "take2.mid", ["--memory", str(folder / m)])
    if "memory-unknown" in modes:
        out["memory-unknown"] = (melody, ["--memory", str(folder.parent / "memory-unknown-pool")])
    if "hindsight" in modes:
        out["hindsight"] = (melody, ["--hindsight"] + (["--hindsight-model", hindsight_model] if hindsight_model else []))
    if "chart" in modes:
        (folder / "chart.txt").write_text(f"# song {song.sid}: chord_midi.txt, one chord a beat\n"
                                          + chart_text(song.beat_chords))
        out["chart"] = (melody, ["--chart", str(folder / "chart.txt")])
    if "chord-track" in modes:
        write_midi(folder / "chord_track.mid", {"MELODY": song.melody, "Chords": chord_notes(song.beat_chords)})
        out["chord-track"] = (folder / "chord_track.mid", ["--chord-track", "Chords"])
    if "split" in modes:
        both = Tk.normalize(song.melody + chord_notes(song.beat_chords, below=song.split))
        write_midi(folder / "split.mid", {"MELODY": both})
        out["split"] = (folder / "split.mid", ["--split", str(song.split)])
    return out


def render(binary: str, src: Path, dst: Path, model: str, seed: int, options: list[str]) -> tuple[list[Tk.Note] | None, str]:
    """One `accompanist render --events`: (accompaniment notes, "") or (None, error line)."""
    events = dst.with_suffix(".jsonl")
    cmd = [binary, "render", str(src), "-o", str(dst), "--events", str(events), "--engine", "model",
           "--model", model, "--seed", str(seed), "--beats-per-bar", "4", *options]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        return None, str(e)
    if r.returncode != 0:
        lines = [x for x in (r.stderr + r.stdout).splitlines() if x.strip()]
        return None, f"exit {r.returncode}: {lines[-1].strip() if lines else '(no output)'}"
    return read_events(events), ""


# ---- main ---------------------------------------------------------------------------------------
COLUMNS = ["note_in_chord", "in_chord_time", "notes_per_beat", "notes_per_onset", "doubling", "groove"]


def report(summary: dict, failures: list[dict], settings: dict, songs: list[str], rolls: list[str]) -> str:
    lines = ["# Harmony evaluation (issue #10)", "",
             f"`{settings['binary']}` with `{settings['model']}`, {len(songs)} songs of the {settings['subset']} "
             f"split, first {settings['max_bars']} bars, seeds {settings['seeds']}, extra render options "
             f"`{settings['extra_args'] or '(none)'}`. Definitions: `accompanist_train/harmony_eval.py`.", "",
             "| system | renders | failures | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 3) + "|"]
    for name, s in summary.items():
        nf = sum(f["mode"] == name for f in failures)
        vals = " | ".join(f"{s[c]:.3f}" if "renders" in s and s["renders"] else "-" for c in COLUMNS)
        lines.append(f"| {name} | {s['renders']} | {nf} | {vals} |")
    if failures:
        lines += ["", "Failed renders:", ""]
        by_error: dict[tuple[str, str], list[str]] = {}
        for f in failures:
            by_error.setdefault((f["mode"], f["error"]), []).append(f"{f['song']} (seed {f['seed']})")
        for (mode, err), where in by_error.items():
            lines.append(f"- {mode}: `{err}`: {', '.join(where)}")
    lines += [""] + [f"![song {sid}](roll_{sid}.png)" for sid in rolls]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for the modes and metrics.")
    ap.add_argument("--binary", default=str(REPO / ".build/release/accompanist"))
    ap.add_argument("--model", default=str(REPO / "Models/accompanist.safetensors"))
    ap.add_argument("--data", default=str(REPO.parent / "shared/datasets/pop909"))
    ap.add_argument("--split", default=str(REPO / "Training/split.json"))
    ap.add_argument("--subset", default="test", choices=["test", "valid", "train"])
    ap.add_argument("--max-songs", type=int, default=41)
    ap.add_argument("--max-bars", type=int, default=32)
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated, of " + ", ".join(MODES))
    ap.add_argument("--seeds", default="0", help="comma-separated render seeds, the same for every song and mode")
    ap.add_argument("--hindsight-model", default=None, help="the hindsight chord model for the hindsight mode (default: render's)")
    ap.add_argument("--extra-args", default="", help="options added to every render, e.g. \"--temperature 0.6\"")
    ap.add_argument("--rolls", type=int, default=0, help="piano-roll PNGs of the first K songs")
    ap.add_argument("--out", default=str(REPO / "Training/runs/harmony_eval"))
    a = ap.parse_args(argv)
    modes = [m for m in a.modes.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown mode(s) {', '.join(bad)}: choose from {', '.join(MODES)}")
    seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    extra = shlex.split(a.extra_args)
    root = D.check_root(a.data)
    avail = set(D.song_ids(root))
    sids = [s for s in D.load_split(Path(a.split))[a.subset] if s in avail][:a.max_songs]
    out = Path(a.out)
    (out / "songs").mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {"human PIANO": [], **{m: [] for m in modes}}
    failures, done, skipped, rolls = [], [], [], []
    t0 = time.time()
    for i, sid in enumerate(sids):
        song = prepare_song(root, sid, a.max_bars)
        if song is None:
            print(f"[{i + 1}/{len(sids)}] {sid}: no melody in the first {a.max_bars} bars, skipped", file=sys.stderr)
            skipped.append(sid)
            continue
        done.append(sid)
        files = out / "files" / sid
        inputs = write_inputs(song, files, modes, a.hindsight_model)
        human = song_metrics(song.human, song.frames, song.chords, song.n_steps)
        rows["human PIANO"].append(human)
        per_song = {"song": sid, "n_steps": song.n_steps, "shift": song.shift, "split": song.split,
                    "human PIANO": human, "renders": {}}
        systems = {"human PIANO": song.human}
        # Take 1 of the memory modes, not scored: the chart or the melody alone, into a fresh memory.
        for m, take1 in (("memory-chart", ["--chart", str(files / "chart.txt")]), ("memory-melody", [])):
            if m in modes:
                shutil.rmtree(files / m, ignore_errors=True)
                _, err = render(a.binary, files / "melody.mid", files / f"{m}.take1.mid", a.model, seeds[0],
                                take1 + ["--memory", str(files / m)] + (["--hindsight-model", a.hindsight_model] if a.hindsight_model else []))
                if err:
                    print(f"[{i + 1}/{len(sids)}] {sid} {m} take 1: FAILED {err}", file=sys.stderr)
        if "memory-unknown" in modes and i == 0:
            shutil.rmtree(out / "files" / "memory-unknown-pool", ignore_errors=True)
        for mode in modes:
            src, options = inputs[mode]
            for seed in seeds:
                run_options = options
                if mode in MEMORY_MODES:
                    # Every seed hears the same memory: a copy of it, which this render's own take
                    # joins instead (else seed 1 would also remember seed 0's take of this song).
                    at = options.index("--memory") + 1
                    copy = files / f"{mode}.seed{seed}.memory"
                    shutil.rmtree(copy, ignore_errors=True)
                    if Path(options[at]).is_dir():
                        shutil.copytree(options[at], copy)
                    else:                                  # memory-unknown's pool, before its first take
                        copy.mkdir(parents=True)
                    run_options = options[:at] + [str(copy)] + options[at + 1:]
                notes, err = render(a.binary, src, files / f"{mode}.seed{seed}.mid", a.model, seed, run_options + extra)
                if notes is None:
                    failures.append({"mode": mode, "song": sid, "seed": seed, "error": err})
                    per_song["renders"].setdefault(mode, {})[seed] = {"error": err}
                    print(f"[{i + 1}/{len(sids)}] {sid} {mode} seed {seed}: FAILED {err}", file=sys.stderr)
                    continue
                r = song_metrics(notes, song.frames, song.chords, song.n_steps)
                rows[mode].append(r)
                per_song["renders"].setdefault(mode, {})[seed] = r
                systems.setdefault(mode, notes)
                print(f"[{i + 1}/{len(sids)}] {sid} {mode} seed {seed}: note-in-chord {r['note_in_chord']:.3f}, "
                      f"in-chord time {r['in_chord_time']:.3f}, notes/beat {r['notes_per_beat']:.2f} "
                      f"({time.time() - t0:.0f}s)", file=sys.stderr)
        if "memory-unknown" in modes:
            # This song joins the pool of other songs for the songs after it (a chart take, not scored).
            pool = out / "files" / "memory-unknown-pool"
            render(a.binary, files / "melody.mid", files / "pool-take.mid", a.model, seeds[0],
                   ["--chart", str(files / "chart.txt"), "--memory", str(pool)])
        (out / "songs" / f"{sid}.json").write_text(json.dumps(per_song, indent=1))
        if len(rolls) < a.rolls:
            piano_roll(out / f"roll_{sid}.png", f"song {sid}", song.frames, systems, song.chords,
                       min(song.n_steps, 16 * STEPS_PER_BAR))
            rolls.append(sid)
    summary = {k: pooled(v) for k, v in rows.items()}
    settings = {**vars(a), "modes": modes, "seeds": seeds}
    (out / "summary.json").write_text(json.dumps(
        {"settings": settings, "songs": done, "skipped": skipped, "summary": summary, "failures": failures}, indent=1))
    text = report(summary, failures, settings, done, rolls)
    (out / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
