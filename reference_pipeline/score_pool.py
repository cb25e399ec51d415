"""Stage 2 (server): score every pool item with the teacher, in resumable shards.

Per item: the argmax label (the pseudo-label the payload carries), the energy
E(x) = -T * logsumexp(f(x) / T) (lower = more confident; T = 1 is the paper's Eq. 5),
the softmax entropy of f(x)/T and the margin (top-1 minus top-2 logit). Also written:
the teacher's energies on its own labelled target-train images (ref_energy, ref_labels),
the in-distribution reference the 'stratified' rule thresholds against, the class
names and the pool digest the scores belong to.

Streaming: each batch's logits are reduced to those four numbers at once (float64
inside the batch, float32 out), so memory is O(batch x classes) plus 20 bytes per
item (int64 label + three float32), never an N x C matrix.

Shards and resume: the pool's item range is cut into shards of --shard-size items
(default SHARD_BATCHES batches; independent of the number of processes). Each
finished shard is written atomically to the shard directory (default <out>.shards/)
as shard-NNNNNN.npz. A rerun, with the same or another number of processes, scores
only the shards not yet there; the shard being scored when a run dies is the only
work lost. The directory's meta.json records the teacher file's SHA-256, the pool
digest, T, shard size, batch size (a batch's composition can change float results)
and the compute kind (device type and autocast dtype, e.g. cpu/float32 or
cuda/bfloat16); a directory made with other values is refused, naming the field. When all
shards exist, rank 0 merges them into --out (deterministic npzio.save_npz: the same
bytes as one uninterrupted process) and removes the shard directory unless
--keep-shards. --merge-only merges without scoring (it fails if shards are missing).
Timing goes to a sidecar <out>.run.json, never into the scores file; the shard
directory's log.jsonl records which run and rank scored each shard.

torchrun: gloo on CPU, nccl on GPU. Rank 0 checks meta.json and lists the finished
shards once, then broadcasts the to-do list (ranks listing the directory themselves
could see different sets); rank r scores to-do shards r, r + world, ... No logits or
scores cross processes: the merge reads the shard files.

Usage:  python -m reference_pipeline.score_pool --teacher teacher.pt --pool broad --out scores.npz
        torchrun --nproc-per-node 2 -m reference_pipeline.score_pool --teacher teacher.pt --out scores.npz
        (killed? run the same command again: finished shards are kept)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import common
from .data import PoolDataset, default_workers, make_loader
from .npzio import save_npz
from .pools import open_pool
from .train_teacher import load_teacher

# -----------------------------------------------------------------------------
# knobs

TEMPERATURE = 1.0       # T of the energy and entropy (the paper's Eq. 5 has none, i.e. T = 1)
BATCH_SIZE = 1024       # images per forward pass
SHARD_BATCHES = 64      # default shard = 64 batches (65,536 items at batch 1024: ~217 shards for ImageNet-21K)
DIST_TIMEOUT_S = 4 * 3600   # torchrun collectives: ranks wait at the end for the slowest one's last shard

SCORE_KEYS = ("labels", "energy", "entropy", "margin")   # the per-item arrays, in file order
META_FIELDS = ("teacher_sha256", "pool_digest", "pool_size", "T", "shard_size", "batch_size", "compute")


def energy_entropy(logits: np.ndarray, T: float = TEMPERATURE):
    """(labels, energy, entropy) from float logits; float64 internally, float32 out."""
    z = np.asarray(logits, np.float64) / T
    m = z.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
    logp = z - lse[:, None]
    entropy = -(np.exp(logp) * logp).sum(1)
    return logits.argmax(1).astype(np.int64), (-T * lse).astype(np.float32), entropy.astype(np.float32)


def reduce_logits(logits: np.ndarray, T: float = TEMPERATURE) -> dict:
    """One batch's (B, C) float32 logits -> the SCORE_KEYS arrays of B items.

    Row by row the same arithmetic as energy_entropy on the full matrix, so the
    streamed scores equal the full-matrix ones bit for bit.
    """
    labels, energy, entropy = energy_entropy(logits, T)
    top2 = np.partition(logits, -2, axis=1)[:, -2:]
    return dict(labels=labels, energy=energy, entropy=entropy, margin=(top2[:, 1] - top2[:, 0]).astype(np.float32))


# -----------------------------------------------------------------------------
# processes

def _dist(device: str | None):
    """(rank, world, distributed?, device) from torchrun's environment."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1, False, device or common.default_device()
    import datetime

    import torch
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", os.environ["RANK"]))
    device = device or common.default_device()
    if device == "cuda":
        device = f"cuda:{local}"
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))  # nccl's object broadcast uses the current device
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo",
                                timeout=datetime.timedelta(seconds=DIST_TIMEOUT_S))
    return dist.get_rank(), dist.get_world_size(), True, device


