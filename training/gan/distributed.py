"""torchrun / DistributedDataParallel plumbing: one process per device, rank 0 writes.

Started by ``torchrun`` (env ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) the same script joins a
process group: NCCL on CUDA, gloo on the CPU. Started plainly it is a group of one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size``, on GPU ``local_rank``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def dist_info_from_env(env: dict[str, str] | None = None) -> DistInfo:
    """The process's place in a torchrun job from its environment (a group of one if none)."""
    env = dict(os.environ if env is None else env)
    world = int(env.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    return DistInfo(
        rank=int(env["RANK"]),
        world_size=world,
        local_rank=int(env.get("LOCAL_RANK", "0")),
        local_world_size=int(env.get("LOCAL_WORLD_SIZE", str(world))),
    )


def process_device(device: torch.device, info: DistInfo) -> torch.device:
    """This process's device: with CUDA under torchrun, GPU ``LOCAL_RANK``."""
    if device.type == "cuda" and info.distributed:
        return torch.device("cuda", info.local_rank)
    return device


def init_group(info: DistInfo, device: torch.device) -> None:
    """Join the torchrun job (NCCL for CUDA, gloo otherwise); nothing for a group of one."""
    if not info.distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")


def close_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.distributed:
        dist.barrier()


def reduce_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """``values`` averaged over all processes (in place where distributed)."""
    if info.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= info.world_size
    return values
