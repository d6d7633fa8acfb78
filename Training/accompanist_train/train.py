"""python -m accompanist_train.train --config Training/configs/NAME.json

Progress bar, validation (with the true melody and with another song's melody), checkpoints
every few minutes (and on SIGTERM/SIGINT), resume from the run folder's latest checkpoint,
deterministic seeds, a log file per run (Training/runs/NAME/train.log).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig, load_config
from .data import DataError, check_root, load_songs, load_split

REPO = Path(__file__).resolve().parents[2]


def resolve(p: str) -> Path:
    q = Path(p)
    return q if q.is_absolute() else (REPO / q)


def setup_logging(run_dir: Path) -> logging.Logger:
    log = logging.getLogger("accompanist_train")
    log.setLevel(logging.INFO)
    log.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    fh = logging.FileHandler(run_dir / "train.log")
    fh.setFormatter(fmt)
    log.addHandler(fh)
    sh = logging.StreamHandler(sys.stderr)
    sh.setFormatter(fmt)
    log.addHandler(sh)
    return log


def make_optimizer(cfg: TrainConfig):
    import optax
    sched = optax.warmup_cosine_decay_schedule(0.0, cfg.lr, max(1, cfg.warmup_steps), max(cfg.total_steps, cfg.warmup_steps + 1),
                                               end_value=cfg.lr * 0.05)
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip) if cfg.grad_clip > 0 else optax.identity(),
                       optax.adamw(sched, b1=0.9, b2=0.98, weight_decay=cfg.weight_decay)), sched


def loss_fn(model, params, batch, chord_weight):
    import jax
    import jax.numpy as jnp
    frames, meter, chords, cmask, tokens, ptime, tmeter, targets, mask, chord_in, given = batch
    logits, chord_logits = model.apply({"params": params}, frames, meter, tokens, ptime, tmeter, chord_in, given)
    lp = jax.nn.log_softmax(logits)
    nll = -jnp.take_along_axis(lp, targets[..., None], -1)[..., 0]
    tok_loss = (nll * mask).sum() / jnp.maximum(mask.sum(), 1.0)
    clp = jax.nn.log_softmax(chord_logits)
    cnll = -jnp.take_along_axis(clp, chords[..., None], -1)[..., 0]
    chord_loss = (cnll * cmask).sum() / jnp.maximum(cmask.sum(), 1.0)
    chord_acc = ((chord_logits.argmax(-1) == chords) * cmask).sum() / jnp.maximum(cmask.sum(), 1.0)
    return tok_loss + chord_weight * chord_loss, (tok_loss, chord_loss, chord_acc, (nll * mask).sum(), mask.sum())


def save_checkpoint(path: Path, state: dict) -> None:
    from flax import serialization
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(serialization.msgpack_serialize(state))
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    from flax import serialization
    return serialization.msgpack_restore(path.read_bytes())


def params_from_export(path: Path, model_cfg, template):
    """The parameters of an exported weights file, in the structure of `template` (a fresh
    init of the same model); a different architecture or a missing tensor is a ConfigError."""
    import jax
    import jax.numpy as jnp

    from .export import load
    from .model import flatten_params, unflatten_params
    if not path.is_file():
        raise ConfigError(f"init_from: weights file not found: {path}")
    flat, cfg, _ = load(path)
    # A model without chord input may seed one with it: the chord input's weights start at zero.
    if dataclasses.replace(cfg, chord_input=model_cfg.chord_input) != model_cfg:
        raise ConfigError(f"init_from: {path} is a different model ({cfg}) from this run's ({model_cfg})")
    want = flatten_params(template)
    if cfg.chord_input == 0 and model_cfg.chord_input:
        flat = dict(flat, **{"dec.chord_in_w": want["dec.chord_in_w"]})
    if set(flat) != set(want):
        missing, extra = sorted(set(want) - set(flat)), sorted(set(flat) - set(want))
        raise ConfigError(f"init_from: {path} does not match the model: missing {missing[:3]}, unexpected {extra[:3]}")
    for k, v in want.items():
        if flat[k].shape != v.shape:
            raise ConfigError(f"init_from: {path}: tensor {k} has shape {flat[k].shape}, the model wants {v.shape}")
    tree = unflatten_params({k: flat[k] for k in want})
    return jax.tree_util.tree_map(lambda t, v: jnp.asarray(v, t.dtype), template, tree)


def run(cfg: TrainConfig, progress: bool = True, max_steps: int | None = None) -> dict:
    import jax
    import jax.numpy as jnp
    import optax
    from flax import serialization
    from tqdm import tqdm

    from .batches import batch_from, epoch_plan, eval_items
    from .model import Accompanist, count_params, init_params

    data_root = check_root(resolve(cfg.data_root))
    split_path = resolve(cfg.split)
    if not split_path.is_file():
        raise DataError(f"split file not found: {split_path}")
    split = load_split(split_path)
    run_dir = resolve(cfg.runs_dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    log = setup_logging(run_dir)
    cfg_path = run_dir / "config.json"
    if cfg_path.is_file():
        old = json.loads(cfg_path.read_text())
        if old.get("model") != cfg.to_dict()["model"]:
            raise ConfigError(f"{run_dir} holds a run with a different model config; use another name")
    cfg_path.write_text(json.dumps(cfg.to_dict(), indent=1))

    cache = resolve(cfg.cache_dir)
    train_songs = load_songs(data_root, split["train"], cache, progress)
    valid_songs = load_songs(data_root, split["valid"], cache, progress)
    T, Le, ctx = cfg.seq_tokens, cfg.enc_steps, cfg.enc_context

    model = Accompanist(cfg.model)
    params = init_params(cfg.model, cfg.seed)
    tx, sched = make_optimizer(cfg)
    opt_state = tx.init(params)
    step, epoch, pos = 0, 0, 0
    best = math.inf
    ckpt = run_dir / "checkpoints" / "latest.msgpack"
    if ckpt.is_file():
        st = load_checkpoint(ckpt)
        params = serialization.from_state_dict(params, st["params"])
        opt_state = serialization.from_state_dict(opt_state, st["opt_state"])
        step, epoch, pos = int(st["step"]), int(st["epoch"]), int(st["pos"])
        best = float(st.get("best", math.inf))
        log.info(f"resumed from {ckpt} at step {step} (epoch {epoch}, batch {pos})")
    elif cfg.init_from:
        params = params_from_export(resolve(cfg.init_from), cfg.model, params)
        log.info(f"initialised from {cfg.init_from} (fresh optimizer, step 0)")
    n_params = count_params(params)
    log.info(f"run {cfg.name}: {n_params} parameters, {len(train_songs)} train songs "
             f"({sum(len(s.ids) for s in train_songs)} tokens), {len(valid_songs)} valid songs; "
             f"devices {jax.devices()}")

    @jax.jit
    def train_step(params, opt_state, batch):
        (loss, aux), grads = jax.value_and_grad(partial(loss_fn, model), has_aux=True)(params, batch, cfg.chord_loss_weight)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, aux

    @jax.jit
    def eval_step(params, batch):
        return loss_fn(model, params, batch, cfg.chord_loss_weight)[1]

    v_items = eval_items(valid_songs, T)
    v_rng = np.random.default_rng([cfg.seed, 999])
    v_items = [v_items[i] for i in v_rng.permutation(len(v_items))[:cfg.eval_batches * cfg.batch_size]]

    def evaluate(params):
        tot = {"true": [0.0, 0.0], "wrong": [0.0, 0.0]}
        cl, ca, nb = 0.0, 0.0, 0
        for b0 in range(0, len(v_items) - cfg.batch_size + 1, cfg.batch_size):
            b = batch_from(valid_songs, v_items[b0:b0 + cfg.batch_size], T, Le, ctx).as_tuple()
            _, c_loss, c_acc, s, n = eval_step(params, b)
            tot["true"][0] += float(s); tot["true"][1] += float(n)
            cl += float(c_loss); ca += float(c_acc); nb += 1
            # another song's melody (and its metre and chords) under the same tokens
            wb = (np.roll(b[0], 1, axis=0),) + b[1:]
            _, _, _, s, n = eval_step(params, wb)
            tot["wrong"][0] += float(s); tot["wrong"][1] += float(n)
        res = {k: v[0] / max(v[1], 1) for k, v in tot.items()}
        res["gap"] = res["wrong"] - res["true"]
        res["chord_loss"] = cl / max(nb, 1)
        res["chord_acc"] = ca / max(nb, 1)
        return res

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True
    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    def checkpoint(tag="latest"):
        nonlocal best
        state = {"params": serialization.to_state_dict(params), "opt_state": serialization.to_state_dict(opt_state),
                 "step": step, "epoch": epoch, "pos": pos, "best": best, "config": json.dumps(cfg.to_dict())}
        save_checkpoint(run_dir / "checkpoints" / f"{tag}.msgpack", state)

    plan = epoch_plan(train_songs, T, cfg.seed, epoch)
    n_batches = len(plan) // cfg.batch_size
    t_last_ckpt = time.time()
    t_start = time.time()
    last_eval = None
    limit = cfg.total_steps if max_steps is None else min(cfg.total_steps, step + max_steps)
    bar = tqdm(total=cfg.total_steps, initial=step, disable=not progress, dynamic_ncols=True, mininterval=2.0)
    tok_count, t_rate = 0.0, time.time()
    ema = None
    while step < limit and not stop["flag"]:
        if pos >= n_batches:
            epoch += 1
            pos = 0
            plan = epoch_plan(train_songs, T, cfg.seed, epoch)
            n_batches = len(plan) // cfg.batch_size
            log.info(f"epoch {epoch} begins at step {step}")
        rng = np.random.default_rng([cfg.seed, epoch, pos, 2])
        items = plan[pos * cfg.batch_size:(pos + 1) * cfg.batch_size]
        b = batch_from(train_songs, items, T, Le, ctx, cfg.transpose, rng).as_tuple()
        params, opt_state, loss, aux = train_step(params, opt_state, b)
        step += 1
        pos += 1
        tok_loss = float(aux[0])
        ema = tok_loss if ema is None else 0.98 * ema + 0.02 * tok_loss
        tok_count += float(aux[4])
        bar.update(1)
        if step % 20 == 0:
            rate = tok_count / max(time.time() - t_rate, 1e-9)
            bar.set_postfix(loss=f"{ema:.3f}", chord=f"{float(aux[1]):.2f}", tok_s=f"{rate:.0f}", ep=epoch)
            log.info(f"step {step} epoch {epoch} loss {ema:.4f} chord {float(aux[1]):.3f} lr {float(sched(step)):.2e} tok/s {rate:.0f}") if step % 100 == 0 else None
            tok_count, t_rate = 0.0, time.time()
        if step % cfg.eval_every_steps == 0 or step == cfg.total_steps:
            last_eval = evaluate(params)
            log.info(f"valid step {step}: loss {last_eval['true']:.4f} wrong-melody {last_eval['wrong']:.4f} "
                     f"gap {last_eval['gap']:.4f} chord_loss {last_eval['chord_loss']:.3f} chord_acc {last_eval['chord_acc']:.3f}")
            with open(run_dir / "valid.jsonl", "a") as f:
                f.write(json.dumps({"step": step, "epoch": epoch, "time": time.time(), **last_eval}) + "\n")
            if last_eval["true"] < best:
                best = last_eval["true"]
                checkpoint("best")
            checkpoint()
            t_last_ckpt = time.time()
        elif time.time() - t_last_ckpt > cfg.checkpoint_minutes * 60:
            checkpoint()
            t_last_ckpt = time.time()
        if cfg.max_minutes and time.time() - t_start > cfg.max_minutes * 60:
            log.info("max_minutes reached")
            break
    bar.close()
    checkpoint()
    log.info(f"stopped at step {step} (epoch {epoch}); checkpoint {ckpt}")
    for s, h in old_handlers.items():
        signal.signal(s, h)
    return {"step": step, "epoch": epoch, "valid": last_eval, "params": n_params, "run_dir": str(run_dir)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train the streaming accompanist.")
    ap.add_argument("--config", required=True)
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many more steps")
    a = ap.parse_args(argv)
    try:
        cfg = load_config(a.config)
        run(cfg, progress=not a.no_progress, max_steps=a.max_steps)
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
