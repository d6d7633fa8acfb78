"""harmony_eval.py: chord symbols, per-beat charts, voicings, metrics, and the CLI with a fake binary."""
import json
import math
import re
import sys

import miditoolkit
import numpy as np
import pytest

from accompanist_train import data as D
from accompanist_train import harmony_eval as H
from accompanist_train.evaluate import chord_mask
from accompanist_train.synth import write_dataset
from accompanist_train.tokens import Note

# every quality form in POP909's chord_midi.txt files
POP909_FORMS = ["maj", "min", "sus2", "sus4", "min7", "maj/3", "maj/5", "maj7", "min/b3", "min/5", "sus4(b7)",
                "min7/b7", "maj7/7", "7", "maj6", "dim", "7/b7", "maj7/3", "maj7/5", "7/5", "hdim7", "aug",
                "min7/5", "7/3", "min6", "dim7", "minmaj7"]
POP909_ROOTS = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


@pytest.mark.parametrize("label, symbol", [
    ("C:maj", "C"), ("A:min7/b3", "Am7/C"), ("D:sus4(b7)", "D7sus4"), ("F#:hdim7", "F#m7b5"),
    ("E:maj/3", "E/G#"), ("C:maj6", "C6"), ("Bb:minmaj7", "Bbm(maj7)"), ("G:7/5", "G7/D"), ("C:sus2", "Csus2"),
    ("C:dim7", "Cdim7"), ("C:aug", "Caug"), ("C#:min", "Dbm"), ("G#:maj", "Ab"), ("A#:7", "Bb7"),
    ("Db:maj/5", "Db/Ab"), ("A:min/b3", "Am/C"), ("E:min/5", "Em/B"), ("F:maj7/7", "Fmaj7/E"),
    ("Eb:maj7/3", "Ebmaj7/G"), ("D:maj7/5", "Dmaj7/A"), ("C:7/b7", "C7/Bb"), ("G:7/3", "G7/B"),
    ("D:min7/b7", "Dm7/C"), ("B:min7/5", "Bm7/F#"), ("C:min6", "Cm6"), ("B:dim", "Bdim"), ("F:sus4", "Fsus4"),
    ("Ab:maj7", "Abmaj7"), ("A:min7", "Am7"), ("G:7", "G7"), ("C:maj(9)", "Cadd9"), ("C:9", "C9"),
    ("F#:maj/3", "F#/A#"), ("C#:maj/3", "Db/F"), ("Ab:min/b3", "Abm/Cb"), ("B:maj/3", "B/D#"),
    ("N", "N.C."), ("X", "N.C."),
])
def test_label_to_chord_symbol(label, symbol):
    assert H.chord_symbol(label) == symbol


def test_every_pop909_form_is_a_canonical_symbol_with_the_annotated_tones():
    canonical = re.compile(r"(%s)(%s)(/[A-G][b#]?)?" % ("|".join(H.NAMES), "|".join(re.escape(s) for s in H.INTERVALS)))
    for root in POP909_ROOTS:
        for form in POP909_FORMS:
            label = f"{root}:{form}"
            sym = H.chord_symbol(label)
            assert canonical.fullmatch(sym), (label, sym)
            pcs = {p % 12 for p in H.voicing(sym)}
            mask, bass = D.chord_tones(label)
            assert pcs == {k for k in range(12) if mask >> k & 1} | ({bass} if bass >= 0 else set()), label
            assert sum(1 << k for k in pcs) == chord_mask(label), label     # the metrics' mask too


