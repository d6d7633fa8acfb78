"""python -m accompanist_train.export --checkpoint Training/runs/NAME/checkpoints/best.msgpack \
       --out Models/accompanist.safetensors

Writes the weights as float32 (or --fp16) safetensors with the model config (JSON) in the
metadata under "config"; tensor names and shapes are listed in docs/model.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .config import ConfigError, ModelConfig, model_config_from_dict

FORMAT = "accompanist-v1"


def flat_from_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], ModelConfig, dict]:
    from .model import flatten_params
    from .train import load_checkpoint
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    st = load_checkpoint(path)
    cfg_all = json.loads(st["config"])
    cfg = model_config_from_dict(cfg_all["model"])
    info = {"step": int(st["step"]), "epoch": int(st["epoch"]), "best_valid": float(st.get("best", float("nan"))),
            "run": cfg_all.get("name", "")}
    return flatten_params(st["params"]), cfg, info


def save(flat: dict[str, np.ndarray], cfg: ModelConfig, out: str | Path, info: dict | None = None, fp16: bool = False) -> None:
    from dataclasses import asdict

    from safetensors.numpy import save_file
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dt = np.float16 if fp16 else np.float32
    tensors = {k: np.ascontiguousarray(v.astype(dt)) for k, v in sorted(flat.items())}
    meta = {"format": FORMAT, "config": json.dumps(asdict(cfg), sort_keys=True),
            "tokens": "docs/tokens.md", "model": "docs/model.md"}
    if info:
        meta["training"] = json.dumps(info, sort_keys=True)
    save_file(tensors, str(out), metadata=meta)


def load(path: str | Path) -> tuple[dict[str, np.ndarray], ModelConfig, dict]:
    from safetensors import safe_open
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ConfigError(f"{path}: not an {FORMAT} file (format={meta.get('format')!r})")
        cfg = model_config_from_dict(json.loads(meta["config"]))
        flat = {k: f.get_tensor(k).astype(np.float32) for k in f.keys()}
    return flat, cfg, meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Export a training checkpoint to safetensors.")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fp16", action="store_true", help="store weights as float16")
    a = ap.parse_args(argv)
    try:
        flat, cfg, info = flat_from_checkpoint(a.checkpoint)
    except (FileNotFoundError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    save(flat, cfg, a.out, info, a.fp16)
    n = sum(v.size for v in flat.values())
    print(f"wrote {a.out}: {len(flat)} tensors, {n} parameters, step {info['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
