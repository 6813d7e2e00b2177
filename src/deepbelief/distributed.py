"""Data-parallel training on ``torch.distributed`` (launched with ``torchrun``).

Every estimator asks this module whether it runs in a process group. Ranks see
the same global minibatches (rank 0's order, broadcast), each trains on its own
rows of every batch, and the sufficient statistics are summed over ranks.
Only rank 0 writes files and progress bars.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Rank 0, or the only process: the one that writes files and shows progress."""
    return rank() == 0


def init_from_env(device: str | torch.device | None = None) -> bool:
    """Join the process group ``torchrun`` describes in the environment, if any.

    Uses NCCL for CUDA devices and gloo otherwise. Returns whether a group of more
    than one process is running.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        use_cuda = torch.device(device or "cpu").type == "cuda"
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return is_distributed()


def all_reduce_sum(tensors: list[torch.Tensor]) -> None:
    """Sum each tensor over all ranks, in place (one flattened all-reduce)."""
    if not is_distributed():
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def broadcast_(*tensors: torch.Tensor) -> None:
    """Overwrite each tensor with rank 0's copy, in place."""
    if is_distributed():
        for t in tensors:
            dist.broadcast(t, src=0)


def shard(batch: torch.Tensor) -> torch.Tensor:
    """This rank's rows of a global minibatch: rows rank, rank + world, ..."""
    return batch[rank()::world_size()] if is_distributed() else batch


def finish() -> None:
    """Wait for every rank, then leave the process group (call once at the end)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
