"""The benchmark's contender table for one selection of your own (issue #15, item 8).

    python -m benchmarks.run --selection keep.npz --pool-size 14197122
    python -m benchmarks.run --selection idx.npy --labels lab.npy --pool-size N [--num-classes C]

The selection is read as `plada encode` reads its inputs (pladafmt.cli's reader): an .npz
with arrays `indices` and `labels` (what `reference_pipeline.selection` and
`plada decode -o OUT.npz` write), a .csv with columns `index` and `label` under a header
row (what `plada decode -o OUT.csv` writes), or, with --labels FILE, indices and labels in
two files of any format `plada encode` takes (.npy, .npz, .csv, text).  C is --num-classes,
else max(label) + 1 (as `plada encode`).  Every contender of the benchmark then runs on
that selection alone through `benchmarks.run.run_case` (round trip verified first), and the
contender table of RESULTS.md is printed: bytes, bits per item, x bound,
x the paper's best format, encode and decode time.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import report
from . import workloads as W

REPEATS = 1   # timed runs after the verify run: one keeps 1 % of IN-21K to seconds


class SelectionError(ValueError):
    """A selection file or option that cannot be measured (the message names it)."""


@dataclass(frozen=True)
class Selection(W.Workload):
    """A user's selection as a benchmark workload: generate() returns its arrays."""
    arrays: tuple = field(default=(), compare=False, repr=False)

    @property
    def k(self) -> int:
        return int(self.arrays[0].size)

    @property
    def group(self) -> str:
        return f"selection {self.pool}"

    def describe(self) -> dict:
        # not asdict(): that would deep-copy the arrays
        return {"family": "selection", "pool": self.pool, "n": self.n, "keep": self.keep,
                "classes": self.classes, "source": self.source, "name": self.name,
                "group": self.group, "k": self.k}

    def generate(self):
        return self.arrays


def _named_columns(path: str) -> set[str]:
    """Array names of an .npz, or the header of a .csv (lower case); empty if none."""
    if path.lower().endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as z:
                return set(z.files)
        except (OSError, ValueError) as exc:
            raise SelectionError(f"{path}: cannot read .npz file: {exc}") from None
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f), [])
    return {h.strip().lower() for h in header}


def read_selection(path: str, pool_size: int, labels_path: str | None = None,
                   num_classes: int | None = None):
    """(indices, labels, C) of a selection file, sorted by index and validated as
    `plada encode` validates them."""
    from pladafmt.cli import UsageError, _check_arrays, _read_int_array
    idx_names, lab_names = ("indices", "index"), ("labels", "label")
    if pool_size is None:
        raise SelectionError("--selection needs --pool-size N (the pool's item count)")
    if pool_size < 1:
        raise SelectionError(f"--pool-size: expected the pool's item count N >= 1, got {pool_size}")
    try:
        if labels_path is None:
            suffix = Path(path).suffix.lower()
            if suffix not in (".npz", ".csv"):
                raise SelectionError(
                    f"{path}: a {suffix or 'text'} file holds one array; give the labels with "
                    "--labels FILE, or use an .npz with arrays 'indices' and 'labels' or a "
                    ".csv with columns index,label")
            have = _named_columns(path)
            for what, names in (("indices", idx_names), ("labels", lab_names)):
                if not have & set(names):
                    raise SelectionError(
                        f"{path}: expected {'an array' if suffix == '.npz' else 'a column'} "
                        f"named {' or '.join(map(repr, names))} for the {what}, got "
                        f"{sorted(have) or 'none'} (or give the labels with --labels FILE)")
        idx = _read_int_array(path, idx_names)
        lab = _read_int_array(labels_path or path, lab_names)
        if idx.size == 0:
            raise SelectionError(f"{path}: expected at least one kept item, got none")
        if num_classes is None:
            num_classes = int(lab.max()) + 1
        elif num_classes < 1:
            raise SelectionError(f"--num-classes: expected C >= 1, got {num_classes}")
        idx, lab = _check_arrays(idx, lab, pool_size, num_classes)
    except UsageError as exc:
        raise SelectionError(str(exc)) from None
    except OSError as exc:
        raise SelectionError(f"cannot read {exc.filename or path}: {exc.strerror or exc}") from None
    return idx, lab, num_classes


def measure(idx, lab, n: int, c: int, *, name: str, source: str, timed: str = "full",
            repeats: int = REPEATS, log=lambda *_: None):
    """run_case (benchmarks.run) on one selection with every contender; returns the case."""
    from .run import all_contenders, run_case
    cons = all_contenders()
    w = Selection("selection", name, n, idx.size / n, c, labels="selection", source=source,
                  arrays=(idx, lab))
    case, _ = run_case(w, cons, timed=timed, repeats=repeats, log=log)
    case["contenders"] = [x.name for x in cons]
    return case


def main(path: str, pool_size: int, *, labels_path=None, num_classes=None,
         repeats: int = REPEATS, size_only: bool = False, out=print) -> int:
    t0, cpu0 = time.perf_counter(), time.process_time()
    idx, lab, c = read_selection(path, pool_size, labels_path, num_classes)
    t_read = time.perf_counter() - t0
    case = measure(idx, lab, pool_size, c, name=os.path.basename(path),
                   source=path + (f" + {labels_path}" if labels_path else ""),
                   timed="size" if size_only else "full", repeats=repeats)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    k = case["k"]
    out(f"selection {case['workload']['source']}: N = {pool_size:,}, k = {k:,} "
        f"({100 * k / pool_size:.3g} % keep), C = {c:,}, H0(labels) = {case['h0_bits']:.3f} "
        f"bits, bound = log2 C(N,k) + k*H0 = {int(case['bound_bits'] / 8):,} B")
    out("\n".join(report.contender_table(case, case["contenders"]).splitlines()[1:-1]))  # no fence
    timing = ("sizes and round trips only (--size-only)" if size_only else
              f"enc/dec ms = median of {repeats} timed run(s) after the verify run (calls "
              "under 2 ms batched); dec x = (Zstd decompress + cumsum of the paper's Compact "
              "Idx) time / decode time, > 1 is faster; timings on a shared machine are noisy")
    out(f"x bound = size / (log2 C(N,k) + k*H0(labels)); x paper = size / min(paper Idx zstd "
        f"interleaved, separated, Bmp zstd) = size / {case.get('paper_best_bytes', 0):,} B; "
        f"`*` = best per column. {timing}.")
    out(f"{len(case['contenders'])} contenders, run time {wall:.1f} s (reading "
        f"{t_read:.1f} s), CPU time {cpu:.1f} s.")
    fails = [n for n, r in case["results"].items() if r.get("roundtrip_ok") is False]
    if fails:
        out("ROUND TRIP FAILURES: " + ", ".join(fails))
        return 1
    return 0

