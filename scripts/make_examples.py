#!/usr/bin/env python3
"""Writes the example melodies in Examples/ (public-domain tunes entered as notes).

Standard library only, so it runs before any set-up. Each file is format 1: a conductor track
(tempo, time signature) and one track named "Melody". Run: python3 scripts/make_examples.py
"""
import os
import struct
import sys

PPQ = 480
REST = None

# (pitch or REST, length in beats). Middle C = 60.
TUNES = {
    # Ludwig van Beethoven, "Ode to Joy" (Symphony No. 9), the theme, in D major.
    "ode_to_joy": dict(bpm=108, metre=(4, 4), notes=[
        (66, 1), (66, 1), (67, 1), (69, 1), (69, 1), (67, 1), (66, 1), (64, 1),
        (62, 1), (62, 1), (64, 1), (66, 1), (66, 1.5), (64, 0.5), (64, 2),
        (66, 1), (66, 1), (67, 1), (69, 1), (69, 1), (67, 1), (66, 1), (64, 1),
        (62, 1), (62, 1), (64, 1), (66, 1), (64, 1.5), (62, 0.5), (62, 2),
        (64, 1), (64, 1), (66, 1), (62, 1), (64, 1), (66, 0.5), (67, 0.5), (66, 1), (62, 1),
        (64, 1), (66, 0.5), (67, 0.5), (66, 1), (64, 1), (62, 1), (64, 1), (57, 2),
        (66, 1), (66, 1), (67, 1), (69, 1), (69, 1), (67, 1), (66, 1), (64, 1),
        (62, 1), (62, 1), (64, 1), (66, 1), (64, 1.5), (62, 0.5), (62, 2)]),
    # "Twinkle, Twinkle, Little Star" (French folk tune), in C major.
    "twinkle": dict(bpm=100, metre=(4, 4), notes=[
        (60, 1), (60, 1), (67, 1), (67, 1), (69, 1), (69, 1), (67, 2),
        (65, 1), (65, 1), (64, 1), (64, 1), (62, 1), (62, 1), (60, 2),
        (67, 1), (67, 1), (65, 1), (65, 1), (64, 1), (64, 1), (62, 2),
        (67, 1), (67, 1), (65, 1), (65, 1), (64, 1), (64, 1), (62, 2),
        (60, 1), (60, 1), (67, 1), (67, 1), (69, 1), (69, 1), (67, 2),
        (65, 1), (65, 1), (64, 1), (64, 1), (62, 1), (62, 1), (60, 2)]),
    # "Frère Jacques" (French round), in F major.
    "frere_jacques": dict(bpm=112, metre=(4, 4), notes=[
        (65, 1), (67, 1), (69, 1), (65, 1), (65, 1), (67, 1), (69, 1), (65, 1),
        (69, 1), (70, 1), (72, 2), (69, 1), (70, 1), (72, 2),
        (72, 0.5), (74, 0.5), (72, 0.5), (70, 0.5), (69, 1), (65, 1),
        (72, 0.5), (74, 0.5), (72, 0.5), (70, 0.5), (69, 1), (65, 1),
        (65, 1), (60, 1), (65, 2), (65, 1), (60, 1), (65, 2)]),
    # "Amazing Grace" (tune "New Britain", 1829), in G major, 3/4, with a pickup rest.
    "amazing_grace": dict(bpm=84, metre=(3, 4), notes=[
        (REST, 2), (62, 1),
        (67, 2), (71, 0.5), (67, 0.5), (71, 2), (69, 1), (67, 2), (64, 1), (62, 2), (62, 1),
        (67, 2), (71, 0.5), (67, 0.5), (71, 2), (69, 1), (74, 3), (REST, 2), (71, 1),
        (74, 1.5), (71, 0.5), (74, 0.5), (71, 0.5), (67, 2), (62, 1), (64, 1.5), (67, 0.5), (67, 0.5), (64, 0.5),
        (62, 2), (62, 1), (67, 2), (71, 0.5), (67, 0.5), (71, 2), (69, 1), (67, 3)]),
}


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.insert(0, (n & 0x7F) | 0x80)
        n >>= 7
    return bytes(out)


def chunk(kind, body):
    return kind + struct.pack(">I", len(body)) + body


def track(events):
    """events: (tick, bytes) sorted by tick; End of Track appended."""
    body, last = b"", 0
    for tick, data in events:
        body += vlq(tick - last) + data
        last = tick
    return chunk(b"MTrk", body + b"\x00\xff\x2f\x00")


def write(path, bpm, metre, notes):
    us = round(60_000_000 / bpm)
    num, den = metre
    conductor = [(0, b"\xff\x03" + vlq(9) + b"Conductor"),
                 (0, b"\xff\x51\x03" + us.to_bytes(3, "big")),
                 (0, b"\xff\x58\x04" + bytes([num, den.bit_length() - 1, 24, 8]))]
    melody = [(0, b"\xff\x03" + vlq(6) + b"Melody"), (0, b"\xc0\x49")]  # flute
    tick = 0
    for pitch, beats in notes:
        length = round(beats * PPQ)
        if pitch is not None:
            melody.append((tick, bytes([0x90, pitch, 88])))
            melody.append((tick + length - PPQ // 32, bytes([0x80, pitch, 64])))  # slightly detached
        tick += length
    melody.sort(key=lambda e: (e[0], e[1][0] != 0x80))  # at one tick, note-offs first
    data = chunk(b"MThd", struct.pack(">HHH", 1, 2, PPQ)) + track(conductor) + track(melody)
    with open(path, "wb") as f:
        f.write(data)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Examples")
    os.makedirs(out, exist_ok=True)
    for name, tune in TUNES.items():
        write(os.path.join(out, name + ".mid"), tune["bpm"], tune["metre"], tune["notes"])
        print(f"Examples/{name}.mid", file=sys.stderr)


if __name__ == "__main__":
    main()
