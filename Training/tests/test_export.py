"""Export to safetensors, and the committed Swift parity fixtures against the training model."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from accompanist_train import export
from accompanist_train.fixtures import TINY, make_case, random_params

from helpers import full_logits

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "model"


def test_save_load_round_trip(tmp_path):
    flat = random_params(TINY, 4)
    export.save(flat, TINY, tmp_path / "m.safetensors", {"step": 3})
    back, cfg, meta = export.load(tmp_path / "m.safetensors")
    assert cfg == TINY
    assert json.loads(meta["training"]) == {"step": 3}
    assert set(back) == set(flat)
    for k in flat:
        np.testing.assert_array_equal(back[k], flat[k])


def test_export_cli_from_checkpoint(tmp_path):
    from flax import serialization  # noqa: F401
    from accompanist_train.config import TrainConfig
    from accompanist_train.model import unflatten_params
    from accompanist_train.train import save_checkpoint
    flat = random_params(TINY, 2)
    params = unflatten_params(flat)
    cfg = TrainConfig(model=TINY)
    from flax import serialization as ser
    state = {"params": ser.to_state_dict(params), "opt_state": {}, "step": 7, "epoch": 1, "pos": 0, "best": 2.5,
             "config": json.dumps(cfg.to_dict())}
    ck = tmp_path / "ck.msgpack"
    save_checkpoint(ck, state)
    out = tmp_path / "Models" / "a.safetensors"
    r = subprocess.run([sys.executable, "-m", "accompanist_train.export", "--checkpoint", str(ck), "--out", str(out),
                        "--card", str(tmp_path / "card.md")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    card = (tmp_path / "card.md").read_text()
    assert "POP909" in card and "parameters:" in card
    back, cfg2, meta = export.load(out)
    assert cfg2 == TINY and json.loads(meta["training"])["step"] == 7
    for k in flat:
        np.testing.assert_allclose(back[k], flat[k])
    r = subprocess.run([sys.executable, "-m", "accompanist_train.export", "--checkpoint", str(tmp_path / "nope"),
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "checkpoint not found" in r.stderr


@pytest.mark.skipif(not (FIX / "tiny_case.json").is_file(), reason="no model fixtures")
def test_committed_parity_fixture_matches_training_model():
    flat, cfg, _ = export.load(FIX / "tiny.safetensors")
    case = json.loads((FIX / "tiny_case.json").read_text())
    frames = np.asarray(case["frames"], np.int32)
    meter = np.asarray(case["meter"], np.int32)
    ids = np.asarray(case["tokens"], np.int32)
    pt = np.asarray(case["ptimes"], np.int32)
    tm = np.asarray(case["token_meter"], np.int32)
    full, chord = full_logits(flat, cfg, frames, meter, ids, pt, tm)
    want = np.asarray(case["logits"])
    assert np.abs(full - want).max() < case["tolerance"] * max(1.0, np.abs(want).max())
    np.testing.assert_allclose(chord, np.asarray(case["chord_logits"]), atol=1e-4)
    # and the fixture is what the generator makes today
    f2, m2, ids2, _, pt2, _ = make_case(0)
    assert ids2.tolist() == ids.tolist() and f2.tolist() == frames.tolist()
