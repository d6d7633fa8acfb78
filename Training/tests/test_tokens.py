"""Tokenizer properties on random notes (docs/tokens.md)."""
import numpy as np

from accompanist_train import tokens as Tk

from helpers import random_notes, random_song


def test_tick_to_step_rounds_half_up():
    assert Tk.tick_to_step(0, 480) == 0
    assert Tk.tick_to_step(29, 480) == 0       # 0.483 step
    assert Tk.tick_to_step(30, 480) == 1       # exactly half a step: up
    assert Tk.tick_to_step(480, 480) == 8
    assert Tk.tick_to_step(50, 100) == 4


def test_normalize_merges_and_cuts():
    notes = [Tk.Note(60, 0, 4, 50), Tk.Note(60, 0, 8, 70), Tk.Note(60, 6, 10, 20), Tk.Note(62, -1, 3, 9)]
    assert Tk.normalize(notes) == [Tk.Note(60, 0, 6, 70), Tk.Note(60, 6, 10, 20)]
    assert Tk.make_note(60, 5, 5, 1) == Tk.Note(60, 5, 6, 1)


def test_round_trip_random():
    for seed in range(50):
        mel, acc, frames, ids, times = random_song(seed, max_start=200)
        back = Tk.decode(ids)
        assert back == [Tk.Note(n.pitch, n.start, n.end, 4 * (n.velocity >> 2) + 2) for n in acc]
        assert ids[0] == Tk.BOS and times[0] == 0
        assert (np.diff(times) >= 0).all()
        assert Tk.token_times(ids).tolist() == times.tolist()


def test_time_shifts_are_cut_at_beats_and_visible_onsets():
    for seed in range(30):
        mel, acc, frames, ids, times = random_song(seed, max_start=200)
        cuts = Tk.onset_cut_points(frames)
        for tok, t in zip(ids, times):
            n = Tk.shift_of(tok)
            if n:
                assert 1 <= n <= 8 - t % 8
                assert not any(t < c < t + n for c in cuts)
        # the clock reaches end_step
        assert times[-1] + Tk.shift_of(ids[-1]) == len(frames) or Tk.shift_of(ids[-1]) == 0


def test_grammar_accepts_encoded_sequences():
    for seed in range(30):
        mel, acc, frames, ids, times = random_song(seed, max_start=200)
        g = Tk.Grammar(lo=0, hi=127, polyphony=128)
        g.feed(ids[0])
        for tok in ids[1:]:
            assert g.mask()[tok], (seed, tok)
            g.feed(tok)


def test_melody_frames_highest_pitch_and_onsets():
    mel = Tk.normalize([Tk.Note(60, 0, 8, 40), Tk.Note(64, 2, 4, 80), Tk.Note(55, 9, 10, 12)])
    f = Tk.melody_frames(mel, 10)
    assert f[:, 0].tolist() == [60, 60, 64, 64, 60, 60, 60, 60, -1, 55]
    assert f[:, 1].tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert f[:, 2].tolist() == [10, 10, 20, 20, 10, 10, 10, 10, 0, 3]


def test_prediction_times_and_metre():
    ids = np.array([Tk.BOS, Tk.TIME_SHIFT + 3, Tk.VELOCITY + 5, 60, Tk.TIME_SHIFT + 5, 188])
    t = Tk.token_times(ids)
    assert t.tolist() == [0, 0, 3, 3, 3, 8]
    assert Tk.prediction_times(ids, t).tolist() == [0, 3, 3, 3, 8, 8]
    assert Tk.metrical_positions(np.array([0, 31, 32, 40]), 4).tolist() == [0, 31, 0, 8]
    assert Tk.metrical_positions(np.array([0, 24]), 3).tolist() == [0, 0]
