"""train.py: clear errors for bad configs and missing data; resume after a kill; determinism."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accompanist_train.config import ConfigError, load_config
from accompanist_train.synth import write_dataset

TINY_MODEL = {"d_model": 16, "n_heads": 2, "d_ff": 32, "enc_layers": 1, "dec_layers": 1,
              "conv_window": 16, "self_window": 32, "cross_window": 16}


def tiny_config(tmp_path, data, **kw):
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["001", "002", "003"], "valid": ["004"], "test": ["004"]}))
    cfg = {"name": "tiny", "data_root": str(data), "split": str(split), "cache_dir": str(tmp_path / "cache"),
           "runs_dir": str(tmp_path / "runs"), "batch_size": 2, "seq_tokens": 32, "enc_context": 8,
           "enc_steps": 64, "total_steps": 12, "warmup_steps": 2, "eval_every_steps": 6, "eval_batches": 1,
           "checkpoint_minutes": 0.0, "model": TINY_MODEL}
    cfg.update(kw)
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(cfg))
    return p


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("pop909"), n_songs=4, bars=6)


@pytest.mark.parametrize("bad, msg", [
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"lr": -1}, "lr must be"),
    ({"transpose": [3, -3]}, "transpose"),
    ({"model": dict(TINY_MODEL, d_model=15)}, "divisible"),
    ({"model": dict(TINY_MODEL, dec_layers="2")}, "dec_layers must be a positive integer"),
    ({"bogus": 1}, "unknown key"),
])
def test_bad_config_values(tmp_path, data, bad, msg):
    with pytest.raises(ConfigError, match=msg):
        load_config(tiny_config(tmp_path, data, **bad))


def _train(cfg_path, *extra, timeout=240):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "accompanist_train.train", "--config", str(cfg_path), "--no-progress", *extra],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_missing_data_folder_and_bad_json(tmp_path, data):
    r = _train(tiny_config(tmp_path, tmp_path / "no-such-folder"))
    assert r.returncode == 2 and "POP909 data folder not found" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = _train(bad)
    assert r.returncode == 2 and "invalid JSON" in r.stderr
    r = _train(tmp_path / "missing.json")
    assert r.returncode == 2 and "config file not found" in r.stderr


def test_resume_after_kill_matches_uninterrupted(tmp_path, data):
    from accompanist_train.train import load_checkpoint
    # uninterrupted run
    a = tmp_path / "a"
    a.mkdir()
    r = _train(tiny_config(a, data))
    assert r.returncode == 0, r.stderr
    ck_a = load_checkpoint(a / "runs" / "tiny" / "checkpoints" / "latest.msgpack")
    assert int(ck_a["step"]) == 12
    # interrupted: stop after 5 steps (as after a kill), then resume
    b = tmp_path / "b"
    b.mkdir()
    cfg_b = tiny_config(b, data)
    r = _train(cfg_b, "--max-steps", "5")
    assert r.returncode == 0, r.stderr
    assert int(load_checkpoint(b / "runs" / "tiny" / "checkpoints" / "latest.msgpack")["step"]) == 5
    r = _train(cfg_b)
    assert r.returncode == 0, r.stderr
    assert "resumed from" in (b / "runs" / "tiny" / "train.log").read_text()
    ck_b = load_checkpoint(b / "runs" / "tiny" / "checkpoints" / "latest.msgpack")
    assert int(ck_b["step"]) == 12
    import numpy as np
    wa = ck_a["params"]["dec"]["out_w"]
    wb = ck_b["params"]["dec"]["out_w"]
    np.testing.assert_allclose(np.asarray(wa), np.asarray(wb), atol=1e-5)


def test_sigterm_saves_a_checkpoint(tmp_path, data):
    cfg = tiny_config(tmp_path, data, total_steps=100000, eval_every_steps=100000)
    p = subprocess.Popen([sys.executable, "-m", "accompanist_train.train", "--config", str(cfg), "--no-progress"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "runs" / "tiny" / "train.log"
    t0 = time.time()
    while time.time() - t0 < 180:
        if log.is_file() and "run tiny:" in log.read_text():
            break
        time.sleep(0.2)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=120) == 0
    from accompanist_train.train import load_checkpoint
    ck = load_checkpoint(tmp_path / "runs" / "tiny" / "checkpoints" / "latest.msgpack")
    assert 1 <= int(ck["step"]) < 100000
    assert "stopped at step" in log.read_text()


def test_init_from_exported_weights(tmp_path, data):
    """A run can start from exported weights (fine-tuning the shipped model): step 0 has exactly
    those weights; another architecture is refused with a clear error."""
    import numpy as np
    from accompanist_train.export import flat_from_checkpoint, save
    from accompanist_train.train import load_checkpoint
    a = tmp_path / "a"
    a.mkdir()
    assert _train(tiny_config(a, data, total_steps=4)).returncode == 0
    flat, mcfg, info = flat_from_checkpoint(a / "runs" / "tiny" / "checkpoints" / "latest.msgpack")
    weights = tmp_path / "a.safetensors"
    save(flat, mcfg, weights, info)
    b = tmp_path / "b"
    b.mkdir()
    r = _train(tiny_config(b, data, name="ft", init_from=str(weights)), "--max-steps", "0")
    assert r.returncode == 0, r.stderr
    assert "initialised from" in (b / "runs" / "ft" / "train.log").read_text()
    ck = load_checkpoint(b / "runs" / "ft" / "checkpoints" / "latest.msgpack")
    assert int(ck["step"]) == 0
    np.testing.assert_array_equal(np.asarray(ck["params"]["dec"]["out_w"]), flat["dec.out_w"])
    np.testing.assert_array_equal(np.asarray(ck["params"]["enc"]["layers_0"]["ffn"]["w1"]), flat["enc.layers.0.ffn.w1"])
    c = tmp_path / "c"
    c.mkdir()
    r = _train(tiny_config(c, data, name="other", init_from=str(weights), model=dict(TINY_MODEL, d_ff=64)), "--max-steps", "0")
    assert r.returncode == 2 and "init_from" in r.stderr and "different model" in r.stderr
