"""The sampling settings a model was tuned with, carried in its weights file.

    python -m accompanist_train.sampling_meta Models/accompanist.safetensors \
        --set '{"temperature": 0.5, "estimate_floor": 0.55}'
    python -m accompanist_train.sampling_meta Models/accompanist.safetensors     # prints them

The runtime reads metadata key "sampling" (a JSON object of numbers named as the config's
[engine] keys) and uses each value where the user's config and options give none (docs/config.md;
Sources/Model/ModelSampling.swift). Choose the values on the validation split and record how in
Models/README.md. Only the header is rewritten: the tensors' bytes stay as they are.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from pathlib import Path

KEY = "sampling"


def read_header(path: str | Path) -> tuple[dict, int]:
    """The header object and the offset where the tensor data begins."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def sampling(path: str | Path) -> dict[str, float]:
    header, _ = read_header(path)
    text = (header.get("__metadata__") or {}).get(KEY)
    return json.loads(text) if text else {}


def set_sampling(path: str | Path, values: dict[str, float]) -> None:
    """Writes `values` as the file's sampling metadata (replacing any), atomically."""
    for name, v in values.items():
        if not isinstance(name, str) or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"sampling: {name!r} must be a number, got {v!r}")
    path = Path(path)
    header, data_start = read_header(path)
    meta = dict(header.get("__metadata__") or {})
    meta[KEY] = json.dumps(values, sort_keys=True)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data stays 8-byte aligned
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        dst.write(struct.pack("<Q", len(text)) + text)
        src.seek(data_start)
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights")
    ap.add_argument("--set", dest="values", help="a JSON object of numbers, named as the config's [engine] keys")
    args = ap.parse_args(argv)
    if args.values:
        set_sampling(args.weights, json.loads(args.values))
    print(json.dumps(sampling(args.weights), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
