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


def save(flat: dict[str, np.ndarray], cfg: ModelConfig, out: str | Path, info: dict | None = None, fp16: bool = False,
         sampling: dict[str, float] | None = None) -> None:
    """`sampling`: the sampling settings the model was tuned with, named as the config's [engine]
    keys, which the runtime uses where a user sets none (sampling_meta.py)."""
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
    if sampling:
        meta["sampling"] = json.dumps(sampling, sort_keys=True)
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


def model_card(out_weights: Path, cfg: ModelConfig, info: dict, n_params: int, run_dir: Path | None,
               eval_summary: Path | None) -> str:
    """A Markdown model card from the run folder (train.log, valid.jsonl) and an evaluation summary."""
    import platform
    import re
    lines = [f"# {out_weights.name}", "",
             "Streaming accompaniment model of Accompanist (docs/model.md; tokens: docs/tokens.md).", "",
             "## Data and licence", "",
             "Trained on POP909 (Music X Lab, MIT licence): Ziyu Wang*, Ke Chen*, Junyan Jiang, Yiyi Zhang, "
             "Maoran Xu, Shuqi Dai, Guxian Bin, Gus Xia, \"POP909: A Pop-song Dataset for Music Arrangement "
             "Generation\", ISMIR 2020. 4/4 songs only; MELODY as melody, PIANO as accompaniment (BRIDGE dropped); "
             "song-level split in Training/split.json; transposition augmentation -5..+6.", "",
             "## Model", "",
             f"- parameters: {n_params}",
             f"- config: `{json.dumps(cfg.__dict__, sort_keys=True)}`",
             f"- training run: `{info.get('run', '')}`, step {info.get('step')}, epoch {info.get('epoch')}"]
    if run_dir and (run_dir / "train.log").is_file():
        log = (run_dir / "train.log").read_text().splitlines()
        stamps = [l.split()[0] for l in log if l[:4].isdigit()]
        losses = [float(m.group(1)) for l in log for m in [re.search(r" loss ([0-9.]+) chord", l)] if m]
        tps = [float(m.group(1)) for l in log for m in [re.search(r"tok/s ([0-9.]+)", l)] if m]
        if stamps:
            lines.append(f"- training log: {stamps[0]} to {stamps[-1]} (wall clock, with interruptions), "
                         f"on {platform.machine()} CPU ({__import__('os').cpu_count()} cores), "
                         f"median {sorted(tps)[len(tps) // 2] if tps else 0:.0f} target tokens/s")
        if losses:
            lines.append(f"- final training loss (EMA, nats/token): {losses[-1]:.4f}")
    if run_dir and (run_dir / "valid.jsonl").is_file():
        rows = [json.loads(l) for l in (run_dir / "valid.jsonl").read_text().splitlines() if l.strip()]
        if rows:
            best = min(rows, key=lambda r: r["true"])
            last = rows[-1]
            lines.append(f"- validation loss: best {best['true']:.4f} at step {best['step']} (wrong-melody "
                         f"{best['wrong']:.4f}, gap {best['gap']:.4f}); last {last['true']:.4f} at step {last['step']}")
    if eval_summary and Path(eval_summary).is_file():
        ev = json.loads(Path(eval_summary).read_text())
        lines += ["", "## Evaluation (test split; Training/accompanist_train/evaluate.py)", "",
                  "| system | note_in_chord | pcs | doubling | notes_per_beat | notes_per_onset |", "|---|---|---|---|---|---|"]
        for k, v in ev["summary"].items():
            lines.append(f"| {k} | {v['note_in_chord']:.3f} | {v['pcs']:.3f} | {v['doubling']:.3f} | "
                         f"{v['notes_per_beat']:.2f} | {v['notes_per_onset']:.2f} |")
        if ev.get("nll"):
            lines.append(f"\nTeacher-forced NLL: {ev['nll']['true']:.4f} nats/token (wrong melody {ev['nll']['wrong']:.4f}).")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Export a training checkpoint to safetensors.")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fp16", action="store_true", help="store weights as float16")
    ap.add_argument("--card", default=None, help="also write a Markdown model card here")
    ap.add_argument("--eval-summary", default=None, help="evaluate.py's summary.json, for the card")
    a = ap.parse_args(argv)
    try:
        flat, cfg, info = flat_from_checkpoint(a.checkpoint)
    except (FileNotFoundError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    save(flat, cfg, a.out, info, a.fp16)
    n = sum(v.size for v in flat.values())
    if a.card:
        ck = Path(a.checkpoint).resolve()
        run_dir = ck.parent.parent if ck.parent.name == "checkpoints" else None
        Path(a.card).write_text(model_card(Path(a.out), cfg, info, n, run_dir,
                                           Path(a.eval_summary) if a.eval_summary else None))
    print(f"wrote {a.out}: {len(flat)} tensors, {n} parameters, step {info['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