def test_beat_chords_and_chart_text():
    labels = (["C:maj"] * 8                           # beat 0: C
              + ["C:maj"] * 5 + ["A:min"] * 3          # beat 1: C covers most
              + ["C:maj"] * 4 + ["A:min"] * 4          # beat 2: a tie, Am sounds at the middle
              + ["C:maj"] * 3 + ["A:min"] * 3 + ["F:maj"] * 2   # beat 3: tie C/Am, Am at step 4
              + ["N"] * 8                              # beat 4: N.C.
              + ["N"] * 2 + ["G:7/5"] * 6              # beat 5: G7/D
              + ["G:maj/3"] * 8                        # beat 6: G/B
              + ["G:maj/3"] * 3)                       # beat 7: partly annotated -> N.C.
    chords = H.beat_chords(labels, 8)
    assert chords == ["C", "C", "Am", "Am", "N.C.", "G7/D", "G/B", "N.C."]
    assert H.chart_text(chords) == "| C C Am Am | N.C. G7/D G/B N.C. |\n"
    assert H.chart_text(["C"] * 4 * 5, bars_per_line=4).count("\n") == 2


def test_voicings_root_position_slash_bass_and_split():
    assert H.voicing("C") == [48, 52, 55]
    assert H.voicing("B") == [59, 63, 66]
    assert H.voicing("Am7/C") == [48, 57, 60, 64, 67]
    assert H.voicing("E/G#") == [44, 52, 56, 59]
    assert H.voicing("Bbm(maj7)") == [58, 61, 65, 69]
    assert H.voicing("C", below=56) == [48, 52, 55]
    assert H.voicing("C", below=55) == [36, 40, 43]
    assert H.voicing("Am7/C", below=60) == [36, 45, 48, 52, 55]
    for sym in ["B7", "F#m7b5/E", "Ab6", "Dbm(maj7)"]:
        for split in range(40, 80):
            v = H.voicing(sym, below=split)
            assert split - 12 <= max(v) < split or v == H.voicing(sym)   # whole octaves, no further than needed
            assert [p % 12 for p in v] == [p % 12 for p in H.voicing(sym)]


def test_chord_notes_hold_repeated_chords():
    notes = H.chord_notes(["C", "C", "Am", "N.C.", "Am", "G/B"], velocity=70)
    assert sorted(notes) == sorted([Note(p, 0, 16, 70) for p in (48, 52, 55)] + [Note(p, 16, 24, 70) for p in (57, 60, 64)]
                                   + [Note(p, 32, 40, 70) for p in (57, 60, 64)] + [Note(p, 40, 48, 70) for p in (47, 55, 59, 62)])
    low = H.chord_notes(["C", "G/B"], below=50)
    assert all(n.pitch < 50 for n in low)


def test_in_chord_time_samples_every_50ms():
    chords = np.array([0b10010001] * 2 + [1 << 5 | 1 << 9 | 1] * 2 + [0] * 4)   # C C F F N N N N
    # 0.1 s a step, a sample every half step: E over steps 0-4 = samples at steps 0 0 1 1 2 2 3 3
    assert H.in_chord_time([Note(64, 0, 4, 70)], chords, 8, seconds_per_step=0.1) == (4, 8)
    # C over steps 2-6: 4 samples on F (C is a tone of F) and 4 under N (not judged)
    assert H.in_chord_time([Note(60, 2, 6, 70)], chords, 8, seconds_per_step=0.1) == (4, 4)
    # cut at n_steps = 3: samples at 0 0.5 ... 2.5 -> 6
    assert H.in_chord_time([Note(64, 0, 8, 70)], chords, 3, seconds_per_step=0.1) == (4, 6)
    # 62.5 ms a step (120 bpm): a one-step note gets samples at 0 and 50 ms, a 4-step note 5 (0..200 ms)
    assert H.in_chord_time([Note(60, 0, 1, 70)], chords, 8) == (2, 2)
    assert H.in_chord_time([Note(64, 0, 4, 70)], chords, 8) == (3, 5)   # samples at steps 0, 0.8, 1.6, 2.4, 3.2


