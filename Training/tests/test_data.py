"""POP909 pipeline on a synthetic POP909-layout folder; clear errors for missing data."""
import numpy as np
import pytest

from accompanist_train import data as D
from accompanist_train import tokens as Tk
from accompanist_train.batches import batch_from, epoch_plan
from accompanist_train.synth import write_dataset


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("pop909"), n_songs=4, bars=8)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(D.DataError, match="not found"):
        D.check_root(tmp_path / "nope")
    with pytest.raises(D.DataError, match="no POP909 song folders"):
        D.check_root(tmp_path)


def test_seconds_to_steps_piecewise_linear():
    beats = np.array([0.5, 1.0, 2.0, 2.5])
    s = D.seconds_to_steps(np.array([0.5, 0.75, 1.5, 2.0, 2.25, 3.0, 0.0, 0.49]), beats)
    assert s.tolist() == [0, 4, 12, 16, 20, 32, -8, 0]


def test_chord_classes():
    assert D.chord_class("C:maj") == 0
    assert D.chord_class("A:min7/b3") == 9 * 5 + 1
    assert D.chord_class("Bb:sus4(b7)") == 10 * 5 + 2
    assert D.chord_class("F#:hdim7") == 6 * 5 + 3
    assert D.chord_class("N") == D.CHORD_N
    assert D.transpose_chords(np.array([0, 59, 60]), 1).tolist() == [5, 4, 60]


def test_load_song_places_notes_on_beats(synth):
    s = D.load_song(synth, "001")
    # piano chords on every beat: NOTE_ONs at multiples of 8 steps
    on_times = [t for tok, t in zip(s.ids, s.times) if tok < 128]
    assert on_times and all(t % 8 == 0 for t in on_times)
    assert s.frames.shape[1] == 3 and len(s.frames) >= 8 * 4 * 8 - 8
    assert s.meter[:33].tolist() == list(range(32)) + [0]
    assert s.chords[0] != D.CHORD_N
    assert Tk.decode(s.ids)   # decodes


def test_split_and_cache(synth, tmp_path):
    ids = D.song_ids(synth)
    assert ids == ["001", "002", "003", "004"]
    split = D.make_split(ids, valid=0.25, test=0.25)
    assert sorted(sum(split.values(), [])) == ids
    a = D.load_songs(synth, ids, tmp_path, progress=False)
    b = D.load_songs(synth, ids, tmp_path, progress=False)   # from the npz cache
    for x, y in zip(a, b):
        assert (x.ids == y.ids).all() and (x.frames == y.frames).all() and (x.chords == y.chords).all()


def test_batches_shapes_and_transposition(synth, tmp_path):
    songs = D.load_songs(synth, D.song_ids(synth), tmp_path, progress=False)
    plan = epoch_plan(songs, 64, seed=0, epoch=0)
    assert plan == epoch_plan(songs, 64, seed=0, epoch=0)
    b0 = batch_from(songs, plan[:4], 64, 96, 16)
    rng = np.random.default_rng(0)
    b1 = batch_from(songs, plan[:4], 64, 96, 16, transpose=[3, 3], rng=rng)
    assert b0.tokens.shape == (4, 64) and b0.frames.shape == (4, 96, 3)
    notes = b0.tokens < 256
    assert (b1.tokens[notes] == b0.tokens[notes] + 3).all()
    assert (b1.tokens[~notes] == b0.tokens[~notes]).all()
    m = b0.frames[..., 0] >= 0
    assert (b1.frames[..., 0][m] == b0.frames[..., 0][m] + 3).all()
    # a target token's prediction time never needs a column beyond the window
    assert ((b0.ptime <= 96) | (b0.mask == 0)).all()
