"""The hindsight chord estimator (accompanist_train/hindsight.py, docs/hindsight.md)."""
import json
from pathlib import Path

import numpy as np
import pytest

from accompanist_train import hindsight as H
from accompanist_train import tokens as Tk

REPO = Path(__file__).resolve().parents[2]


def melody(notes, n_steps):
    return Tk.melody_frames([Tk.make_note(p, a, b, 80) for p, a, b in notes], n_steps).astype(np.int64)


def test_beat_features_by_hand():
    # Beat 0: C4 for 4 steps then E4 for 4 (E struck on step 4); beat 1: rest; beat 2: G4 from step 16.
    f = H.beat_features(melody([(60, 0, 4), (64, 4, 8), (67, 16, 24)], 24), np.arange(32) % 32)
    assert f.shape == (3, H.N_FEATURES)
    assert f[0, 0] == 0.5 and f[0, 4] == 0.5 and f[0, 12] == 1 and f[0, 16] == 1 and f[0, 24] == 1
    assert f[0, 48] == 0 and f[1, 48] == 1 and f[1, :36].sum() == 0
    assert f[2, 7] == 1 and f[2, 24 + 7] == 1
    np.testing.assert_allclose(f[:, 36:48].sum(1), 1.0)           # the key cue, the same on every beat
    assert f[1, 36 + 7] == pytest.approx(0.5)                               # G: 1 beat of the 2 that sound
    assert [int(np.argmax(r[49:53])) for r in f] == [0, 1, 2]


def test_labels_and_transposition():
    chords = np.array([0] * 6 + [35] * 2 + [35] * 8 + [60] * 8, np.int64)      # C for most of beat 0, then G, then N
    pcs = np.array([0b10010001] * 6 + [0b100010000100] * 10 + [0] * 8, np.int64)
    cls, masks = H.beat_labels(chords, pcs, 3)
    assert cls.tolist() == [0, 35, 60] and masks.tolist() == [0b10010001, 0b100010000100, 0]
    f = H.beat_features(melody([(60, 0, 8), (67, 8, 16)], 24), np.arange(32))
    g, c2, p2 = H.transpose(f, cls, masks, 2)
    assert c2.tolist() == [10, 45, 60]                                         # D, A, N
    assert p2[0] == (1 << 2) | (1 << 6) | (1 << 9)
    assert g[0, 2] == f[0, 0] and g[1, 9] == f[1, 7] and (g[:, 48:] == f[:, 48:]).all()


def test_decode_penalty_smooths_and_beat_one_is_free():
    lg = np.zeros((4, H.N_CLASSES))
    lg[[0, 1, 3], 0] = 5
    lg[2, 35] = 1
    assert H.decode(lg, np.array([0, 1, 2, 3]), (0, 2, 2, 2)).tolist() == [0, 0, 0, 0]
    assert H.decode(lg, np.array([0, 1, 2, 3]), (0, 0, 0, 0)).tolist() == [0, 0, 35, 0]
    assert H.class_symbol(9 * 5 + 1) == "Am" and H.class_symbol(60) == "N.C." and H.class_tones(0) == 0b10010001


def test_numpy_reference_equals_the_training_forward():
    jnp = pytest.importorskip("jax.numpy")
    w = H.init_weights(1, d=16, dilations=(1, 2), n_att=1)
    rng = np.random.default_rng(0)
    f = rng.random((2, 12, H.N_FEATURES)).astype(np.float32)
    valid = np.ones((2, 12), bool)
    valid[1, 9:] = False                                                      # a shorter song, padded
    import accompanist_train.hindsight as mod
    saved = (mod.D_MODEL, mod.DILATIONS, mod.N_ATTENTION)
    mod.D_MODEL, mod.DILATIONS, mod.N_ATTENTION = 16, (1, 2), 1
    try:
        cl, tl = H.forward_jax({k: jnp.asarray(v) for k, v in w.items()}, jnp.asarray(f), jnp.asarray(valid))
    finally:
        mod.D_MODEL, mod.DILATIONS, mod.N_ATTENTION = saved
    for b, n in ((0, 12), (1, 9)):
        rc, rt = H.forward_numpy(w, f[b, :n])
        np.testing.assert_allclose(np.asarray(cl)[b, :n], rc, atol=2e-4)
        np.testing.assert_allclose(np.asarray(tl)[b, :n], rt, atol=2e-4)


