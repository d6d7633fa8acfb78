"""The committed tokenizer vectors (written by the Swift tests): MIDI in, frames and tokens out."""
import json
from pathlib import Path

import numpy as np
import pytest

from accompanist_train import tokens as Tk
from accompanist_train.midi import grid_notes_from_ticks, read_midi, track_notes

FIXTURES = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "tokens"
CASES = sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []


@pytest.mark.skipif(not CASES, reason=f"no token fixtures in {FIXTURES} yet")
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_token_fixture(case):
    spec = json.loads(case.read_text())
    midi = read_midi(case.parent / spec["midi"])
    ppq = spec["ppq"]
    assert midi.ticks_per_beat == ppq
    mel = grid_notes_from_ticks(track_notes(midi, spec["melody_track"]), ppq)
    acc = grid_notes_from_ticks(track_notes(midi, spec["accompaniment_track"]), ppq)
    end = Tk.end_step(mel, acc)
    assert end == spec["end_step"]
    frames = Tk.melody_frames(mel, end)
    np.testing.assert_array_equal(frames, np.asarray(spec["frames"], dtype=np.int32).reshape(-1, 3))
    ids, times = Tk.encode(acc, frames, end)
    want = np.asarray(spec["tokens"], dtype=np.int64).reshape(-1, 2)
    assert ids.tolist() == want[:, 0].tolist()
    assert times.tolist() == want[:, 1].tolist()
    assert Tk.token_times(ids).tolist() == times.tolist()
    # decode gives back the normalised accompaniment with binned velocities
    back = Tk.decode(ids)
    assert back == [Tk.Note(n.pitch, n.start, n.end, 4 * (n.velocity >> 2) + 2) for n in acc]
