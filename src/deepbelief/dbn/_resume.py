"""Fine-tuning checkpoints: a net, its optimiser and early-stopping state as tensors + JSON."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .. import distributed
from ..checkpoint import load_latest, save_checkpoint


def save_finetune(directory: str | Path, epoch: int, net: nn.Module,
                  opt: torch.optim.Optimizer, generator: torch.Generator, state: dict,
                  best: dict[str, torch.Tensor] | None = None, schedule=None) -> None:
    """Write the fine-tuning state after ``epoch`` (rank 0 only).

    ``state`` is the JSON part (history, early-stopping counters); ``best`` the
    early-stopping best ``state_dict``; ``schedule`` a learning-rate scheduler.
    """
    if not distributed.is_main_process():
        return
    tensors = _prefixed("net.", net.state_dict())
    tensors.update(_prefixed("best.", best or {}))
    opt_tensors, opt_state = _optimizer_state(opt)
    tensors.update(opt_tensors)
    tensors["rng"] = generator.get_state()
    state = {**state, "epoch": epoch, "optimizer": opt_state,
             "schedule": None if schedule is None else schedule.state_dict()}
    save_checkpoint(directory, epoch, tensors, state)


def load_finetune(directory: str | Path, net: nn.Module, opt: torch.optim.Optimizer,
                  generator: torch.Generator, schedule=None):
    """Restore the newest fine-tuning checkpoint into ``net``, ``opt``, ``generator``.

    Returns ``(state, best)`` as given to :func:`save_finetune`, or ``None`` when
    there is no checkpoint.
    """
    found = load_latest(directory)
    if found is None:
        return None
    tensors, state = found
    try:
        net.load_state_dict(_unprefixed("net.", tensors))
    except RuntimeError as exc:
        raise ValueError(f"checkpoint in {directory} is for another net: {exc}") from None
    _load_optimizer_state(opt, tensors, state["optimizer"])
    if schedule is not None:
        schedule.load_state_dict(state["schedule"])
    generator.set_state(tensors["rng"])
    return state, _unprefixed("best.", tensors) or None


def _prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in tensors.items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _optimizer_state(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """The optimiser's tensors (``opt.<param>.<key>``) and its JSON rest."""
    full = opt.state_dict()
    tensors, plain = {}, {}
    for index, entries in full["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{index}.{key}"] = value
            else:
                plain[f"{index}.{key}"] = value
    return tensors, {"param_groups": full["param_groups"], "plain": plain}


def _load_optimizer_state(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                          state: dict) -> None:
    per_param: dict[int, dict] = {}
    items = [(k.split(".", 1)[1], v) for k, v in tensors.items() if k.startswith("opt.")]
    for name, value in [*items, *state["plain"].items()]:
        index, key = name.split(".", 1)
        per_param.setdefault(int(index), {})[key] = value
    opt.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