def test_groove():
    def bar(b, cells):
        return [Note(60, 32 * b + 2 * c, 32 * b + 2 * c + 1, 70) for c in cells]
    notes = bar(0, [0, 4, 8, 12]) + bar(1, [0, 4, 8, 12]) + bar(2, [0, 8]) + bar(4, [0]) + [Note(64, 32 * 4 + 1, 140, 70)]
    s, pairs = H.groove(notes, 5 * 32)
    assert pairs == 2 and s == 1 + (1 - 2 / 16)          # bar 3 is empty: (2,3) and (3,4) do not count
    assert H.groove(notes, 4 * 32) == (s, 2)
    assert H.groove([], 64) == (0.0, 0)
    m = H.song_metrics(notes, np.full((200, 3), -1), np.zeros(200, np.int64), 5 * 32)
    assert m["groove"] == s / 2


def test_song_metrics_and_pooling():
    frames = np.zeros((40, 3), np.int64)
    frames[:, 0] = 64                                       # melody E
    chords = np.array([chord_mask("C:maj")] * 16 + [0] * 24)   # N from step 16
    notes = [Note(60, 0, 8, 70), Note(52, 0, 8, 70), Note(62, 8, 16, 70), Note(62, 16, 20, 70), Note(48, 40, 48, 70)]
    m = H.song_metrics(notes, frames, chords, 32)           # the last note is past n and not counted
    assert m["note_in_chord"] == 2 / 3                      # 62 at 16 is under N
    assert m["doubling"] == 1 / 4                           # 52 doubles the melody's E
    assert m["notes_per_beat"] == 4 / 4 and m["notes_per_onset"] == 4 / 3
    # samples: 8 steps = 0.5 s = 10 samples per note in C; 62 over steps 8-16 -> 10 out; under N none judged
    assert m["in_chord_time"] == 20 / 30
    assert m["groove"] != m["groove"]                       # one bar: no pair (nan)
    m2 = H.song_metrics([Note(60, 0, 8, 70)], frames, chords, 32)
    p = H.pooled([m, m2])
    assert p["note_in_chord"] == 3 / 4 != (m["note_in_chord"] + m2["note_in_chord"]) / 2
    assert p["notes_per_beat"] == 5 / 8 and p["doubling"] == 1 / 5 and p["renders"] == 2


FAKE = """
import json, sys
args = sys.argv[1:]
if "--chart" in args:
    print("Error: Unknown option '--chart'", file=sys.stderr)
    sys.exit(64)
ev = args[args.index("--events") + 1]
open(args[args.index("-o") + 1], "wb").close()
with open(ev, "w") as f:
    for beat in range(16):
        for p in (48, 52, 55, 61):
            f.write(json.dumps({"step": 8 * beat, "pitch": p, "velocity": 60}) + "\\n")
            f.write(json.dumps({"step": 8 * beat + 4, "pitch": p, "velocity": 0}) + "\\n")
"""


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("pop909"), n_songs=2, bars=4)


def test_inputs_of_every_mode(synth, tmp_path):
    song = H.prepare_song(synth, "001", 8)
    assert song.n_steps == 4 * 32 and song.shift == 0
    assert song.beat_chords == ["Am"] * 4 + ["F"] * 4 + ["G"] * 4 + ["C"] * 4   # synth: bar b has CHORDS[b + 1]
    files = H.write_inputs(song, tmp_path)
    assert files["melody"] == (tmp_path / "melody.mid", [])
    assert files["chart"][1] == ["--chart", str(tmp_path / "chart.txt")]
    assert "| Am Am Am Am | F F F F | G G G G | C C C C |" in (tmp_path / "chart.txt").read_text()
    ct = miditoolkit.MidiFile(str(files["chord-track"][0]))
    assert [i.name for i in ct.instruments] == ["MELODY", "Chords"] and files["chord-track"][1] == ["--chord-track", "Chords"]
    assert [(n.pitch, n.start, n.end) for n in ct.instruments[1].notes[:3]] == [(57, 0, 4 * 480), (60, 0, 1920), (64, 0, 1920)]
    sp = miditoolkit.MidiFile(str(files["split"][0]))
    assert len(sp.instruments) == 1 and files["split"][1] == ["--split", str(song.split)]
    mel = {(n.pitch, n.start) for n in ct.instruments[0].notes}
    left = [n for n in sp.instruments[0].notes if (n.pitch, n.start) not in mel]
    assert len(left) == len(ct.instruments[1].notes) and all(n.pitch < song.split for n in left)
    assert all(n.pitch >= song.split for n in ct.instruments[0].notes)


