"""Checkpoints that survive a crash: atomic files, newest complete one wins.

A checkpoint is a safetensors file ``checkpoint-<epoch>.safetensors`` holding the
training state's tensors (parameters, momentum, persistent chains, RNG state) and,
in its metadata, the JSON rest (epoch counter, history). Files are written to a
temporary name, fsynced and renamed, so a killed process leaves either the old
set or the new one, never half a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors.torch import save_file

from .io import atomic_write, read_file

_NAME = re.compile(r"^checkpoint-(\d+)\.safetensors$")
KEEP = 2


def save_checkpoint(directory: str | Path, epoch: int, tensors: dict[str, torch.Tensor],
                    state: dict) -> Path:
    """Write the checkpoint for ``epoch`` atomically and prune all but the newest ``KEEP``."""
    directory = Path(directory)
    path = directory / f"checkpoint-{epoch:06d}.safetensors"
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    metadata = {"format": "deepbelief-checkpoint", "state": json.dumps(state)}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
    for old in list_checkpoints(directory)[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def load_latest(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict] | None:
    """The newest checkpoint that reads back completely, or ``None``."""
    for path in reversed(list_checkpoints(directory)):
        try:
            tensors, metadata = read_file(path)
            if metadata.get("format") != "deepbelief-checkpoint":
                continue
            return tensors, json.loads(metadata["state"])
        except (ValueError, KeyError, json.JSONDecodeError):
            continue
    return None
