"""DESIGN §4 causality: full-sequence (training) logits equal the step-by-step streaming
reference, and melody frames at steps >= s do not affect tokens sounding at <= s."""
import numpy as np

from accompanist_train import tokens as Tk
from accompanist_train.reference import StreamingModel, stream_logits

from helpers import TINY, full_logits, random_params, random_song


def _inputs(seed):
    mel, acc, frames, ids, times = random_song(seed)
    pt = Tk.prediction_times(ids, times)
    meter = Tk.metrical_positions(np.arange(len(frames) + 64))
    return frames, meter, ids, pt, meter[pt]


def test_full_sequence_equals_streaming():
    for seed in range(3):
        frames, meter, ids, pt, tm = _inputs(seed)
        flat = random_params(TINY, seed)
        full, _ = full_logits(flat, TINY, frames, meter[:len(frames)], ids, pt, tm)
        st = stream_logits(flat, TINY, frames, meter, ids, pt, tm)
        assert full.shape == st.shape
        assert np.isfinite(full).all()
        err = np.abs(full - st).max()
        assert err < 1e-4 * max(1.0, np.abs(st).max()), err


def test_future_melody_does_not_leak():
    frames, meter, ids, pt, tm = _inputs(7)
    flat = random_params(TINY, 3)
    base, chord = full_logits(flat, TINY, frames, meter[:len(frames)], ids, pt, tm)
    rng = np.random.default_rng(0)
    L = len(frames)
    for s in [0, 1, 5, 17, L // 2, L - 3]:
        f2 = frames.copy()
        f2[s:, 0] = rng.integers(-1, 128, L - s)
        f2[s:, 1] = rng.integers(0, 2, L - s)
        f2[s:, 2] = rng.integers(0, 32, L - s)
        out, chord2 = full_logits(flat, TINY, f2, meter[:L], ids, pt, tm)
        same = pt <= s
        assert np.abs(out[same] - base[same]).max(initial=0) < 1e-5
        # chord column j (sees frames <= j) is unchanged for j < s
        assert np.abs(chord2[:s] - chord[:s]).max(initial=0) < 1e-5
        # positive control: some token sounding after s does change
        if (pt > s + 1).any():
            assert np.abs(out[pt > s + 1] - base[pt > s + 1]).max() > 1e-6


def test_streaming_per_step_encoder_matches_fft_encoder():
    frames, meter, ids, pt, tm = _inputs(11)
    flat = random_params(TINY, 5)
    _, chord = full_logits(flat, TINY, frames, meter[:len(frames)], ids, pt, tm)
    m = StreamingModel(flat, TINY)
    for s in range(len(frames)):
        enc = m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        np.testing.assert_allclose(m.chord_logits(enc), chord[s], atol=1e-4, rtol=1e-4)


def test_long_sequence_windows_bound_the_state():
    """A song longer than every window: caches stay bounded and logits still match."""
    mel, acc, frames, ids, times = random_song(3, n_mel=60, n_acc=90, max_start=300)
    pt = Tk.prediction_times(ids, times)
    meter = Tk.metrical_positions(np.arange(len(frames) + 64))
    flat = random_params(TINY, 9)
    full, _ = full_logits(flat, TINY, frames, meter[:len(frames)], ids, pt, meter[pt])
    m = StreamingModel(flat, TINY)
    out = []
    for tok, p, mt in zip(ids, pt, meter[pt]):
        while m.n_steps < p:
            s = m.n_steps
            m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
        out.append(m.step(int(tok), int(p), int(mt)))
        assert len(m.enc_ring) <= TINY.cross_window + 1
        assert all(len(c) <= TINY.self_window for c in m.self_kv)
    np.testing.assert_allclose(np.stack(out), full, atol=1e-4 * max(1, np.abs(full).max()))


def test_cut_shift_by_cache_truncation():
    """Feeding TIME_SHIFT n, dropping it and feeding TIME_SHIFT k < n gives the same logits as
    feeding TIME_SHIFT k directly, also with a full self-attention window."""
    frames, meter, ids, pt, tm = _inputs(5)
    flat = random_params(TINY, 2)
    n_prefix = 20   # > self_window: the cache is full
    a = StreamingModel(flat, TINY)
    b = StreamingModel(flat, TINY)
    for m in (a, b):
        for tok, p, mt in zip(ids[:n_prefix], pt[:n_prefix], tm[:n_prefix]):
            while m.n_steps < p:
                s = m.n_steps
                m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
            m.step(int(tok), int(p), int(mt))
    t = int(pt[n_prefix - 1])          # time of the next token
    for m in (a, b):
        while m.n_steps < t + 6:
            s = m.n_steps
            m.push_frame(int(frames[s, 0]), int(frames[s, 1]), int(frames[s, 2]), int(meter[s]))
    a.step(Tk.TIME_SHIFT + 6, t + 6, int(meter[t + 6]))
    a.drop_last_token()
    la = a.step(Tk.TIME_SHIFT + 2, t + 2, int(meter[t + 2]))
    lb = b.step(Tk.TIME_SHIFT + 2, t + 2, int(meter[t + 2]))
    np.testing.assert_allclose(la, lb, atol=1e-9)
    # and the following token too
    np.testing.assert_allclose(a.step(60, t + 2, int(meter[t + 2])), b.step(60, t + 2, int(meter[t + 2])), atol=1e-9)


# ---- chord input (docs/model.md, "Chord input") ---------------------------------------------

def _chord_logits(flat, cfg, frames, meter, ids, pt, tm, chord_in, given):
    import jax.numpy as jnp
    from accompanist_train.model import Accompanist, unflatten_params
    out, _ = Accompanist(cfg).apply({"params": unflatten_params(flat)}, jnp.asarray(frames[None]), jnp.asarray(meter[None]),
                                    jnp.asarray(ids[None]), jnp.asarray(pt[None]), jnp.asarray(tm[None]),
                                    jnp.asarray(chord_in[None]), jnp.asarray([given], jnp.float32))
    return np.asarray(out[0])


def _random_chords(n, seed):
    from accompanist_train.batches import chord_features
    rng = np.random.default_rng(seed)
    return chord_features(rng.integers(0, 4096, n), rng.integers(-1, 12, n))


def test_chord_input_full_sequence_equals_streaming():
    from accompanist_train.fixtures import TINY_CHORD
    frames, meter, ids, pt, tm = _inputs(2)
    flat = random_params(TINY_CHORD, 4)
    cin = _random_chords(len(ids), 1)
    for given in (1.0, 0.0):
        full = _chord_logits(flat, TINY_CHORD, frames, meter[:len(frames)], ids, pt, tm, cin, given)
        st = stream_logits(flat, TINY_CHORD, frames, meter, ids, pt, tm, chord_in=cin if given else None)
        err = np.abs(full - st).max()
        assert err < 1e-4 * max(1.0, np.abs(st).max()), (given, err)
    # the given chords matter (the comparison above is not of two things that ignore them)
    other = _chord_logits(flat, TINY_CHORD, frames, meter[:len(frames)], ids, pt, tm, _random_chords(len(ids), 2), 1.0)
    g1 = _chord_logits(flat, TINY_CHORD, frames, meter[:len(frames)], ids, pt, tm, cin, 1.0)
    assert np.abs(other - g1).max() > 1e-3


def test_future_chord_hints_do_not_leak():
    """A chord given for prediction times > s changes nothing at prediction times <= s."""
    from accompanist_train.fixtures import TINY_CHORD
    frames, meter, ids, pt, tm = _inputs(5)
    flat = random_params(TINY_CHORD, 6)
    cin = _random_chords(len(ids), 3)
    base = _chord_logits(flat, TINY_CHORD, frames, meter[:len(frames)], ids, pt, tm, cin, 1.0)
    for s in [0, 3, 20, int(pt.max()) // 2]:
        c2 = cin.copy()
        later = pt > s
        c2[later] = _random_chords(int(later.sum()), s + 10)
        out = _chord_logits(flat, TINY_CHORD, frames, meter[:len(frames)], ids, pt, tm, c2, 1.0)
        assert np.abs(out[~later] - base[~later]).max(initial=0) < 1e-5
        if later.any():
            assert np.abs(out[later] - base[later]).max() > 1e-6
