"""MIDI reading (miditoolkit): named tracks as notes in ticks, and as grid notes."""
from __future__ import annotations

from pathlib import Path

import miditoolkit

from .tokens import Note, make_note, normalize, tick_to_step


def read_midi(path: str | Path) -> miditoolkit.MidiFile:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MIDI file not found: {path}")
    return miditoolkit.MidiFile(str(path))


def track_notes(midi: miditoolkit.MidiFile, name: str) -> list[miditoolkit.Note]:
    """All notes of the instruments (tracks) named `name` (exact match, then case-insensitive)."""
    insts = [i for i in midi.instruments if i.name == name]
    if not insts:
        insts = [i for i in midi.instruments if i.name.strip().lower() == name.lower()]
    return [n for i in insts for n in i.notes]


def grid_notes_from_ticks(notes, ppq: int) -> list[Note]:
    """Ticks -> steps (docs/tokens.md Grid), then normalised."""
    return normalize(make_note(n.pitch, tick_to_step(n.start, ppq), tick_to_step(n.end, ppq), n.velocity)
                     for n in notes)
