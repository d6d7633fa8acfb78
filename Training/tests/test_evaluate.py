"""evaluate.py on synthetic POP909-layout data with a tiny random model."""
import numpy as np

from accompanist_train import evaluate as E
from accompanist_train import tokens as Tk
from accompanist_train.export import save
from accompanist_train.fixtures import TINY, random_params
from accompanist_train.synth import write_dataset


def test_chord_masks_match_swift_table():
    assert E.chord_mask("C:maj") == (1 << 0) | (1 << 4) | (1 << 7)
    assert E.chord_mask("A:min7/b3") == sum(1 << ((9 + i) % 12) for i in (0, 3, 7, 10))
    assert E.chord_mask("F#:sus4(b7)") == sum(1 << ((6 + i) % 12) for i in (0, 5, 7, 10))
    assert E.chord_mask("N") == 0


def test_metrics_simple():
    frames = np.zeros((16, 3), np.int64)
    frames[:, 0] = 64                      # E above everything
    chords = np.full(16, E.chord_mask("C:maj"))
    notes = [Tk.Note(60, 0, 8, 70), Tk.Note(62, 8, 16, 70), Tk.Note(52, 8, 16, 70)]
    m = E.metrics(notes, frames, chords, 16)
    assert m["note_in_chord"] == 2 / 3
    assert m["doubling"] == 1 / 3
    assert m["notes_per_beat"] == 1.5 and m["notes_per_onset"] == 1.5
    assert m["pcs"] == (1 + -1 + 1) / 3


def test_generation_is_causal_and_grammatical():
    flat = random_params(TINY, 1, scale=0.1)
    rng = np.random.default_rng(0)
    frames = np.zeros((64, 3), np.int64)
    frames[:, 0] = -1
    for s in range(0, 64, 6):
        frames[s:s + 4, 0] = rng.integers(60, 80)
        frames[s, 1] = 1
        frames[s:s + 4, 2] = 20
    meter = Tk.metrical_positions(np.arange(200))
    toks, notes = E.generate(flat, TINY, frames, meter, 64, seed=3)
    g = Tk.Grammar(21, 108, 10)
    g.feed(toks[0])
    for t in toks[1:]:
        assert g.mask()[t]
        g.feed(t)
    # changing the melody after step 32 leaves every token before time 32 unchanged (same seed)
    f2 = frames.copy()
    f2[32:, 0] = 90
    toks2, _ = E.generate(flat, TINY, f2, meter, 64, seed=3)
    t1, t2 = Tk.token_times(toks), Tk.token_times(toks2)
    k1 = [x for x, t in zip(toks, t1) if t < 32]
    k2 = [x for x, t in zip(toks2, t2) if t < 32]
    assert k1 == k2


def test_evaluate_cli_writes_report(tmp_path):
    data = write_dataset(tmp_path / "pop", n_songs=2, bars=4)
    save(random_params(TINY, 0, scale=0.1), TINY, tmp_path / "m.safetensors")
    rc = E.main(["--data", str(data), "--model", str(tmp_path / "m.safetensors"), "--out", str(tmp_path / "ev"),
                 "--max-bars", "4", "--rolls", "1", "--split", str(tmp_path / "none.json")])
    assert rc == 0
    rep = (tmp_path / "ev" / "report.md").read_text()
    assert "| model |" in rep and "| rules |" in rep and "NLL" in rep
    assert (tmp_path / "ev" / "roll_001.png").is_file()
    assert E.main(["--data", str(tmp_path / "missing")]) == 2


def test_chord_guidance_bias_prefers_chord_tones():
    logits = np.full(61, -20.0)
    logits[0] = 10.0                          # C major, certain
    b = E.chord_guidance_bias(logits, 2.0)
    assert b.shape == (128,)
    assert b[60] == 0.0 and b[64] == 0.0 and b[67] == 0.0    # C E G: no penalty
    assert b[61] < -10 and b[62] < -10                      # C#, D: strong penalty
    assert E.CHORD_PC[60].sum() == 0 and E.CHORD_PC[5 * 9 + 1].tolist() == [1 if k in (9, 0, 4) else 0 for k in range(12)]