def _broadcast(obj, distributed: bool):
    if not distributed:
        return obj
    import torch.distributed as dist

    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _barrier(distributed: bool):
    if distributed:
        import torch.distributed as dist

        dist.barrier()


# -----------------------------------------------------------------------------
# the shard directory

def default_shard_dir(out) -> Path:
    return Path(str(out) + ".shards")


def shard_path(shard_dir: Path, k: int) -> Path:
    return Path(shard_dir) / f"shard-{k:06d}.npz"


def check_shard_dir(shard_dir: Path, meta: dict) -> None:
    """Create shard_dir with meta.json, or refuse one whose meta.json differs from `meta`."""
    f = Path(shard_dir) / "meta.json"
    if not f.is_file():
        common.write_json(f, meta)
        return
    have = json.loads(f.read_text())
    for key in META_FIELDS:
        if have.get(key) != meta[key]:
            raise common.PipelineError(
                f"shard directory {shard_dir} belongs to another scoring run: {key} expected {meta[key]!r} "
                f"(this run), got {have.get(key)!r} (meta.json); use another --shard-dir or delete that one")


def _plan(shard_dir: Path, meta: dict, n_shards: int, merge_only: bool) -> list:
    """Rank 0: the shards still to score (refuses a foreign shard directory)."""
    check_shard_dir(shard_dir, meta)
    todo = [k for k in range(n_shards) if not shard_path(shard_dir, k).is_file()]
    if merge_only and todo:
        raise common.PipelineError(f"--merge-only: {len(todo)} of {n_shards} shards are not finished in {shard_dir} "
                                   f"(first missing: {todo[:5]}); run without --merge-only to score them")
    return todo


def merge_shards(shard_dir: Path, n: int, shard_size: int) -> dict:
    """The SCORE_KEYS arrays of all n items, read back from the shard files."""
    res = dict(labels=np.empty(n, np.int64), energy=np.empty(n, np.float32), entropy=np.empty(n, np.float32),
               margin=np.empty(n, np.float32))
    for k, lo in enumerate(range(0, n, shard_size)):
        hi = min(lo + shard_size, n)
        with np.load(shard_path(shard_dir, k)) as z:
            for key in SCORE_KEYS:
                a = z[key]
                if a.shape != (hi - lo,):
                    raise common.PipelineError(f"{shard_path(shard_dir, k)}: {key} expected {hi - lo} items, "
                                               f"got shape {a.shape}")
                res[key][lo:hi] = a
    return res


def _remove_shard_dir(shard_dir: Path, n_shards: int) -> None:
    """Delete only what scoring wrote (the directory may have been given by the user)."""
    d = Path(shard_dir)
    for p in [shard_path(d, k) for k in range(n_shards)] + [d / "meta.json", d / "log.jsonl"]:
        p.unlink(missing_ok=True)
    for p in d.glob(".shard-*.npz.tmp*"):  # left by a killed writer
        p.unlink(missing_ok=True)
    try:
        d.rmdir()
    except OSError:
        pass  # not empty: something else lives there


# -----------------------------------------------------------------------------
# scoring

