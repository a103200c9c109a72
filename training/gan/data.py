"""Training data for the GAN: one code path for procedural faces and folders of pictures.

The order of the data is a pure function of (seed, step): step ``s`` of a run with global
batch ``B`` takes positions ``s*B .. s*B+B-1`` of an endless stream that walks through one
random permutation per epoch (derived from the seed and the epoch number); process ``r`` of
``W`` takes its ``B/W`` slice. So a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from training.synth.dataset import FaceDataset, FolderFaces, SyntheticFaces

SYNTHETIC = "synthetic"


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers (any sign), the same on every machine."""
    words = np.random.SeedSequence([p % 2**64 for p in parts]).generate_state(2, np.uint32)
    return int(words[0]) << 31 ^ int(words[1])


def open_dataset(data: str, size: int, seed: int, synthetic_count: int) -> FaceDataset:
    """``data == "synthetic"``: ``synthetic_count`` procedural faces drawn with ``seed``;
    anything else is a folder of pictures. ValueError if the folder is missing or empty."""
    if data == SYNTHETIC:
        return SyntheticFaces(synthetic_count, size, seed)
    return FolderFaces(Path(data), size)


def epoch_permutation(count: int, seed: int, epoch: int) -> torch.Tensor:
    """The order (count,) in which epoch ``epoch`` visits the data."""
    generator = torch.Generator().manual_seed(derive_seed(seed, epoch, 0x5EED))
    return torch.randperm(count, generator=generator)


def step_positions(step: int, batch_size: int, rank: int, world_size: int) -> range:
    """Positions in the endless data stream that process ``rank`` trains on at ``step``."""
    per_rank = batch_size // world_size
    start = step * batch_size + rank * per_rank
    return range(start, start + per_rank)


class StepBatchSampler(Sampler[list[int]]):
    """Dataset indices for steps ``start .. stop-1`` of one process, one list per step."""

    def __init__(
        self,
        count: int,
        seed: int,
        batch_size: int,
        *,
        start: int,
        stop: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size % world_size:
            raise ValueError(
                f"batch size {batch_size} must be a multiple of the {world_size} processes"
            )
        self.count, self.seed, self.batch_size = count, seed, batch_size
        self.start, self.stop, self.rank, self.world_size = start, stop, rank, world_size
        self._orders: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            yield self.indices(step)

    def indices(self, step: int) -> list[int]:
        """The dataset indices of this process's batch at ``step``."""
        out = []
        for position in step_positions(step, self.batch_size, self.rank, self.world_size):
            epoch, offset = divmod(position, self.count)
            out.append(int(self._order(epoch)[offset]))
        return out

    def _order(self, epoch: int) -> torch.Tensor:
        if epoch not in self._orders:
            self._orders = {e: o for e, o in self._orders.items() if e >= epoch - 1}
            self._orders[epoch] = epoch_permutation(self.count, self.seed, epoch)
        return self._orders[epoch]


def _ignore_sigint(_worker_id: int) -> None:
    # Ctrl+C reaches the whole process group; the main process stops training cleanly,
    # so a worker must not die of it first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_loader(
    dataset: FaceDataset, sampler: StepBatchSampler, *, workers: int, pin_memory: bool
) -> DataLoader:
    """A DataLoader yielding one batch dict per step in ``sampler``'s order."""
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        worker_init_fn=_ignore_sigint if workers else None,
        prefetch_factor=2 if workers else None,
        generator=torch.Generator().manual_seed(0),  # never the global RNG
    )
