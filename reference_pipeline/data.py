"""Pool items as a torch Dataset, and the DataLoader every stage reads them through.

Array pools (Fashion-MNIST, glyphs, npy files) are read one batch at a time
(`__getitems__` -> `Pool.rows`: one pread per run of consecutive items), so a pool file is never loaded
whole. ImageFolder pools are decoded and resized in the loader's worker processes,
so decoding JPEGs overlaps the forward pass instead of running one file at a time in
the main loop.

Items come out as uint8 (C, H, W) tensors, exactly the pixels `Pool.__getitem__`
returns (HWC there): the float conversion and normalisation stay in
`common.to_input`, on the device, so the loader moves 4x fewer bytes.

Workers: `default_workers()` uses the CPU count (capped by MAX_WORKERS); `workers=0`
decodes in-process. Both give the same batches in the same order, hence the same
scores bit for bit.
"""

from __future__ import annotations

import os

import numpy as np

from .common import PipelineError

# -----------------------------------------------------------------------------
# knobs

MAX_WORKERS = 8         # loader processes by default; JPEG decoding scales ~linearly up to the core count
PREFETCH_FACTOR = 2     # batches queued per worker (torch's default; more only costs memory)


def default_workers() -> int:
    """Worker processes for the CPU count: one core stays free for the main (forward) process."""
    return max(0, min(MAX_WORKERS, (os.cpu_count() or 1) - 1))


class PoolDataset:
    """Pool items `pool[indices[j]]` as `(uint8 tensor (C, H, W), j)`.

    A map-style dataset (torch only needs __len__ and __getitem__). `j` is the position
    in this dataset, not the pool position, so a caller can map results back by `indices`.
    """

    def __init__(self, pool, indices=None):
        self.pool = pool
        self.indices = None if indices is None else np.asarray(indices, np.int64)
        if self.indices is not None and len(self.indices) and not (
                0 <= self.indices.min() and self.indices.max() < len(pool)):
            raise PipelineError(f"PoolDataset indices expected in [0, {len(pool)}), "
                                f"got min {self.indices.min()} max {self.indices.max()}")

    def __len__(self):
        return len(self.pool) if self.indices is None else len(self.indices)

    def _positions(self, js) -> np.ndarray:
        js = np.asarray(js, np.int64)
        return js if self.indices is None else self.indices[js]

    def __getitem__(self, j):
        return self.__getitems__([j])[0]

    def __getitems__(self, js):
        """One read for the whole batch (torch's DataLoader calls this with a batch of positions)."""
        import torch

        pos = self._positions(js)
        if self.pool.images is not None:
            x = torch.from_numpy(self.pool.rows(pos))  # one read per run of consecutive items
            x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
        else:
            x = torch.stack([torch.from_numpy(self.pool.read_file(int(i))) for i in pos]).permute(0, 3, 1, 2)
        return [(x[k], int(j)) for k, j in enumerate(js)]


def _worker_init(worker_id: int):
    import torch

    # one thread per worker: the workers already use every core; more threads only contend
    torch.set_num_threads(1)


def make_loader(dataset, *, batch_size: int, workers: int | None = None, sampler=None, batch_sampler=None,
                shuffle: bool = False, drop_last: bool = False, device: str = "cpu", seed: int = 0):
    """A DataLoader over `dataset` yielding (uint8 (B, C, H, W), int64 (B,) dataset positions).

    `batch_sampler`, when given, fixes every batch's composition (score_pool uses it so
    that batches are the same whatever the number of processes or workers).
    """
    import torch
    from torch.utils.data import DataLoader

    workers = default_workers() if workers is None else int(workers)
    if workers < 0:
        raise PipelineError(f"workers expected >= 0, got {workers}")
    kw = dict(num_workers=workers, pin_memory=str(device).startswith("cuda"),
              generator=torch.Generator().manual_seed(seed))
    if workers > 0:
        kw.update(persistent_workers=True, prefetch_factor=PREFETCH_FACTOR, worker_init_fn=_worker_init)
    if batch_sampler is not None:
        return DataLoader(dataset, batch_sampler=batch_sampler, **kw)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=shuffle, drop_last=drop_last, **kw)