def _score_shards(net, ckpt, pool, shards, *, shard_size, batch_size, T, device, dtype, workers, shard_dir, log,
                  verbose):
    """Score the given shards in order; each is written the moment its last batch is reduced."""
    import torch
    from tqdm import tqdm

    n = len(pool)
    span = {k: (k * shard_size, min((k + 1) * shard_size, n)) for k in shards}
    # fixed batch boundaries (multiples of batch_size from the shard start, itself a multiple):
    # every process count and worker count feeds the net exactly the same batches
    batches = [range(s, min(s + batch_size, span[k][1])) for k in shards for s in range(span[k][0], span[k][1], batch_size)]
    if not batches:
        return
    loader = make_loader(PoolDataset(pool), batch_size=batch_size, batch_sampler=batches, workers=workers, device=device)
    parts, t0 = [], time.time()
    # the forward recipe of common.predict_logits (memory format, autocast), so that scores equal
    # the teacher's logits anywhere else in the pipeline (tests/test_pipeline_scoring.py checks it)
    if common.CHANNELS_LAST:
        net.to(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast(device_type=torch.device(device).type, dtype=dtype,
                                                enabled=dtype is not None):
        for x, j in tqdm(loader, total=len(batches), desc="score", unit="batch", disable=not verbose):
            x = common.to_input(x, ckpt["img_size"], device, ckpt["mean"], ckpt["std"], ckpt["in_chans"])
            if common.CHANNELS_LAST:
                x = x.contiguous(memory_format=torch.channels_last)
            logits = net(x).float().cpu().numpy()
            bad = ~np.isfinite(logits).all(1)
            if bad.any():
                i = int(j[np.flatnonzero(bad)[0]])
                raise common.PipelineError(f"teacher gave non-finite logits for pool item {i} {pool.names[i]!r}")
            parts.append(reduce_logits(logits, T))
            k = int(j[0]) // shard_size
            if int(j[-1]) + 1 == span[k][1]:  # the shard's last batch: write it now
                save_npz(shard_path(shard_dir, k), **{key: np.concatenate([p[key] for p in parts]) for key in SCORE_KEYS})
                log(k, span[k][1] - span[k][0], time.time() - t0)
                parts, t0 = [], time.time()


def score_pool(teacher: str, pool_spec: str, out: str, *, T: float = TEMPERATURE, batch_size: int = BATCH_SIZE,
               shard_size: int | None = None, shard_dir=None, workers: int | None = None, merge_only: bool = False,
               keep_shards: bool = False, amp: str = "auto", cache_dir=common.DEFAULT_CACHE,
               device: str | None = None, verbose: bool = True, pool=None) -> dict:
    """Score (or finish scoring) the pool into `out`; returns the scores as a dict of arrays."""
    t_start = time.time()
    rank, world, distributed, device = _dist(device)
    torch = common.setup_torch(threads=None if not distributed else max(1, (os.cpu_count() or 1) // world))
    shard_size = SHARD_BATCHES * batch_size if shard_size is None else int(shard_size)
    if not T > 0:
        raise common.PipelineError(f"temperature T must be > 0, got {T}")
    if batch_size < 1 or shard_size < 1 or shard_size % batch_size:
        raise common.PipelineError(f"shard size expected a positive multiple of the batch size {batch_size}, "
                                   f"got {shard_size}")
    if workers is None:
        workers = default_workers() // world  # torchrun ranks share the cores
    shard_dir = default_shard_dir(out) if shard_dir is None else Path(shard_dir)
    net, ckpt = load_teacher(teacher, device)
    if pool is None:  # ImageFolder items are decoded straight to the teacher's input size and channels
        pool = open_pool(pool_spec, cache_dir, folder_size=ckpt["img_size"],
                         folder_mode="L" if ckpt["in_chans"] == 1 else "RGB")
    if ckpt["num_classes"] < 2:
        raise common.PipelineError(f"teacher has {ckpt['num_classes']} classes; expected at least 2 (margin needs two)")
    n = len(pool)
    n_shards = (n + shard_size - 1) // shard_size
    dtype = common.amp_dtype(device, amp)
    meta = dict(teacher_sha256=common.sha256_file(teacher), pool_digest=pool.digest().hex(), pool_size=n, T=float(T),
                shard_size=shard_size, batch_size=batch_size,
                compute=f"{torch.device(device).type}/{str(dtype or torch.float32).removeprefix('torch.')}")

    plan = None
    if rank == 0:
        try:
            # the run's name in log.jsonl: time and pid alone repeat when one process scores twice in a second
            run = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}"
            plan = dict(todo=_plan(shard_dir, meta, n_shards, merge_only), run=run)
        except common.PipelineError as exc:
            plan = dict(error=str(exc))
    plan = _broadcast(plan, distributed)  # every rank gets the same list (or the same error)
    if "error" in plan:
        raise common.PipelineError(plan["error"])
    mine = plan["todo"][rank::world]
    if verbose:
        print(f"rank {rank}/{world}: {len(plan['todo'])} of {n_shards} shards to score, this rank: {mine}", flush=True)

    def log(k, items, seconds):
        line = json.dumps(dict(run=plan["run"], rank=rank, world=world, shard=k, items=items, seconds=round(seconds, 3)))
        with open(shard_dir / "log.jsonl", "a") as f:  # one short O_APPEND write: lines from ranks never interleave
            f.write(line + "\n")

    _score_shards(net, ckpt, pool, mine, shard_size=shard_size, batch_size=batch_size, T=T, device=device,
                  dtype=dtype, workers=workers, shard_dir=shard_dir, log=log, verbose=verbose and rank == 0)
    _barrier(distributed)

    res = None
    if rank == 0:
        res = merge_shards(shard_dir, n, shard_size)
        _, ref_energy, _ = energy_entropy(np.asarray(ckpt["calib_logits"], np.float32), T)
        res.update(T=np.float64(T), num_classes=np.int64(ckpt["num_classes"]), ref_energy=ref_energy,
                   ref_labels=np.asarray(ckpt["calib_labels"], np.int64),
                   pool_digest=np.frombuffer(pool.digest(), np.uint8), pool_spec=np.str_(pool_spec),
                   teacher_acc=np.float64(ckpt["teacher_acc"]), classes=np.array([str(c) for c in ckpt["classes"]]))
        save_npz(out, **res)
        runs = []
        if (shard_dir / "log.jsonl").is_file():
            runs = [json.loads(line) for line in (shard_dir / "log.jsonl").read_text().splitlines()]
        common.write_json(Path(str(out) + ".run.json"), dict(
            out=str(out), items=n, shards=n_shards, world=world, run=plan["run"], seconds=round(time.time() - t_start, 3),
            scored_this_run=sorted(r["shard"] for r in runs if r["run"] == plan["run"]), shard_log=runs))
        if not keep_shards:
            _remove_shard_dir(shard_dir, n_shards)
        if verbose:
            print(f"scored {n} items ({len(plan['todo'])} of {n_shards} shards this run) in "
                  f"{time.time() - t_start:.0f}s on {world} process(es) -> {out}", flush=True)
    _barrier(distributed)
    return res if res is not None else dict(np.load(out))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.score_pool", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--teacher", required=True, help="checkpoint from train_teacher")
    ap.add_argument("--pool", default="broad", help="pool spec (see reference_pipeline.pools)")
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE))
    ap.add_argument("--temperature", "-T", type=float, default=TEMPERATURE)
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    ap.add_argument("--shard-size", type=int, help=f"items per shard, a multiple of --batch-size "
                                                   f"(default {SHARD_BATCHES} batches)")
    ap.add_argument("--shard-dir", help="where finished shards are kept until the merge (default <out>.shards)")
    ap.add_argument("--workers", type=int, help=f"data-loading processes per rank (default {default_workers()} "
                                                "divided by the number of ranks; 0 = decode in-process)")
    ap.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"),
                    help="autocast (common.amp_dtype): auto = bfloat16 on CUDA, float32 on the CPU")
    ap.add_argument("--merge-only", action="store_true", help="merge finished shards into --out; score nothing")
    ap.add_argument("--keep-shards", action="store_true", help="keep the shard directory after the merge")
    ap.add_argument("--out", required=True, help="scores .npz to write")
    a = ap.parse_args(argv)
    score_pool(a.teacher, a.pool, a.out, T=a.temperature, batch_size=a.batch_size, shard_size=a.shard_size,
               shard_dir=a.shard_dir, workers=a.workers, merge_only=a.merge_only, keep_shards=a.keep_shards,
               amp=a.amp, cache_dir=a.cache)
    if "RANK" in os.environ:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