def test_dropout_is_for_training_only_and_follows_its_key():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    import accompanist_train.hindsight as mod
    w = {k: jnp.asarray(v) for k, v in H.init_weights(1).items()}
    f = jnp.asarray(np.random.default_rng(1).random((1, 16, H.N_FEATURES)).astype(np.float32))
    valid = jnp.ones((1, 16), bool)
    plain, _ = mod.forward_jax(w, f, valid)
    same, _ = mod.forward_jax(w, f, valid, 0.0, jax.random.PRNGKey(0))       # rate 0: nothing dropped
    np.testing.assert_allclose(np.asarray(same), np.asarray(plain), atol=1e-6)
    a, _ = mod.forward_jax(w, f, valid, 0.3, jax.random.PRNGKey(0))
    b, _ = mod.forward_jax(w, f, valid, 0.3, jax.random.PRNGKey(0))
    c, _ = mod.forward_jax(w, f, valid, 0.3, jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert np.abs(np.asarray(a) - np.asarray(plain)).max() > 1e-3 and np.abs(np.asarray(a) - np.asarray(c)).max() > 1e-3


def test_transpositions_average_and_make_the_estimate_transpose_with_the_melody():
    w = H.init_weights(2, d=16, dilations=(1, 2), n_att=1)
    rng = np.random.default_rng(3)
    for k in w:                                            # an untrained model is far from transposition-invariant
        w[k] = w[k] + (0.3 * rng.standard_normal(w[k].shape) if not k.endswith(".g") else 0)
    f = H.beat_features(melody([(60, 0, 8), (64, 8, 12), (67, 12, 24), (72, 24, 40)], 40), np.arange(48) % 32)
    one = H.class_log_probs(w, f, 1)
    cl, _ = H.forward_numpy(w, f)
    np.testing.assert_allclose(np.exp(one), np.exp(cl) / np.exp(cl).sum(-1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(np.exp(H.class_log_probs(w, f, 4)).sum(-1), 1.0, atol=1e-9)
    up, _, _ = H.transpose(f, np.zeros(len(f), np.int64), np.zeros(len(f), np.int64), 3)
    q, q_up = np.exp(H.class_log_probs(w, f, 12)), np.exp(H.class_log_probs(w, up, 12))
    roots = np.arange(60)
    np.testing.assert_allclose(q_up[:, ((roots // 5 + 3) % 12) * 5 + roots % 5], q[:, :60], atol=1e-9)   # all 12: exactly equivariant
    assert np.abs(np.exp(H.class_log_probs(w, up, 1))[:, ((roots // 5 + 3) % 12) * 5 + roots % 5] - np.exp(one)[:, :60]).max() > 1e-3
    with pytest.raises(ValueError):
        H.class_log_probs(w, f, 5)


def test_an_ensemble_averages_its_members_posteriors(tmp_path):
    rng = np.random.default_rng(4)
    ws = []
    for seed in (2, 3):
        w = H.init_weights(seed, d=16, dilations=(1, 2), n_att=1)
        ws.append({k: (v + (0.3 * rng.standard_normal(v.shape) if not k.endswith(".g") else 0)).astype(np.float32) for k, v in w.items()})
    both = H.join_members(ws)
    parts = H.split_members(both)
    assert len(parts) == 2 and all(p.keys() == w.keys() for p, w in zip(parts, ws))
    assert len(H.split_members(ws[0])) == 1
    f = H.beat_features(melody([(60, 0, 8), (64, 8, 12), (67, 12, 24), (72, 24, 40)], 40), np.arange(48) % 32)
    want = (np.exp(H.class_log_probs(ws[0], f, 4)) + np.exp(H.class_log_probs(ws[1], f, 4))) / 2
    np.testing.assert_allclose(np.exp(H.class_log_probs(both, f, 4)), want, atol=1e-12)
    np.testing.assert_allclose(H.forward_numpy(both, f)[0], H.forward_numpy(ws[0], f)[0])   # the first member's
    for i, w in enumerate(ws):
        H.save_weights(w, tmp_path / f"{i}.safetensors", {})
    assert H.main(["ensemble", "--weights", str(tmp_path / "0.safetensors"), str(tmp_path / "1.safetensors"),
                   "--out", str(tmp_path / "e.safetensors")]) == 0
    from safetensors import safe_open
    with safe_open(str(tmp_path / "e.safetensors"), "np") as fh:
        assert fh.metadata()["members"] == "2"
    np.testing.assert_allclose(np.exp(H.class_log_probs(H.load_weights(tmp_path / "e.safetensors"), f, 4)), want, atol=1e-6)


def test_the_swift_fixture_is_current(tmp_path):
    H.write_fixture(tmp_path)
    want = json.loads((REPO / "Tests/Fixtures/hindsight/tiny_case.json").read_text())
    got = json.loads((tmp_path / "tiny_case.json").read_text())
    assert got["decoded"] == want["decoded"] and got["symbols"] == want["symbols"]
    np.testing.assert_allclose(got["class_logits"], want["class_logits"], atol=1e-9)
    assert got["t4_decoded"] == want["t4_decoded"] and got["t4_symbols"] == want["t4_symbols"]
    np.testing.assert_allclose(got["t4_log_probs"], want["t4_log_probs"], atol=1e-9)
    assert got["m2_decoded"] == want["m2_decoded"]
    np.testing.assert_allclose(got["m2_log_probs"], want["m2_log_probs"], atol=1e-9)
    assert H.load_weights(tmp_path / "tiny.safetensors").keys() == H.load_weights(REPO / "Tests/Fixtures/hindsight/tiny.safetensors").keys()
