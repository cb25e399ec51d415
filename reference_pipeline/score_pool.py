"""Stage 2 (server): score every pool item with the teacher.

Per item: the argmax label (the pseudo-label the payload carries), the energy
E(x) = -T * logsumexp(f(x) / T) (lower = more confident; T = 1 is the paper's Eq. 5)
and the softmax entropy of f(x)/T. Also written: the teacher's energies on its own
labelled target-train images (ref_energy, ref_labels), the in-distribution reference
the 'stratified' rule thresholds against, and the pool digest the scores belong to.

Sharding: run under torchrun and each rank scores the global batches b with
b % world_size == rank (the same batches, with the same contents, as one process),
writes its part, and rank 0 merges. The result is identical to a single process.
gloo on CPU, nccl on GPU.

Usage:  python -m reference_pipeline.score_pool --teacher teacher.pt --pool broad --out scores.npz
        torchrun --nproc-per-node 2 -m reference_pipeline.score_pool --teacher teacher.pt --out scores.npz
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import common
from .pools import open_pool
from .train_teacher import load_teacher

# -----------------------------------------------------------------------------
# knobs

TEMPERATURE = 1.0       # T of the energy and entropy (the paper's Eq. 5 has none, i.e. T = 1)
BATCH_SIZE = 1024       # images per forward pass; also the shard unit under torchrun


def energy_entropy(logits: np.ndarray, T: float = TEMPERATURE):
    """(labels, energy, entropy) from float logits; float64 internally, float32 out."""
    z = np.asarray(logits, np.float64) / T
    m = z.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
    logp = z - lse[:, None]
    entropy = -(np.exp(logp) * logp).sum(1)
    return logits.argmax(1).astype(np.int64), (-T * lse).astype(np.float32), entropy.astype(np.float32)


def _dist():
    """(rank, world, initialised?) from torchrun's environment."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1, False
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if common.default_device() == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), True


def score_pool(teacher: str, pool_spec: str, out: str, *, T: float = TEMPERATURE, batch_size: int = BATCH_SIZE,
               cache_dir=common.DEFAULT_CACHE, device: str | None = None, verbose: bool = True, pool=None) -> dict:
    from tqdm import tqdm

    rank, world, distributed = _dist()
    torch = common.setup_torch(threads=None if not distributed else max(1, (os.cpu_count() or 1) // world))
    if device is None:
        device = common.default_device()
        if device == "cuda" and distributed:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
    if T <= 0:
        raise common.PipelineError(f"temperature T must be > 0, got {T}")
    pool = pool if pool is not None else open_pool(pool_spec, cache_dir)
    net, ckpt = load_teacher(teacher, device)
    n = len(pool)
    batches = list(range(rank, (n + batch_size - 1) // batch_size, world))
    t0 = time.time()
    parts = []
    bar = tqdm(batches, desc=f"score rank {rank}/{world}", unit="batch", disable=not verbose or rank != 0)
    with torch.inference_mode():
        for b in bar:
            x = common.to_input(pool[b * batch_size:(b + 1) * batch_size], ckpt["img_size"], device)
            parts.append(net(x).float().cpu().numpy())
    logits = np.zeros((n, ckpt["num_classes"]), np.float32)
    for b, part in zip(batches, parts):
        logits[b * batch_size:b * batch_size + len(part)] = part
    if distributed:
        import torch.distributed as dist

        # each rank filled only its own batches; the others are zero, so a sum gathers them
        t = torch.from_numpy(logits).to(device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        logits = t.cpu().numpy()
    labels, energy, entropy = energy_entropy(logits, T)
    _, ref_energy, _ = energy_entropy(ckpt["calib_logits"], T)
    res = dict(labels=labels, energy=energy, entropy=entropy, T=np.float64(T), num_classes=np.int64(ckpt["num_classes"]),
               ref_energy=ref_energy, ref_labels=np.asarray(ckpt["calib_labels"], np.int64),
               pool_digest=np.frombuffer(pool.digest(), np.uint8), pool_spec=np.str_(pool_spec),
               teacher_acc=np.float64(ckpt["teacher_acc"]), seconds=np.float64(time.time() - t0))
    if rank == 0:
        tmp = Path(str(out) + ".tmp.npz")
        np.savez(tmp, **res)
        os.replace(tmp, out)
        if verbose:
            print(f"scored {n} items in {time.time() - t0:.0f}s on {world} process(es) -> {out}")
    if distributed:
        import torch.distributed as dist

        dist.barrier()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.score_pool", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--teacher", required=True, help="checkpoint from train_teacher")
    ap.add_argument("--pool", default="broad", help="pool spec (see reference_pipeline.pools)")
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE))
    ap.add_argument("--temperature", "-T", type=float, default=TEMPERATURE)
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ap.add_argument("--out", required=True, help="scores .npz to write")
    a = ap.parse_args(argv)
    score_pool(a.teacher, a.pool, a.out, T=a.temperature, batch_size=a.batch_size, cache_dir=a.cache)
    if "RANK" in os.environ:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
