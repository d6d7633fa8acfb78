"""A tiny synthetic data set in POP909 layout, for tests and smoke runs (no real data needed)."""
from __future__ import annotations

from pathlib import Path

import miditoolkit
import numpy as np

CHORDS = [(0, "C:maj", [48, 52, 55]), (9, "A:min", [45, 48, 52]), (5, "F:maj", [41, 45, 48]), (7, "G:maj", [43, 47, 50])]


def write_song(folder: Path, sid: str, seed: int, bars: int = 8, bpm: float = 100.0) -> None:
    rng = np.random.default_rng(seed)
    d = folder / sid
    d.mkdir(parents=True, exist_ok=True)
    ppq = 480
    sec_per_beat = 60.0 / bpm
    offset = 0.05 + 0.3 * rng.random()           # notes are off the tick grid, like POP909
    midi = miditoolkit.MidiFile(ticks_per_beat=ppq)
    midi.tempo_changes = [miditoolkit.TempoChange(bpm, 0)]
    mel = miditoolkit.Instrument(0, name="MELODY")
    piano = miditoolkit.Instrument(0, name="PIANO")

    def tick(beat):
        return int(round((offset + beat * sec_per_beat) / sec_per_beat * ppq))
    chord_lines = []
    for bar in range(bars):
        _, label, tones = CHORDS[(bar + seed) % len(CHORDS)]
        b0 = 4 * bar
        chord_lines.append(f"{offset + b0 * sec_per_beat:.6f}\t{offset + (b0 + 4) * sec_per_beat:.6f}\t{label}")
        for beat in range(4):
            for k, p in enumerate(tones):
                piano.notes.append(miditoolkit.Note(int(rng.integers(50, 90)), p, tick(b0 + beat), tick(b0 + beat + 0.9)))
            if rng.random() < 0.8:
                p = int(tones[int(rng.integers(0, 3))] + 24)
                mel.notes.append(miditoolkit.Note(int(rng.integers(60, 110)), p, tick(b0 + beat), tick(b0 + beat + 0.5 + 0.4 * rng.random())))
    midi.instruments = [mel, miditoolkit.Instrument(0, name="BRIDGE"), piano]
    midi.dump(str(d / f"{sid}.mid"))
    lines = []
    for i in range(4 * bars + 1):
        lines.append(f"{offset + i * sec_per_beat} {1.0 if i % 2 == 0 else 0.0} {1.0 if i % 4 == 0 else 0.0}")
    (d / "beat_midi.txt").write_text("\n".join(lines) + "\n")
    (d / "chord_midi.txt").write_text("\n".join(chord_lines) + "\n")
    (d / "key_audio.txt").write_text(f"0\t{offset + 4 * bars * sec_per_beat}\tC:maj\n")


def write_dataset(folder: str | Path, n_songs: int = 6, bars: int = 8) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["song_id,name,artist,modify_times,num_beats_per_measure,num_quavers_per_beat"]
    for i in range(1, n_songs + 1):
        sid = f"{i:03d}"
        write_song(folder, sid, i, bars)
        rows.append(f"{sid},song{i},synth,1,2,2")
    (folder / "index.csv").write_text("\n".join(rows) + "\n")
    return folder
