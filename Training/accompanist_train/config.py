"""Run and model configuration (JSON), validated with clear errors."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass
class ModelConfig:
    d_model: int = 128
    n_heads: int = 4
    d_ff: int = 512
    enc_layers: int = 2
    dec_layers: int = 3
    conv_window: int = 128      # encoder causal filter length W (steps)
    self_window: int = 256      # decoder self-attention window (tokens, including itself)
    cross_window: int = 128     # encoder columns visible to a token (steps strictly before its time)
    vocab_size: int = 323
    n_meter: int = 32           # metrical positions (steps in a bar), taken modulo n_meter
    n_chord: int = 61
    chord_input: int = 0        # chord features per decoder position (0: none; 25: tones, bass, given flag)
    ln_eps: float = 1e-5

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "ln_eps":
                if not (isinstance(v, (int, float)) and 0 < v < 1):
                    raise ConfigError(f"model.ln_eps must be in (0, 1), got {v!r}")
                continue
            if f.name == "chord_input":
                if v not in (0, 25):
                    raise ConfigError(f"model.chord_input must be 0 (no chord input) or 25, got {v!r}")
                continue
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ConfigError(f"model.{f.name} must be a positive integer, got {v!r}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads})")
        if self.vocab_size != 323:
            raise ConfigError("model.vocab_size must be 323 (docs/tokens.md)")


@dataclass
class TrainConfig:
    name: str = "run"
    data_root: str = "../shared/datasets/pop909"   # relative to the repository root
    split: str = "Training/split.json"
    cache_dir: str = "Training/runs/cache"
    runs_dir: str = "Training/runs"
    seed: int = 0
    batch_size: int = 16
    seq_tokens: int = 512       # decoder tokens per training segment
    enc_context: int = 64       # encoder steps before a segment's first token
    enc_steps: int = 512        # encoder steps per segment
    lr: float = 1e-3
    warmup_steps: int = 300
    total_steps: int = 20000
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    chord_loss_weight: float = 0.5
    transpose: list = field(default_factory=lambda: [-5, 6])   # inclusive range of semitones
    eval_every_steps: int = 500
    eval_batches: int = 20
    checkpoint_minutes: float = 10.0
    max_minutes: float = 0.0    # 0: no limit
    init_from: str = ""         # exported weights (safetensors) a new run starts from; "" = random
    model: ModelConfig = field(default_factory=ModelConfig)

    def validate(self) -> None:
        ints = ["seed", "batch_size", "seq_tokens", "enc_context", "enc_steps", "warmup_steps", "total_steps",
                "eval_every_steps", "eval_batches"]
        for k in ints:
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if k in ("seed", "warmup_steps", "enc_context") else 1):
                raise ConfigError(f"{k} must be a {'non-negative' if k in ('seed', 'warmup_steps', 'enc_context') else 'positive'} integer, got {v!r}")
        for k in ["lr", "weight_decay", "grad_clip", "chord_loss_weight", "checkpoint_minutes", "max_minutes"]:
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"{k} must be a non-negative number, got {v!r}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr!r}")
        if (not isinstance(self.transpose, list) or len(self.transpose) != 2
                or not all(isinstance(x, int) for x in self.transpose) or self.transpose[0] > self.transpose[1]):
            raise ConfigError(f"transpose must be [lo, hi] integers with lo <= hi, got {self.transpose!r}")
        if self.enc_steps <= self.enc_context:
            raise ConfigError(f"enc_steps ({self.enc_steps}) must exceed enc_context ({self.enc_context})")
        if not isinstance(self.init_from, str):
            raise ConfigError(f"init_from must be a path (string), got {self.init_from!r}")
        if not self.name or "/" in self.name:
            raise ConfigError(f"name must be a non-empty folder name, got {self.name!r}")
        self.model.validate()

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls, d: dict, where: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must be a JSON object")
    known = {f.name for f in fields(cls)}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(sorted(unknown))}")
    kw = dict(d)
    if cls is TrainConfig and "model" in kw:
        kw["model"] = _build(ModelConfig, kw["model"], "model")
    return cls(**kw)


def model_config_from_dict(d: dict) -> ModelConfig:
    c = _build(ModelConfig, d, "model")
    c.validate()
    return c


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: invalid JSON: {e}") from None
    c = _build(TrainConfig, d, str(path))
    c.validate()
    return c