def test_cli_with_a_fake_binary(synth, tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text(FAKE)
    binary = tmp_path / "accompanist"
    binary.write_text(f"#!/bin/sh\nexec {sys.executable} {fake} \"$@\"\n")
    binary.chmod(0o755)
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"test": ["001", "002"], "valid": [], "train": []}))
    out = tmp_path / "out"
    rc = H.main(["--binary", str(binary), "--model", "m.safetensors", "--data", str(synth), "--split", str(split),
                 "--max-bars", "2", "--seeds", "0,1", "--out", str(out), "--rolls", "1", "--extra-args", "--temperature 0.5"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["songs"] == ["001", "002"] and s["summary"]["melody"]["renders"] == 4
    assert s["summary"]["chart"]["renders"] == 0
    assert len(s["failures"]) == 4 and "Unknown option '--chart'" in s["failures"][0]["error"]
    mel = s["summary"]["melody"]
    assert mel["notes_per_beat"] == 4 and mel["notes_per_onset"] == 4 and mel["groove"] == 1.0
    assert math.isclose(mel["note_in_chord"], mel["counts"]["in_chord"] / mel["counts"]["judged"])
    rep = (out / "report.md").read_text()
    for row in ("| melody | 4 | 0 |", "| chart | 0 | 4 |", "| chord-track | 4 | 0 |", "| split | 4 | 0 |", "| human PIANO |"):
        assert row in rep
    assert json.loads((out / "songs" / "002.json").read_text())["renders"]["chart"]["1"]["error"].startswith("exit 64")
    assert (out / "roll_001.png").is_file() and not (out / "roll_002.png").exists()


FAKE_MEMORY = FAKE.replace('if "--chart" in args:', 'if False:').replace("ev = args[", """import os
if "--memory" in args:
    d = args[args.index("--memory") + 1]
    os.makedirs(d, exist_ok=True)
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps({"out": args[args.index("-o") + 1], "takes": sorted(os.listdir(d))}) + "\\n")
    open(os.path.join(d, os.path.basename(args[args.index("-o") + 1]) + ".take"), "w").close()   # stores itself
ev = args[""", 1)


def test_every_seed_of_a_memory_mode_hears_the_same_memory(synth, tmp_path, monkeypatch):
    fake = tmp_path / "fake.py"
    fake.write_text(FAKE_MEMORY)
    binary = tmp_path / "accompanist"
    binary.write_text(f"#!/bin/sh\nexec {sys.executable} {fake} \"$@\"\n")
    binary.chmod(0o755)
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls.jsonl"))
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"test": ["001", "002"], "valid": [], "train": []}))
    rc = H.main(["--binary", str(binary), "--model", "m.safetensors", "--data", str(synth), "--split", str(split),
                 "--max-bars", "2", "--seeds", "0,1,2", "--modes", "memory-melody,memory-unknown", "--out", str(tmp_path / "out")])
    assert rc == 0
    calls = [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]
    take2 = [c for c in calls if "memory-melody.seed" in c["out"]]
    assert len(take2) == 6 and all(c["takes"] == ["memory-melody.take1.mid.take"] for c in take2), take2
    unknown = [c for c in calls if "memory-unknown.seed" in c["out"]]
    assert [c["takes"] for c in unknown if "/001/" in c["out"]] == [[]] * 3             # the first song: an empty pool
    assert [c["takes"] for c in unknown if "/002/" in c["out"]] == [["pool-take.mid.take"]] * 3   # song 001's chart take only
