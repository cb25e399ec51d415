"""Selection and payload building at ImageNet-21K scale: peak memory and time per stage.

Generates (or reuses) a synthetic 14,197,122-item scores file (synth_scores), then runs
`selection` for every rule and `build_payload` on its keep file, each as its own
process exactly as the stage CLIs run, and prints per stage and rule: the child's peak
RSS (its VmHWM, as scale_scoring.run_measured reads it), its wall time, k and the payload bytes.
Also printed: the scores file's bytes per pool item on disk and in RAM (its per-item
arrays fully loaded). The target is a peak of at most 2 GB per stage.

Memory figures are exact per process; wall times depend on the machine's load.

Usage:  python -m reference_pipeline.scale_selection [--scores in21k.npz] [--keeps 0.001 0.01 0.1]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

from .build_payload import npy_header
from .scale_scoring import run_measured
from .selection import RULES
from .synth_scores import IN21K_ITEMS

# -----------------------------------------------------------------------------
# knobs

KEEPS = (0.01,)             # the paper's headline keep rate; --keeps adds 0.001 / 0.1
CLASSES = 101               # Caltech-101's class count, one of the paper's tasks
TARGET_BYTES = 2 * 10**9    # peak RSS budget per stage


def run_stage(stage: str, *args) -> tuple[int, float]:
    """(peak RSS in bytes, wall seconds) of `python -m <this package>.<stage> <args>` in its own process.

    Measured as scale_scoring measures (the child's VmHWM sampled from /proc): wait4's
    ru_maxrss would include this process's own high-water mark, carried across exec.
    """
    # this package's own name: reference_pipeline in a checkout, pladafmt.pipeline when installed
    cmd = [sys.executable, "-m", f"{__package__}.{stage}", *map(str, args)]
    with tempfile.TemporaryDirectory() as tmp:
        m = run_measured(cmd, dict(os.environ), Path(tmp) / "stage.log")
    return m["maxrss"], m["seconds"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.scale_selection", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--scores", help="scores file to use; generated (synth_scores) if missing "
                                     "(default: a temporary file, removed afterwards)")
    ap.add_argument("--items", type=int, default=IN21K_ITEMS, help="when generating: pool size N")
    ap.add_argument("--classes", type=int, default=CLASSES, help="when generating: task classes C")
    ap.add_argument("--seed", type=int, default=0, help="when generating: the generator's seed")
    ap.add_argument("--keeps", type=float, nargs="+", default=KEEPS)
    ap.add_argument("--rules", nargs="+", default=RULES, choices=RULES)
    a = ap.parse_args(argv)

    print(f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}")
    row = "{:<14}{:<16}{:>7}{:>10}{:>13}{:>8}{:>11}".format
    worst = 0
    with tempfile.TemporaryDirectory(prefix="plada-scale-") as work:
        work = Path(work)
        scores = Path(a.scores) if a.scores else work / "scores.npz"
        made = not scores.is_file()
        if made:
            rss, wall = run_stage("synth_scores", "--items", a.items, "--classes", a.classes, "--seed", a.seed,
                                  "--out", scores)
        with np.load(scores) as f:
            names = f.files
        arrays = {name: npy_header(scores, name) for name in names}
        n = arrays["labels"][0][0]
        item_arrays = {name: dt for name, (shape, dt) in arrays.items() if shape == (n,)}
        disk = scores.stat().st_size
        print(f"# scores: {a.scores or 'a temporary file'} ({'generated' if made else 'reused'}), N = {n:,} items; "
              f"per item: {', '.join(f'{name} {dt}' for name, dt in item_arrays.items())}")
        print(f"# bytes per item: {disk / n:.2f} on disk (whole file, {disk / 1e6:.0f} MB), "
              f"{sum(dt.itemsize for dt in item_arrays.values())} in RAM (the per-item arrays, all loaded)")
        print(row("stage", "rule", "keep", "k", "peak RSS MB", "wall s", "payload B"))
        if made:
            print(row("synth_scores", "-", "-", "-", f"{rss / 1e6:.0f}", f"{wall:.2f}", "-"), flush=True)
            worst = rss
        for p in a.keeps:
            for rule in a.rules:
                keep, payload = work / f"keep-{rule}-{p}.npz", work / f"payload-{rule}-{p}.plada"
                rss, wall = run_stage("selection", "--scores", scores, "--rule", rule, "--keep", p, "--out", keep)
                with np.load(keep) as f:
                    k = len(f["indices"])
                print(row("selection", rule, f"{p:g}", k, f"{rss / 1e6:.0f}", f"{wall:.2f}", "-"), flush=True)
                rss2, wall = run_stage("build_payload", "--scores", scores, "--keep", keep, "--out", payload)
                print(row("build_payload", rule, f"{p:g}", k, f"{rss2 / 1e6:.0f}", f"{wall:.2f}",
                          payload.stat().st_size), flush=True)
                worst = max(worst, rss, rss2)
    print(f"# max peak RSS {worst / 1e6:.0f} MB: {'within' if worst <= TARGET_BYTES else 'OVER'} "
          f"the {TARGET_BYTES / 1e9:g} GB target; times are wall clock on a shared machine (noisy)")
    return 0 if worst <= TARGET_BYTES else 1

if __name__ == "__main__":
    sys.exit(main())
