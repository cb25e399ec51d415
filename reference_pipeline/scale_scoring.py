"""Scoring at scale: the figures of one run (memory, resume under torchrun, ImageFolder throughput).

memory   Synthetic uint8 npy pools (28x28, seeded random pixels) of --sizes items, one
         random (untrained) plada_cnn teacher with C = 1000 outputs, saved the way the
         pipeline saves checkpoints (common.save_checkpoint), that resizes its input to
         IMG_SIZE = 14 px (the same net at 28 px scores ~1,100 items/s here: 1M items
         would take 15 minutes; memory does not depend on it). Each size is scored by `python -m reference_pipeline.score_pool`
         in a child process with --workers 0 (so the child is the only process reading the
         pool). A sampler reads /proc/<pid>/status every 20 ms: peak RSS = the child's
         VmHWM (the kernel's high-water mark of its resident memory, file-backed pages
         included), and the peaks of RssAnon (anonymous memory) and RssFile. Growth per
         100k items = the slope of peak RSS and of peak RssAnon between the smallest and
         largest size, next to the pool file's.
         Targets: peak RSS <= 1.5 GB + pool file size at 1M items; growth <= 5 MB / 100k.
resume   torchrun --nproc-per-node 2 scores an npy pool into shards; once --kill-after
         shards are finished, rank 1 gets SIGKILL (torchrun then stops rank 0). The same
         command runs again. The final scores.npz must be byte-identical to one
         uninterrupted single-process run, and no shard finished by the first run may be
         scored again (the shard directory's log.jsonl says which run and rank scored each).
folder   --folder-items items of the `broad` pool written as JPEGs (upscaled to FOLDER_PX px
         RGB so decoding costs something) into 100 class-like subfolders, opened as an
         ImageFolder pool at 28 px grey. Scored with --workers 0 (decoding in the main loop)
         and with 1 and 2 worker processes; the scores files must be byte-identical. Also: the
         first open (hash + verify every file) against a later open (manifest cache: stat only).

Timings depend on the machine and its load; the memory figures do not.

Usage:  python -m reference_pipeline.scale_scoring --work /tmp/scale
        python -m reference_pipeline.scale_scoring --parts memory --sizes 100000,300000,1000000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from . import common

# -----------------------------------------------------------------------------
# knobs

SIZES = (100_000, 300_000, 1_000_000)   # items in the memory runs
CLASSES = 1000          # teacher outputs (ImageNet-1k sized head; the setting)
MODEL = "plada_cnn"     # the pipeline's small CNN
IMG_SIZE = 14           # px the teacher sees (pools are 28 px): 5x fewer FLOPs, so 1M items fit a 2-core CPU
BATCH_SIZE = 1024
SHARD_SIZE = 16_384     # 16 batches: the resume run has enough shards to kill midway
RESUME_ITEMS = 200_000
KILL_AFTER = 4          # finished shards before rank 1 is killed
FOLDER_ITEMS = 20_000
FOLDER_PX = 256         # JPEG side (ImageNet photos are ~400 px): decoding costs what it costs at scale
SEED = 0
# the child processes run this package's score_pool, in the repo (reference_pipeline) or
# installed (pladafmt.pipeline): the directory that holds the top-level package goes on PYTHONPATH
ROOT = Path(__file__).resolve().parents[len(__package__.split("."))]
SCORE_MODULE = f"{__package__}.score_pool"


def make_teacher(path: Path, classes: int = CLASSES, model: str = MODEL, img_size: int = IMG_SIZE) -> Path:
    """A random (untrained) teacher checkpoint with `classes` outputs, in train_teacher's format."""
    common.setup_torch(seed=SEED)
    net = common.create_model(model, classes, 1).eval()
    calib = np.random.default_rng(SEED).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    logits = common.predict_logits(net, calib, img_size=img_size, batch_size=256, device="cpu")
    ckpt = dict(model_name=model, num_classes=classes, in_chans=1, img_size=img_size, mean=(0.5,), std=(0.5,),
                classes=tuple(f"class{c:04d}" for c in range(classes)), task="synthetic", teacher_acc=float("nan"),
                calib_logits=logits, calib_labels=logits.argmax(1).astype(np.int64),
                state_dict={k: v.cpu() for k, v in net.state_dict().items()})
    common.save_checkpoint(path, ckpt)
    return path


