"""Checkpoints that survive a crash: atomic files, newest complete one wins.

Every trainable piece (an RBM core, a CD trainer, a ``torch.nn.Module``, an
optimiser, a generator's state) has a ``state_dict()``; an estimator gathers
them in one nested dict with its JSON-able bookkeeping (epoch counter, history)
and hands it to its :class:`Checkpointer`, which decides when a save is due,
writes only on rank 0, and keeps the newest ``KEEP`` files.

A checkpoint is a safetensors file ``checkpoint-<epoch>.safetensors``: the
state's tensors under their dotted paths, and in its metadata the JSON rest with
each tensor's place marked. Files are written to a temporary name, fsynced and
renamed, so a killed process leaves either the old set or the new one, never
half a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from . import distributed
from .io import atomic_write, read_file

_NAME = re.compile(r"^checkpoint-(\d+)\.safetensors$")
KEEP = 2
#: 2: one nested state per checkpoint (release 0.1 wrote flat tensors and JSON).
VERSION = "2"
_TENSOR, _ITEMS = "__tensor__", "__items__"


class Checkpointer:
    """When and where an estimator's training state is saved, and how it comes back.

    Parameters
    ----------
    directory : str or Path or None
        Where the checkpoints go; None turns checkpointing off.
    every : int, default=1
        Save after every ``every``-th epoch (and always after the last).
    """

    def __init__(self, directory: str | Path | None, every: int = 1) -> None:
        self.directory = None if directory is None else Path(directory)
        self.every = every

    def due(self, epoch: int, last: bool = False) -> bool:
        """Whether this process should save after ``epoch``."""
        return (self.directory is not None and distributed.is_main_process()
                and (last or epoch % self.every == 0))

    def maybe_save(self, epoch: int, last: bool, state: dict[str, Any]) -> None:
        """Save ``state`` after ``epoch`` when :meth:`due`."""
        if self.due(epoch, last):
            save_checkpoint(self.directory, epoch, state)

    def start(self, resume: bool) -> None:
        """Begin a run here: ``resume`` needs a directory; a fresh run removes the
        checkpoints an earlier one left (rank 0), which would otherwise outnumber
        this run's, prune them and be the ones a later resume loads."""
        if resume and self.directory is None:
            raise ValueError("resume=True needs checkpoint_dir")
        if not resume and self.directory is not None and distributed.is_main_process():
            for old in list_checkpoints(self.directory):
                old.unlink(missing_ok=True)

    def load(self) -> dict[str, Any] | None:
        """The newest complete checkpoint's state, or None (also when off)."""
        return None if self.directory is None else load_latest(self.directory)

    def child(self, name: str) -> Checkpointer:
        """A checkpointer for one part of training, in the subdirectory ``name``."""
        return Checkpointer(None if self.directory is None else self.directory / name,
                            self.every)


def training_state(model, trainer, rng: torch.Generator, n_epochs: int, history: dict,
                   ) -> dict[str, Any]:
    """What a run of CD-style epochs resumes from: the core's and the trainer's
    ``state_dict``, the generator's state, the epochs done and the history."""
    return {"model": model.state_dict(), "trainer": trainer.state_dict(),
            "rng": rng.get_state(), "n_epochs": n_epochs, "history": history}


def restore_training(state: dict[str, Any], model, trainer, rng: torch.Generator,
                     what: str) -> tuple[int, dict]:
    """Load :func:`training_state`'s ``state`` into the core, trainer and generator in
    place; returns (epochs done, history). A core of another shape is a ``ValueError``
    naming ``what`` (e.g. "a DBM of layer sizes [64, 16, 8]")."""
    try:
        model.load_state_dict(state["model"])
    except ValueError as exc:
        raise ValueError(f"the checkpoint does not fit {what}: {exc}") from None
    rng.set_state(state["rng"])
    trainer.load_state_dict(state["trainer"])
    return int(state["n_epochs"]), state["history"]


def save_checkpoint(directory: str | Path, epoch: int, state: dict[str, Any]) -> Path:
    """Write ``state`` for ``epoch`` atomically and prune all but the newest ``KEEP``."""
    directory = Path(directory)
    path = directory / f"checkpoint-{epoch:06d}.safetensors"
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _flatten(state, "", tensors)
    metadata = {"format": "deepbelief-checkpoint", "version": VERSION,
                "state": json.dumps(skeleton)}
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


def load_latest(directory: str | Path) -> dict[str, Any] | None:
    """The state of the newest checkpoint that reads back completely, or ``None``.

    Raises
    ------
    ValueError
        If that checkpoint was written by an older version of deepbelief, whose
        training state this version cannot continue.
    """
    for path in reversed(list_checkpoints(directory)):
        try:
            tensors, metadata = read_file(path)
            if metadata.get("format") != "deepbelief-checkpoint":
                continue
            if metadata.get("version") != VERSION:
                raise _OlderVersion(path)
            return _unflatten(json.loads(metadata["state"]), tensors)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            if isinstance(exc, _OlderVersion):
                raise ValueError(f"{path} was written by an older version of deepbelief; "
                                 "resume with that version, or remove the checkpoints to "
                                 "start afresh") from None
            continue
    return None


class _OlderVersion(ValueError):
    pass


def _flatten(obj: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON for ``obj`` with each tensor moved into ``tensors`` under its dotted path."""
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().contiguous()
        return {_TENSOR: path}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _flatten(v, f"{path}.{k}" if path else k, tensors) for k, v in obj.items()}
        # e.g. an optimiser's state, keyed by parameter index
        return {_ITEMS: [[k, _flatten(v, f"{path}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_flatten(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]
    return obj


def _unflatten(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR}:
            return tensors[obj[_TENSOR]]
        if set(obj) == {_ITEMS}:
            return {k: _unflatten(v, tensors) for k, v in obj[_ITEMS]}
        return {k: _unflatten(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    return obj