def npy_pool(path: Path, n: int) -> Path:
    if not path.is_file():
        rng = np.random.default_rng(SEED)
        a = np.lib.format.open_memmap(path.with_suffix(".tmp.npy"), mode="w+", dtype=np.uint8, shape=(n, 28, 28))
        for s in range(0, n, 100_000):  # in chunks: the generator itself stays small
            a[s:s + 100_000] = rng.integers(0, 256, (min(100_000, n - s), 28, 28), dtype=np.uint8)
        a.flush()
        del a
        os.replace(path.with_suffix(".tmp.npy"), path)
    return path


def _env(threads: int | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if threads:
        env["PLADA_THREADS"] = str(threads)
    return env


def score_cmd(teacher, spec, out, *extra) -> list:
    return [sys.executable, "-m", SCORE_MODULE, "--teacher", str(teacher), "--pool", spec,
            "--batch-size", str(BATCH_SIZE), "--out", str(out), *extra]


def run_measured(cmd, env, log: Path) -> dict:
    """Run cmd; its peak RSS (VmHWM) and peak RssAnon/RssFile, sampled from /proc, in bytes.

    Not wait4's ru_maxrss: Linux carries the high-water mark of the process image that
    exec replaced into it, so a child forked from this (large, torch-importing) script
    reported this script's RSS, not its own (1.71 GB against 1.00 GB under /usr/bin/time
    for the same 1 M-item run). VmHWM is monotonic, so its last sample, at most one
    sampling period before the exit, is the peak.

    Output goes to the file `log`, not a pipe: nobody reads a pipe until the child exits,
    and a full one would block the child's progress bar forever.
    """
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
    peak = dict(VmHWM=0, RssAnon=0, RssFile=0)
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    key, _, val = line.partition(":")
                    if key in peak:
                        peak[key] = max(peak[key], int(val.split()[0]) * 1024)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
            done.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t0 = time.time()
    t.start()
    _, status, _ = os.wait4(proc.pid, 0)
    done.set()
    t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise common.PipelineError(f"{' '.join(cmd)} failed ({proc.returncode}): {log.read_text()[-2000:]}")
    return dict(maxrss=peak.pop("VmHWM"), seconds=time.time() - t0, **peak)


# -----------------------------------------------------------------------------

def part_memory(work: Path, teacher: Path, sizes) -> None:
    print(f"== memory: npy pools 28x28 uint8, C = {CLASSES}, {MODEL} random teacher at {IMG_SIZE} px, batch {BATCH_SIZE}, "
          f"--workers 0, one process")
    print(f"{'items':>10} {'pool file':>10} {'peak RSS':>10} {'RSS-pool':>10} {'peak anon':>10} {'peak file':>10} "
          f"{'seconds':>8} {'items/s':>8}")
    rows = []
    for n in sizes:
        pool = npy_pool(work / f"pool-{n}.npy", n)
        out = work / f"mem-{n}.npz"
        m = run_measured(score_cmd(teacher, f"npy:{pool}", out, "--workers", "0"), _env(), work / f"mem-{n}.log")
        size = pool.stat().st_size
        rows.append((n, size, m))
        mb = lambda b: f"{b / 1e6:9.1f}M"  # noqa: E731
        print(f"{n:>10,} {mb(size)} {mb(m['maxrss'])} {mb(m['maxrss'] - size)} {mb(m['RssAnon'])} {mb(m['RssFile'])} "
              f"{m['seconds']:8.1f} {n / m['seconds']:8.0f}", flush=True)
        out.unlink()
    (n0, s0, m0), (n1, s1, m1) = rows[0], rows[-1]
    if n1 > n0:
        per = (n1 - n0) / 100_000
        growth, anon, pool = (m1["maxrss"] - m0["maxrss"]) / per, (m1["RssAnon"] - m0["RssAnon"]) / per, (s1 - s0) / per
        # the pool is read with pread (Pool.rows), so its pages need not stay in the process at all
        print(f"growth per 100k items, {n0:,} -> {n1:,}: peak RSS {growth / 1e6:+.2f} MB, peak RssAnon "
              f"{anon / 1e6:+.2f} MB, pool file {pool / 1e6:+.2f} MB (target: <= 5 MB beyond the pool's bytes)")
    print(f"at {n1:,}: peak RSS {m1['maxrss'] / 1e9:.3f} GB = pool file {s1 / 1e9:.3f} GB + "
          f"{(m1['maxrss'] - s1) / 1e9:.3f} GB (target <= 1.5 GB + pool file)")


def _children(pid: int) -> list:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _rank_pid(torchrun_pid: int, rank: int) -> int | None:
    """The pid of the torchrun worker process with RANK=rank (searching its process tree)."""
    todo = _children(torchrun_pid)
    while todo:
        pid = todo.pop()
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if f"RANK={rank}".encode() in env and b"TORCHELASTIC_RUN_ID" in b"\0".join(env):
                return pid
            todo += _children(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return None


def part_resume(work: Path, teacher: Path, n: int, kill_after: int) -> None:
    print(f"\n== resume: torchrun --nproc-per-node 2, npy pool of {n:,} items, shards of {SHARD_SIZE:,} "
          f"({-(-n // SHARD_SIZE)} shards), SIGKILL rank 1 after {kill_after} finished shards, then rerun")
    pool = f"npy:{npy_pool(work / f'pool-{n}.npy', n)}"
    one, two = work / "resume-one.npz", work / "resume-two.npz"
    shards = Path(str(two) + ".shards")
    for p in (one, two):
        p.unlink(missing_ok=True)
    if shards.exists():
        for p in shards.iterdir():
            p.unlink()
        shards.rmdir()
    t0 = time.time()
    subprocess.run(score_cmd(teacher, pool, one, "--shard-size", str(SHARD_SIZE), "--workers", "0"), env=_env(),
                   check=True, capture_output=True)
    print(f"uninterrupted single process: {time.time() - t0:.1f}s")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           *score_cmd(teacher, pool, two, "--shard-size", str(SHARD_SIZE), "--workers", "0", "--keep-shards")[1:]]
    t0 = time.time()
    log1 = open(work / "resume-run1.log", "w")
    proc = subprocess.Popen(cmd, env=_env(), stdout=log1, stderr=subprocess.STDOUT)
    killed = None
    while proc.poll() is None:
        finished = len(list(shards.glob("shard-*.npz"))) if shards.is_dir() else 0
        if killed is None and finished >= kill_after:
            killed = _rank_pid(proc.pid, 1)
            if killed:
                os.kill(killed, signal.SIGKILL)
                print(f"run 1: SIGKILL rank 1 (pid {killed}) after {time.time() - t0:.1f}s, "
                      f"{finished} shard files present")
        time.sleep(0.05)
    log1.close()
    print(f"run 1: torchrun exit code {proc.returncode} ({time.time() - t0:.1f}s)")
    if killed is None:
        raise common.PipelineError(f"run 1 ended before {kill_after} shards were finished: "
                                   f"{(work / 'resume-run1.log').read_text()[-2000:]}")
    t0 = time.time()
    rerun = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    if rerun.returncode:
        raise common.PipelineError(f"run 2 failed: {rerun.stderr[-2000:]}")
    print(f"run 2: torchrun exit code 0 ({time.time() - t0:.1f}s)")
    log = [json.loads(line) for line in (shards / "log.jsonl").read_text().splitlines()]
    runs = []
    for r in log:
        if not runs or runs[-1][0] != r["run"]:
            runs.append((r["run"], {}))
        runs[-1][1].setdefault(r["rank"], []).append(r["shard"])
    for i, (run, by_rank) in enumerate(runs, 1):
        print(f"run {i} ({run}) finished shards: " + "; ".join(f"rank {k}: {v}" for k, v in sorted(by_rank.items())))
    # run 1 started from an empty directory, so rank r had shards r, r + 2, ...; the first of
    # those it had not finished was in flight when the kill came (lost, so scored again)
    n_shards = -(-n // SHARD_SIZE)
    in_flight = [next((s for s in range(r, n_shards, 2) if s not in runs[0][1].get(r, [])), None) for r in (0, 1)]
    print(f"in flight at the kill (rank 0, rank 1): {in_flight}")
    first = {s for v in runs[0][1].values() for s in v}
    later = [s for _, by_rank in runs[1:] for v in by_rank.values() for s in v]
    twice = sorted(first & set(later))
    print(f"shards finished by run 1 and scored again later: {twice or 'none'}; "
          f"every shard finished exactly once: {sorted(first | set(later)) == list(range(n_shards)) and len(later) == len(set(later))}")
    same = one.read_bytes() == two.read_bytes()
    print(f"scores.npz after kill + rerun byte-identical to the uninterrupted single process: {same} "
          f"({two.stat().st_size:,} bytes)")
    if not same or twice:
        raise common.PipelineError("resume check failed")


def part_folder(work: Path, teacher: Path, n: int) -> None:
    from .data import default_workers
    from .pools import folder_pool
    from .synth_folder import write_folder

    root = work / f"folder-{n}"
    print(f"\n== folder: ImageFolder of {n:,} JPEGs ({FOLDER_PX} px RGB, from pool broad), scored at 28 px grey")
    write_folder(root, n, FOLDER_PX, cache_dir=work / "cache")  # keeps the files an earlier run wrote
    cache = work / "folder-cache"
    for p in cache.glob("manifests/*.npz"):
        p.unlink()
    t0 = time.time()
    pool = folder_pool(root, folder_size=28, folder_mode="L", cache_dir=cache)
    t1 = time.time()
    pool = folder_pool(root, folder_size=28, folder_mode="L", cache_dir=cache)
    t2 = time.time()
    per_item = (pool.names.buf.nbytes + pool.names.ends.nbytes + pool.sha256.nbytes) / len(pool)
    print(f"open: first {t1 - t0:.1f}s (hash + verify {len(pool):,} files), again {t2 - t1:.2f}s (manifest cache: "
          f"stat only); Pool in RAM {per_item:.1f} bytes/item (names + offsets + SHA-256)")
    spec = f"folder:{root}"
    # score_pool opens folder pools at 224 px RGB by default; run in-process to pass the pool
    from .score_pool import score_pool

    outs = {}
    for workers in (0, 1, 2):
        out = work / f"folder-w{workers}.npz"
        t0 = time.time()
        score_pool(str(teacher), spec, str(out), batch_size=256, workers=workers, verbose=False, pool=pool)
        outs[workers] = (time.time() - t0, out)
        print(f"--workers {workers}: {time.time() - t0:.1f}s, {n / (time.time() - t0):.0f} items/s", flush=True)
    ts, serial = outs[0]
    for workers in (1, 2):
        tw, par = outs[workers]
        print(f"throughput ratio --workers {workers} / --workers 0: x{ts / tw:.2f}; scores byte-identical: "
              f"{serial.read_bytes() == par.read_bytes()}")
    print(f"(os.cpu_count() = {os.cpu_count()}; the default, data.default_workers(), is {default_workers()})")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.scale_scoring", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--work", default="/tmp/plada-scale-scoring", help="scratch directory (pools, teacher, outputs)")
    ap.add_argument("--parts", default="memory,resume,folder", help="comma list of memory, resume, folder")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="items per memory run, comma separated")
    ap.add_argument("--resume-items", type=int, default=RESUME_ITEMS)
    ap.add_argument("--kill-after", type=int, default=KILL_AFTER)
    ap.add_argument("--folder-items", type=int, default=FOLDER_ITEMS)
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    teacher = make_teacher(work / f"teacher-c{CLASSES}-{IMG_SIZE}px.pt")
    parts = a.parts.split(",")
    if "memory" in parts:
        part_memory(work, teacher, [int(v) for v in a.sizes.split(",")])
    if "resume" in parts:
        part_resume(work, teacher, a.resume_items, a.kill_after)
    if "folder" in parts:
        part_folder(work, teacher, a.folder_items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
