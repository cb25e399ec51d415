"""Run the pladafmt benchmarks: sizes, speed, memory, CLI start-up.

    python -m benchmarks.run [--quick] [--out DIR]
    python -m benchmarks.run --selection FILE --pool-size N   # one selection's table only

Writes DIR/results/<date>-<machine>.json, DIR/RESULTS.md and DIR/size_vs_keep.png
(DIR defaults to benchmarks/; --quick defaults to benchmarks/_quick/).  Every case
verifies the round trip before anything is timed.  --quick asserts correctness only
(round trips, composed sizes, well-formed JSON), never timings.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import glob
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# The benchmarks measure the compiled kernels: without this, calls on small cases made
# before Numba is loaded run the kernels as Python (pladafmt/_jit.py), and the first-call
# and compile-time figures would time that path. Child processes inherit it.
os.environ.setdefault("PLADAFMT_JIT_ALWAYS", "1")

from . import contenders as C  # noqa: E402  (after the environment it reads)
from . import workloads as W  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCHEMA = "pladafmt-bench/1"
REPEATS = 5                # timed runs per case (median), after the verify run as warm-up
TIMING_MAX_K = 1_500_000   # larger cases are measured for size only (Zstd-19 encodes of
#                            several MB take 5-40 s each; see README "Matrix")
ENCODE_TIMING_MAX_K = 200_000   # encode timing (6 Zstd-19/xz-9 encodes per contender) only
#                                  up to here: IN-21K <= 1 %, IN-1K <= 10 %
TIMING_MIN_S = 0.002       # very fast calls are repeated inside one timed run


# ----------------------------------------------------------------------- environment
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ver(mod: str) -> str | None:
    try:
        m = __import__(mod)
        return getattr(m, "__version__", "unknown")
    except Exception:  # noqa: BLE001
        return None


def _crc_impl() -> str:
    try:
        from pladafmt._crc import IMPLEMENTATION
    except Exception:  # noqa: BLE001
        return "unknown"
    return f"{IMPLEMENTATION} {_ver(IMPLEMENTATION) or ''}".strip()


def _git(*args) -> str:
    p = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else "unknown"


def environment() -> dict:
    import zstandard
    return {
        "machine": socket.gethostname(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": _ver("numba"),
        "zstandard": zstandard.__version__,
        "zstd_library": ".".join(map(str, zstandard.ZSTD_VERSION)),
        "pyroaring": _ver("pyroaring"),
        "pladafmt": _ver("pladafmt"),
        "crc32": _crc_impl(),
        # helpers may edit the codec in a working tree: say which code was measured
        "commit": _git("rev-parse", "--short", "HEAD"),
        "pladafmt_uncommitted": _git("status", "--porcelain", "--", "pladafmt") != "",
        "zstd_level": C.ZSTD_LEVEL,
        "xz_preset": 9,
    }


def _machine_tag(env: dict) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", env["machine"])[:40] or "machine"


# ------------------------------------------------------------------------- timing
def _time_call(fn, repeats: int, one: float) -> float:
    """Median seconds per call over `repeats` timed runs; `one` is the duration of the
    untimed warm-up call already made (fast calls are batched to >= TIMING_MIN_S)."""
    inner = max(1, min(1000, int(TIMING_MIN_S / max(one, 1e-7))))
    times = []
    for _ in range(repeats):
        gc.disable()
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
        gc.enable()
    return statistics.median(times)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(np.asarray(a, np.int64),
                                                      np.asarray(b, np.int64)))


# ------------------------------------------------------------------------ contenders
def all_contenders() -> list:
    return C.pladafmt_contenders() + C.baseline_contenders()


def jit_warmup(cons) -> dict:
    """First call vs warm call on a tiny case, in this process (Numba may load its cache)."""
    w = W.Workload("uniform", "60K", W.N_MNIST, 0.01, 10, "uniform", seed=99)
    idx, lab = w.generate()
    out = {}
    for c in cons:
        r = {}
        t0 = time.perf_counter(); b = c.encode(idx, lab, w.n, w.classes)
        r["encode_first_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter(); c.encode(idx, lab, w.n, w.classes)
        r["encode_warm_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter(); c.decode(b, w.n, w.classes)
        r["decode_first_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter(); c.decode(b, w.n, w.classes)
        r["decode_warm_ms"] = (time.perf_counter() - t0) * 1e3
        out[c.name] = r
    return out


JIT_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import pladafmt
t_import = time.perf_counter() - t0
from benchmarks import contenders as C, workloads as W
w = W.Workload("uniform", "60K", W.N_MNIST, 0.01, 10, "uniform", seed=99)
idx, lab = w.generate()
res = {"import_pladafmt_ms": t_import * 1e3}
for m in pladafmt.INDEX_MODES:
    t0 = time.perf_counter(); b = pladafmt.encode(idx, lab, pool_size=w.n, classes=10, index_mode=m, label_mode="packed")
    t1 = time.perf_counter(); pladafmt.decode(b); t2 = time.perf_counter()
    res["index " + m] = [(t1 - t0) * 1e3, (t2 - t1) * 1e3]
for m in pladafmt.LABEL_MODES:
    t0 = time.perf_counter(); b = pladafmt.encode(idx, lab, pool_size=w.n, classes=10, index_mode="varint", label_mode=m)
    t1 = time.perf_counter(); pladafmt.decode(b); t2 = time.perf_counter()
    res["label " + m] = [(t1 - t0) * 1e3, (t2 - t1) * 1e3]
t0 = time.perf_counter(); C.huffman_bytes_decode(C.huffman_bytes_encode(b"abcabd" * 10))
res["benchmarks huffman (enc+dec)"] = [(time.perf_counter() - t0) * 1e3, 0.0]
print(json.dumps(res))
"""


def numba_compile_times() -> dict:
    """First-call times in fresh processes: with an empty Numba cache (compile) and
    again with the cache it left (load).  The difference is the one-off compile cost."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT)
        for label in ("cold_cache", "warm_cache"):
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-c", JIT_CHILD], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                raise RuntimeError(f"Numba compile-time child ({label}) failed:\n"
                                   + p.stderr[-2000:])
            out[label] = {"process_wall_ms": wall * 1e3,
                          "first_calls_ms": json.loads(p.stdout.strip().splitlines()[-1])}
    return out


# ----------------------------------------------------------------------- decode speed
SPEED_PAIRS = 300


def speed_workloads() -> list:
    """The decode-speed targets' cases (issue #15), all at 1 % of IN-21K: uniform labels
    C = 10, 101, 1000; the three clustered regimes; the reference pipeline's rules on
    IN-21K-like scores."""
    n = W.N_IN21K
    return ([W.Workload("uniform", "IN-21K", n, 0.01, c, "uniform") for c in (10, 101, 1000)]
            + [W.Workload("clustered", "IN-21K", n, 0.01, 101, "block", r)
               for r in ("caltech", "tight", "loose")]
            + W.in21k_like_workloads(0.01))


def _paired(fa, fb, pairs: int):
    """Call fa and fb alternately (the order flips every pair); per side the sorted times,
    and the per-pair ratios time(fb) / time(fa)."""
    ta, tb = [], []
    gc.disable()
    try:
        for i in range(pairs):
            for f, ts in (((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))):
                t0 = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    ratios = sorted(b / a for a, b in zip(ta, tb))
    return sorted(ta), sorted(tb), ratios


def _paired_stats(ours, base, pairs: int) -> dict:
    ours(), base(), ours(), base()          # warm-up
    ta, tb, ratios = _paired(ours, base, pairs)
    med = lambda xs: xs[len(xs) // 2]  # noqa: E731
    return {"pladafmt_min_ms": ta[0] * 1e3, "pladafmt_median_ms": med(ta) * 1e3,
            "baseline_min_ms": tb[0] * 1e3, "baseline_median_ms": med(tb) * 1e3,
            "ratio_of_mins": tb[0] / ta[0], "median_pair_ratio": med(ratios),
            "pair_ratio_p10": ratios[len(ratios) // 10],
            "pair_ratio_p90": ratios[(9 * len(ratios)) // 10]}


def decode_speed(log, pairs: int = SPEED_PAIRS, workloads=None) -> dict:
    """pladafmt.decode of the `auto` payload against the speed baseline (Zstd decompress +
    cumsum of the paper's Compact Idx), called alternately `pairs` times each after warm-up.

    This VM's call times are bimodal (a call lands near a fast mode or near twice it, for
    seconds at a time), so medians of separately timed runs can compare one side's fast
    mode with the other's slow one.  Consecutive calls share the machine's momentary speed:
    the median of the per-pair ratios is the robust number; min and median per side are
    reported as well.  Each row also carries the sizes (auto, the paper's best format)."""
    import pladafmt
    from pladafmt._container import codec     # PARALLEL_MIN_ITEMS: the two-thread decode
    out = {"pairs": pairs, "cases": [], "loadavg_start": os.getloadavg()}
    for w in workloads or speed_workloads():
        idx, lab = w.generate()
        auto = pladafmt.encode(idx, lab, pool_size=w.n, classes=w.classes,
                               zstd_level=C.ZSTD_LEVEL)
        paper = C.zc(C.compact_separated(idx, lab, w.n, w.classes))
        paper_best = min(len(paper), len(C.zc(C.compact_interleaved(idx, lab, w.n, w.classes))),
                         len(C.zc(C.bitmap_layout(idx, lab, w.n, w.classes))))
        p = pladafmt.decode(auto)
        if not (np.array_equal(p.indices, idx) and np.array_equal(p.labels, lab)):
            raise AssertionError(f"{w.name}: pladafmt auto payload does not round-trip")
        row = {"workload": w.name, "family": w.family, "k": w.k,
               "chosen": f"{p.index_mode} | {p.label_mode}", "auto_bytes": len(auto),
               "paper_bytes": len(paper), "paper_best_bytes": paper_best,
               "bound_bits": W.bound_bits(w.n, lab)}
        ours = lambda: pladafmt.decode(auto)  # noqa: E731
        base = lambda: C.baseline_decode(paper, w.n, w.classes)  # noqa: E731
        row.update(_paired_stats(ours, base, pairs))
        # The same with the container held to one thread (its two streams one after the
        # other): on a loaded 2-CPU machine the second thread waits for a core, which the
        # single-threaded baseline never does.
        saved = codec.PARALLEL_MIN_ITEMS
        codec.PARALLEL_MIN_ITEMS = 1 << 62
        try:
            row["threads_1"] = _paired_stats(ours, base, pairs)
        finally:
            codec.PARALLEL_MIN_ITEMS = saved
        log(f"  {w.name}: {row['chosen']} {len(auto):,} B: x{row['median_pair_ratio']:.2f} "
            f"(pairs), x{row['ratio_of_mins']:.2f} (mins; {row['pladafmt_min_ms']:.3f} vs "
            f"{row['baseline_min_ms']:.3f} ms); one thread x"
            f"{row['threads_1']['median_pair_ratio']:.2f}")
        out["cases"].append(row)
    out["loadavg_end"] = os.getloadavg()
    return out


# ----------------------------------------------------------------------- encode speed
ENCODE_SPEED_RUNS = 3


def encode_speed_workloads() -> list:
    """Issue #15's encode targets: 1.4 M items (10 % of IN-21K) and 7.1 M (50 %); uniform,
    clustered (the model cannot place 50 %: that case is reported as skipped) and the
    IN-21K-like lowest-energy selection (clustered by its scores)."""
    n = W.N_IN21K
    return [w for p in (0.10, 0.50) for w in (
        W.Workload("uniform", "IN-21K", n, p, 101, "uniform"),
        W.Workload("clustered", "IN-21K", n, p, 101, "block", "caltech"),
        W.Workload("in21k-like", "IN-21K", n, p, 101, "synth_scores", "lowest-energy"))]


def encode_speed(log, runs: int = ENCODE_SPEED_RUNS, workloads=None) -> dict:
    """Seconds of `pladafmt.encode` (index_mode = label_mode = "auto", Zstd level 19) per
    case: median of `runs` calls after one warm-up call (which also checks the round trip)."""
    import pladafmt
    out = {"runs": runs, "cases": [], "loadavg_start": os.getloadavg()}
    for w in workloads or encode_speed_workloads():
        try:
            idx, lab = w.generate()
        except ValueError as exc:          # the clustered model cannot place this keep rate
            out["cases"].append({"workload": w.name, "k": w.k, "skipped": str(exc)})
            log(f"  {w.name}: skipped: {exc}")
            continue
        enc = lambda: pladafmt.encode(idx, lab, pool_size=w.n, classes=w.classes,  # noqa: E731
                                      zstd_level=C.ZSTD_LEVEL)
        t0 = time.perf_counter()
        data = enc()
        first = time.perf_counter() - t0
        p = pladafmt.decode(data)
        if not (np.array_equal(p.indices, idx) and np.array_equal(p.labels, lab)):
            raise AssertionError(f"{w.name}: pladafmt auto payload does not round-trip")
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            enc()
            times.append(time.perf_counter() - t0)
        row = {"workload": w.name, "k": w.k, "bytes": len(data),
               "chosen": f"{p.index_mode} | {p.label_mode}", "first_s": first,
               "runs_s": times, "median_s": statistics.median(times),
               "items_per_s": w.k / statistics.median(times)}
        log(f"  {w.name}: k = {w.k:,}: {row['median_s']:.2f} s "
            f"({row['items_per_s'] / 1e6:.2f} M items/s), {row['chosen']}")
        out["cases"].append(row)
    out["loadavg_end"] = os.getloadavg()
    return out


# ---------------------------------------------------------------------------- cases
def timing_level(w: W.Workload) -> str:
    """'full' (encode + decode timed), 'decode' (decode timed) or 'size' (neither).
    Encode timing (Zstd-19 / xz-9 encodes of MBs, 6 runs each) is limited to the keep
    sweeps the report quotes; see README "Matrix"."""
    if w.k > TIMING_MAX_K:
        return "size"
    sweep = (w.family == "uniform" and w.classes == 101 and w.labels == "uniform") or \
        (w.family == "clustered" and w.regime == "caltech") or w.family == "real"
    return "full" if sweep and w.k <= ENCODE_TIMING_MAX_K else "decode"


def _auto_pick(kind: str, streams: dict) -> str | None:
    """Which variant "auto" keeps by the spec's rule, from {variant: body bytes}."""
    names = [v for v, b in streams.items() if b is not None]
    modes = pladafmt_names(kind)
    sizes = [(streams[v], modes.index(v.split("+")[0]), v.endswith("+zstd"),
              C.decode_class(kind, v.split("+")[0])) for v in names]
    return names[C.auto_rule(sizes)] if names else None


def pladafmt_names(kind: str) -> tuple:
    """The stream's mode names, in mode id order (ids are 0, 1, ... in SPEC.md)."""
    import pladafmt
    return pladafmt.INDEX_MODES if kind == "index" else pladafmt.LABEL_MODES


def run_case(w: W.Workload, cons, *, timed: str, repeats: int, log) -> dict:
    t0 = time.perf_counter()
    idx, lab = w.generate()
    gen_s = time.perf_counter() - t0
    assert idx.size == w.k and lab.size == w.k
    assert w.k == 0 or (np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < w.n)
    h0 = W.label_entropy(lab)
    bound = W.bound_bits(w.n, lab)
    case = {"workload": w.describe(), "k": int(w.k), "h0_bits": h0, "bound_bits": bound,
            "bound_index_bits": W.log2_binom(w.n, w.k), "generate_s": gen_s,
            "timed": timed, "results": {}}
    if w.family == "clustered":
        case["model_bounds"] = W.clustered_model_bounds(w, idx)
    payloads = {}
    for c in cons:
        r: dict = {"family": c.family}
        # No contender may fail: an exception here ends the run (a broken codec must not
        # come out as a table with a hole in it).
        t0 = time.perf_counter()
        data = c.encode(idx, lab, w.n, w.classes)
        t_enc1 = r["first_encode_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        di, dl = c.decode(data, w.n, w.classes)
        t_dec1 = r["first_decode_s"] = time.perf_counter() - t0
        r["roundtrip_ok"] = _same(di, idx) and _same(dl, lab)
        r["bytes"] = len(data)
        r["bits_per_item"] = 8 * len(data) / max(w.k, 1)
        r["ratio_to_bound"] = 8 * len(data) / bound if bound > 0 else None
        if c.meta and c.meta.get("kind") == "auto":
            sec = C.stream_sections(data)
            r["chosen"] = " | ".join(
                pladafmt_names(kind)[sec[kind][0]] + ("+zstd" if sec[kind][1] else "")
                for kind in ("index", "label"))
            r["stream_body_bytes"] = {kind: sec[kind][2] for kind in ("index", "label")}
        if c.meta and c.meta.get("kind") in ("index", "label"):
            r["stream_bytes"] = C.stream_sections(data)[c.meta["kind"]][2]
        del di, dl
        # The verify encode/decode above are the warm-up runs (dropped).
        if r["roundtrip_ok"] and timed == "full":
            r["encode_s"] = _time_call(lambda: c.encode(idx, lab, w.n, w.classes), repeats,
                                       t_enc1)
            r["encode_items_per_s"] = w.k / r["encode_s"] if r["encode_s"] > 0 else None
        if r["roundtrip_ok"] and timed in ("full", "decode"):
            r["decode_s"] = _time_call(lambda: c.decode(data, w.n, w.classes), repeats, t_dec1)
            r["decode_items_per_s"] = w.k / r["decode_s"] if r["decode_s"] > 0 else None
        case["results"][c.name] = r
        payloads[c.name] = data
        log(f"    {c.name:34s} {len(data):>11,d} B  {r['bits_per_item']:7.3f} b/it"
            + (f"  enc {r['encode_s'] * 1e3:9.2f} ms" if "encode_s" in r else "")
            + (f"  dec {r['decode_s'] * 1e3:8.2f} ms" if "decode_s" in r else "") + ("" if r["roundtrip_ok"] else "  ROUNDTRIP FAIL"))
    # Speed baseline: Zstd decompress + cumsum of the paper's Compact Idx, same process.
    base = case["results"].get(C.BASELINE_NAME, {})
    if "decode_s" in base:
        data = payloads[C.BASELINE_NAME]
        case["baseline_zstd_cumsum_decode_s"] = _time_call(
            lambda: C.baseline_decode(data, w.n, w.classes), repeats, base["decode_s"])
    fix_baseline(case)
    paper = [case["results"][n]["bytes"] for n in C.PAPER_BEST
             if "bytes" in case["results"].get(n, {})]
    if paper:
        case["paper_best_bytes"] = min(paper)
        for r in case["results"].values():
            if "bytes" in r:
                r["ratio_to_paper_best"] = r["bytes"] / min(paper)
    compose_pladafmt(case, cons)
    return case, payloads


def fix_baseline(case: dict) -> None:
    """Speed ratios against Zstd-decompress + cumsum.  The baseline time is the lower of
    two medians of that same operation in this case (a separate timing, and the decode of
    the contender whose decoder it is), which damps load spikes on a shared machine."""
    base = case["results"].get(C.BASELINE_NAME, {})
    ts = [t for t in (case.get("baseline_zstd_cumsum_decode_s"), base.get("decode_s")) if t]
    if not ts:
        return
    tb = case["baseline_decode_s_used"] = min(ts)
    for r in case["results"].values():
        if r.get("decode_s"):
            r["decode_speed_vs_zstd_cumsum"] = tb / r["decode_s"]


def compose_pladafmt(case: dict, cons) -> None:
    """Full index x label cross product of pladafmt sizes from the single-mode rows:
    S(i, l) = S(i | packed) + S(varint | l) - S(varint | packed)."""
    res = case["results"]
    idx_rows = {c.meta["mode"]: res[c.name].get("bytes") for c in cons
                if c.meta and c.meta.get("kind") == "index"}
    lab_rows = {c.meta["mode"]: res[c.name].get("bytes") for c in cons
                if c.meta and c.meta.get("kind") == "label"}
    ref = idx_rows.get(C.IDX_PARTNER)
    if not idx_rows or ref is None or lab_rows.get(C.LAB_PARTNER) != ref:
        return
    matrix = {i: {l: (si + sl - ref) if si is not None and sl is not None else None
                  for l, sl in lab_rows.items()} for i, si in idx_rows.items()}
    best = min(((v, i, l) for i, row in matrix.items() for l, v in row.items()
                if v is not None), default=None)
    case["pladafmt_matrix_bytes"] = matrix
    if best:
        case["pladafmt_best_pair"] = {"bytes": best[0], "index_mode": best[1],
                                      "label_mode": best[2]}
        auto = res.get("pladafmt auto", {}).get("bytes")
        if auto is not None:
            case["pladafmt_auto_equals_best_pair"] = auto == best[0]
            # what auto should pick by its rule (a costlier decode, a context-modelled
            # mode or a Zstd wrapper, must save AUTO_MIN_GAIN of its stream), from the
            # streams' own sizes
            pi, pl = (_auto_pick(kind, {c.meta["mode"]: res[c.name].get("stream_bytes")
                                        for c in cons if c.meta and c.meta.get("kind") == kind})
                      for kind in ("index", "label"))
            if pi and pl:
                case["pladafmt_auto_rule_pair"] = {"bytes": matrix[pi][pl], "index_mode": pi,
                                                   "label_mode": pl}
                case["pladafmt_auto_equals_rule_pair"] = auto == matrix[pi][pl]
                case["pladafmt_auto_over_rule_pair"] = auto / matrix[pi][pl] - 1
        # Per-index-mode best (over label modes), and per-label-mode best: for the figure.
        case["pladafmt_index_best"] = {i: min(v for v in row.values() if v is not None)
                                       for i, row in matrix.items()
                                       if any(v is not None for v in row.values())}
        case["pladafmt_label_best"] = {
            l: min(matrix[i][l] for i in matrix if matrix[i][l] is not None)
            for l in lab_rows if any(matrix[i][l] is not None for i in matrix)}


def check_composition(ws, log) -> dict:
    """Encode the real index x label cross product and compare with the composed sizes."""
    import pladafmt
    pairs, mism = 0, []
    cons = [c for c in C.pladafmt_contenders() if c.meta["kind"] != "auto"]
    for w in ws:
        idx, lab = w.generate()
        case, _ = run_case(w, cons, timed="size", repeats=1, log=lambda *_: None)
        for i, row in case.get("pladafmt_matrix_bytes", {}).items():
            for l, v in row.items():
                if v is None:
                    continue
                pairs += 1
                n = len(pladafmt.encode(idx, lab, pool_size=w.n, classes=w.classes,
                                        index_mode=i, label_mode=l, zstd_level=C.ZSTD_LEVEL))
                if n != v:
                    mism.append([w.name, i, l, n, v])
    log(f"  composition check on {len(ws)} workloads, {pairs} pairs: {len(mism)} mismatches")
    return {"workload": "; ".join(w.name for w in ws), "pairs": pairs, "mismatches": mism}


# --------------------------------------------------------------------------- memory
MEM_CHILD = r"""
import json, resource, sys, time, tracemalloc
import numpy as np
from benchmarks import contenders as C, run as R, workloads as W
name, path, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cons = R.all_contenders()
con = next(x for x in cons if x.name == name)
w = W.Workload("uniform", "60K", W.N_MNIST, 0.01, min(c, 1000), "uniform", seed=5)
i0, l0 = w.generate()
con.decode(con.encode(i0, l0, w.n, w.classes), w.n, w.classes)   # JIT / cache warm-up
data = open(path, "rb").read()
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
idx, lab = con.decode(data, n, c)
dt = time.perf_counter() - t0
cur, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"tracemalloc_peak_bytes": peak, "rss_peak_increase_bytes": (rss1 - rss0) * 1024,
                  "output_bytes": int(idx.nbytes + lab.nbytes), "decode_s": dt, "k": int(idx.size)}))
"""


def memory_of_decode(case: dict, payloads: dict, log) -> dict:
    wd = case["workload"]
    out = {"workload": wd["name"], "contenders": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in payloads.items():
            path = os.path.join(tmp, "p.bin")
            with open(path, "wb") as f:
                f.write(data)
            p = subprocess.run([sys.executable, "-c", MEM_CHILD, name, path, str(wd["n"]),
                                str(wd["classes"])], cwd=ROOT, capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=ROOT), timeout=600)
            if p.returncode != 0:
                raise RuntimeError(f"decode memory of {name} failed:\n{p.stderr[-1500:]}")
            r = out["contenders"][name] = json.loads(p.stdout.strip().splitlines()[-1])
            log(f"    mem {name:34s} tracemalloc {r['tracemalloc_peak_bytes'] / 2**20:8.1f} "
                f"MiB  RSS +{r['rss_peak_increase_bytes'] / 2**20:8.1f} MiB")
    return out


# ------------------------------------------------------------------------------ CLI
CLI_MODULE = "pladafmt.cli"   # pyproject's `plada` entry point: pladafmt.cli:main


def cli_start(payload: bytes, runs: int = 5) -> dict:
    """`plada inspect` of a payload in fresh processes: what the entry point runs (its
    script's two lines), from this tree, so the figure is this tree's CLI whatever
    `plada` is installed."""
    cmd = [sys.executable, "-c", f"import sys; from {CLI_MODULE} import main; sys.exit(main())"]
    how = f"python -c 'from {CLI_MODULE} import main; main()' (the `plada` entry point's code)"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "payload.plada")
        with open(path, "wb") as f:
            f.write(payload)
        env = dict(os.environ, PYTHONPATH=ROOT, NUMBA_CACHE_DIR=os.path.join(tmp, "nbcache"))
        times = []
        for i in range(runs + 1):
            t0 = time.perf_counter()
            p = subprocess.run(cmd + ["inspect", path], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=300)
            times.append(time.perf_counter() - t0)
            if p.returncode != 0:
                raise RuntimeError(f"`plada inspect` failed: {p.stderr[-1500:]}")
    return {"command": how, "payload_bytes": len(payload),
            "cold_s": times[0],
            "warm_median_s": statistics.median(times[1:]) if times[1:] else None,
            "warm_runs_s": times[1:],
            "note": "cold = first run with an empty NUMBA_CACHE_DIR (OS file cache already "
                    "warm from earlier runs); warm = median of the next runs"}


# ----------------------------------------------------------------- 1.3's auto, for 2.0
V13_RESULTS = os.path.join(HERE, "results", "2026-11-28-vm.json")   # the last 1.3 full run
V13_AUDIT = os.path.join(HERE, "results", "mode_audit.json")       # 1.3's auto, IN-21K-like


V13_COMMIT = "761d066"    # the last format 1.3 commit (pladafmt 1.3.0), where format2 began

V13_CHILD = r"""
import json, sys
import pladafmt
from benchmarks import workloads as W
assert pladafmt.__version__ == "1.3.0", pladafmt.__file__
want = set(json.loads(sys.argv[1]))
out = {}
for w in W.real_workloads(sys.argv[2])[0]:
    if w.name in want:
        i, l = w.generate()
        out[w.name] = len(pladafmt.encode(i, l, pool_size=w.n, classes=w.classes, zstd_level=19))
print(json.dumps(out))
"""


def v13_encode_real(names: list[str]) -> dict:
    """1.3's `auto` size of these real selections, encoded by the 1.3 package itself
    (`git archive V13_COMMIT pladafmt` into a temporary folder, run in a child process):
    for score files the committed 1.3 run did not see."""
    import io
    import tarfile
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["git", "archive", V13_COMMIT, "pladafmt"], cwd=ROOT,
                             capture_output=True)
        if got.returncode != 0:     # a shallow clone or an sdist has no 1.3 commit: these
            print(f"note: no 1.3 reference for {len(names)} real selection(s): git archive "
                  f"{V13_COMMIT} failed: {got.stderr.decode(errors='replace').strip()}",
                  file=sys.stderr)
            return {}               # ... are then listed under not_in_v13
        tar = got.stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            t.extractall(tmp, filter="data")
        # cwd = tmp: `python -c` puts it first on sys.path, ahead of this tree's pladafmt
        env = dict(os.environ, PYTHONPATH=ROOT, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"))
        p = subprocess.run([sys.executable, "-c", V13_CHILD, json.dumps(names), ROOT],
                           cwd=tmp, env=env, capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            raise RuntimeError(f"1.3 reference encode failed:\n{p.stderr[-2000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])


def v13_reference(doc: dict) -> dict:
    """1.3's `auto` payload size for every workload of this run: from the full benchmark
    run of 1.3 (synthetic and real workloads, by name; real ones match only if the score
    files are the same), the mode audit (IN-21K-like selections; its sizes were checked
    against 1.3's encode), and for other real selections 1.3's encode itself."""
    sizes, sources = {}, {}
    with open(V13_RESULTS) as f:
        for case in json.load(f)["cases"]:
            sizes[case["workload"]["name"]] = case["results"]["pladafmt auto"]["bytes"]
            sources[case["workload"]["name"]] = os.path.basename(V13_RESULTS)
    with open(V13_AUDIT) as f:
        for name, case in json.load(f)["cases"].items():
            if case["family"] == "in21k-like":
                sizes[name] = case["payload_bytes"]
                sources[name] = os.path.basename(V13_AUDIT)
    real = [c["workload"]["name"] for c in doc["cases"]
            if c["workload"]["family"] == "real" and c["workload"]["name"] not in sizes]
    if real:
        for name, b in v13_encode_real(real).items():
            sizes[name] = b
            sources[name] = f"1.3 encode (git {V13_COMMIT})"
    rows = [(c["workload"]["name"], c["k"], c["results"]["pladafmt auto"]["bytes"])
            for c in doc["cases"]]
    rows += [(r["workload"], r["k"], r["auto_bytes"])
             for r in (doc.get("decode_speed") or {}).get("cases", [])
             if r["family"] == "in21k-like"]
    out = {"cases": [{"workload": name, "k": k, "bytes": b, "v13_bytes": sizes[name],
                      "ratio": b / sizes[name], "source": sources[name]}
                     for name, k, b in rows if name in sizes],
           "not_in_v13": [name for name, _, _ in rows if name not in sizes]}
    return out


def quick_speed_workloads():
    """--quick: one case per family of the decode-speed phase (20 pairs)."""
    n = W.N_IN21K
    return [W.Workload("uniform", "IN-21K", n, 0.01, 101, "uniform"),
            W.Workload("clustered", "IN-21K", n, 0.01, 101, "block", "caltech"),
            W.in21k_like_workloads(0.01)[0]]


def quick_encode_workloads():
    """--quick: the encode-speed phase on 10 % of IN-1K (one run)."""
    n = W.N_IN1K
    return [W.Workload("uniform", "IN-1K", n, 0.10, 101, "uniform"),
            W.Workload("clustered", "IN-1K", n, 0.10, 101, "block", "caltech")]


# --------------------------------------------------------------------------- driver
def _cost(w: W.Workload) -> float:
    """Rough relative cost of a case: Zstd-19/xz-9 encodes scale with N (bitmaps) and k."""
    lvl = timing_level(w)
    return (1 + w.n / 1e6 + w.k / 4e4) * (4 if lvl == "full" else 1.5 if lvl == "decode" else 1)


def shard(ws: list, i: int, n: int) -> list:
    """Deterministic cost-balanced split (longest case first onto the lightest shard)."""
    loads, parts = [0.0] * n, [[] for _ in range(n)]
    for w in sorted(ws, key=_cost, reverse=True):
        j = min(range(n), key=lambda s: loads[s])
        parts[j].append(w)
        loads[j] += _cost(w)
    order = {w.name: k for k, w in enumerate(ws)}
    return sorted(parts[i], key=lambda w: order[w.name])


def _settings(repeats: int) -> dict:
    return {"repeats": repeats, "timing_max_k": TIMING_MAX_K,
            "encode_timing_max_k": ENCODE_TIMING_MAX_K,
            "timing_levels": "full = encode + decode timed (keep sweeps: uniform C=101 "
                             "uniform labels, clustered-caltech, real; k <= "
                             "encode_timing_max_k); decode = decode only (label sweeps, other "
                             "regimes, larger k); size = k > timing_max_k: sizes and round "
                             "trip only",
            "timing": "median of `repeats` runs after the round-trip verify run (which is "
                      "the warm-up); calls under 2 ms are batched",
            "bound": "log2 C(N,k) + k*H0(labels), lgamma",
            "baseline": "Zstd decompress + np.cumsum of '" + C.BASELINE_NAME + "'"}


def _dump(doc: dict, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, default=_json_default, allow_nan=False)
    os.replace(tmp, path)


def _render(doc: dict, out: str, js: str, log) -> None:
    from . import report
    report.write_markdown(doc, os.path.join(out, "RESULTS.md"), os.path.basename(js))
    png = report.write_figure(doc, os.path.join(out, "size_vs_keep.png"))
    log(f"wrote {js}, {os.path.join(out, 'RESULTS.md')}, {png}  ({doc['runtime_s']:.0f} s)")


def _exit_code(doc: dict) -> int:
    if doc["roundtrip_failures"]:
        print("ROUND TRIP FAILURES:\n  " + "\n  ".join(doc["roundtrip_failures"]),
              file=sys.stderr)
        return 1
    comp = doc.get("composition_check")
    if comp and comp["mismatches"]:
        print(f"composed pladafmt sizes disagree with real encodes: {comp['mismatches']}",
              file=sys.stderr)
        return 1
    if not doc.get("complete", True):
        return 1
    return 0


def merge(paths: list[str]) -> dict:
    """Merge shard documents (same matrix, disjoint cases) into one."""
    docs = []
    for p in paths:
        with open(p) as f:
            docs.append(json.load(f))
    base = dict(docs[0])
    order = {w.name: i for i, w in enumerate(W.full_matrix())}
    seen, cases = set(), []
    # A case measured twice: prefer a timed measurement, then the earlier file's.
    allc = [(c["timed"] == "size", j, c) for j, d in enumerate(docs) for c in d["cases"]]
    for _, _, c in sorted(allc, key=lambda t: t[:2]):
        name = c["workload"]["name"]
        if name in seen:
            continue
        seen.add(name)
        cases.append(c)
    base["cases"] = sorted(cases, key=lambda c: order.get(c["workload"]["name"], 10**6))
    for c in base["cases"]:
        fix_baseline(c)
    if base["mode"] == "full":
        base["missing_cases"] = [n for n in order if n not in seen]
    for key in ("composition_check", "decode_memory", "cli_inspect", "decode_speed",
                "encode_speed"):
        base[key] = next((d[key] for d in docs if d.get(key)), docs[0].get(key))
    base["v13"] = v13_reference(base)
    base["numba"] = next((d["numba"] for d in docs if d["numba"].get("fresh_process")),
                         docs[0]["numba"])
    base["roundtrip_failures"] = [f for d in docs for f in d["roundtrip_failures"]]
    base["complete"] = all(d.get("complete", True) for d in docs)
    base["sources"] = [os.path.basename(p) for p in paths]
    base["runtime_s"] = max(d["runtime_s"] for d in docs)
    base["shards"] = [{"shard": d.get("shard") or "--only re-run", "cases": len(d["cases"]),
                       "runtime_s": d["runtime_s"],
                       "loadavg_start": d["environment"].get("loadavg_start"),
                       "loadavg_end": d["environment"].get("loadavg_end")} for d in docs]
    base["command"] = (docs[0]["command"].split(" --shard")[0]
                       + f" (in {len(docs)} parts, merged with --merge)")
    base.pop("shard", None)
    return base


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small matrix, correctness only")
    ap.add_argument("--out", default=None, help="output directory")
    ap.add_argument("--repeats", type=int, default=None,
                    help=f"timed runs per case (default {REPEATS}; with --selection 1)")
    ap.add_argument("--only", default=None, help="regex: run only matching workload names")
    ap.add_argument("--shard", default=None, metavar="I/N",
                    help="run every N-th case starting at I; writes a shard JSON only")
    ap.add_argument("--jobs", type=int, default=1,
                    help="run N shards as parallel processes, then merge (timings then "
                         "compete for the CPU: prefer 1 on a quiet machine)")
    ap.add_argument("--size-only", action="store_true",
                    help="no timing: sizes and round trips (plus memory and CLI phases)")
    ap.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                    help="merge shard JSONs into one results file + RESULTS.md + figure")
    ap.add_argument("--selection", default=None, metavar="FILE",
                    help="print the contender table for this selection alone (.npz with "
                         "indices and labels, .csv with columns index,label, or any file "
                         "`plada encode --indices` reads with --labels); needs --pool-size")
    ap.add_argument("--pool-size", type=int, default=None, metavar="N",
                    help="--selection: the pool's item count N")
    ap.add_argument("--labels", default=None, metavar="FILE",
                    help="--selection: the labels in their own file (as `plada encode --labels`)")
    ap.add_argument("--num-classes", type=int, default=None, metavar="C",
                    help="--selection: class count C (default: max(label) + 1)")
    args = ap.parse_args(argv)
    if args.selection:
        from . import selection_table as S
        try:
            return S.main(args.selection, args.pool_size, labels_path=args.labels,
                          num_classes=args.num_classes, repeats=args.repeats or S.REPEATS,
                          size_only=args.size_only)
        except S.SelectionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.pool_size is not None or args.labels or args.num_classes is not None:
        ap.error("--pool-size, --labels and --num-classes go with --selection FILE")
    args.repeats = args.repeats or REPEATS
    out = args.out or (os.path.join(HERE, "_quick") if args.quick else HERE)
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    quiet = os.environ.get("BENCH_QUIET")

    def log(msg):
        if not quiet:
            print(msg, flush=True)

    if args.merge:
        doc = merge(args.merge)
        env = doc["environment"]
        js = os.path.join(out, "results", f"{env['date']}-{_machine_tag(env)}"
                          + ("-quick" if doc["mode"] == "quick" else "") + ".json")
        _dump(doc, js)
        _render(doc, out, js, log)
        return _exit_code(doc)

    if args.jobs > 1:
        with tempfile.TemporaryDirectory() as tmp:
            base = [sys.executable, "-m", "benchmarks.run", "--out", tmp,
                    "--repeats", str(args.repeats)] + (["--quick"] if args.quick else []) \
                + (["--only", args.only] if args.only else [])
            procs = [subprocess.Popen(base + ["--shard", f"{i}/{args.jobs}"], cwd=ROOT,
                                      env=dict(os.environ, PYTHONPATH=ROOT))
                     for i in range(args.jobs)]
            rcs = [p.wait() for p in procs]
            shards = sorted(glob.glob(os.path.join(tmp, "results", "*shard*.json")))
            if len(shards) != args.jobs:
                print(f"shards failed: {rcs}", file=sys.stderr)
                return 1
            return main(["--merge", *shards, "--out", out])

    t_start = time.perf_counter()
    env = environment()
    env["loadavg_start"] = os.getloadavg()
    env["date"] = _dt.date.today().isoformat()
    cons = all_contenders()
    log(f"pladafmt bench ({'quick' if args.quick else 'full'}) on {env['cpu']} "
        f"[{env['machine']}], {len(cons)} contenders")

    ws = W.quick_matrix() if args.quick else W.full_matrix()
    real, real_reason = W.real_workloads(ROOT)
    if real:
        ws += real if not args.quick else real[:1]
    if args.only:
        ws = [w for w in ws if re.search(args.only, w.name)]
    largest = max(ws, key=lambda w: (w.k, w.n)) if ws else None
    shard_i, shard_n = 0, 1
    if args.shard:
        shard_i, shard_n = map(int, args.shard.split("/"))
        ws = shard(ws, shard_i, shard_n)
    repeats = 1 if args.quick else max(5, args.repeats)
    tag = f"{env['date']}-{_machine_tag(env)}" + ("-quick" if args.quick else "")
    if args.shard:
        tag += f"-shard{shard_i}of{shard_n}"
    js = os.path.join(out, "results", tag + ".json")

    doc = {
        "schema": SCHEMA,
        "mode": "quick" if args.quick else "full",
        "command": "python -m benchmarks.run" + (" --quick" if args.quick else "")
                   + (f" --shard {args.shard}" if args.shard else ""),
        "shard": args.shard,
        "complete": False,
        "environment": env,
        "settings": _settings(repeats),
        "contenders": [{"name": c.name, "family": c.family, "note": c.note} for c in cons],
        "real_workloads": {"count": len(real), "skipped_reason": real_reason or None},
        "numba": {},
        "cases": [],
        "composition_check": None,
        "decode_memory": {},
        "cli_inspect": {},
        "decode_speed": {},
        "encode_speed": {},
        "v13": {},
        "roundtrip_failures": [],
        "phases_s": {},
        "runtime_s": 0.0,
    }
    phases = doc["phases_s"]
    tp = time.perf_counter()
    doc["numba"]["in_process_first_call"] = jit_warmup(cons)
    cases_only = bool(os.environ.get("BENCH_CASES_ONLY"))  # for --merge-bound re-runs
    extras = shard_i == 0 and not os.environ.get("BENCH_NO_SHARD0_EXTRAS") and not cases_only
    if not args.quick and extras:
        log("numba compile times (fresh processes)...")
        doc["numba"]["fresh_process"] = numba_compile_times()
    phases["jit_s"] = time.perf_counter() - tp

    tp = time.perf_counter()
    largest_payloads = None
    cli_payload = None
    for i, w in enumerate(ws):
        timed = "size" if args.size_only else timing_level(w)
        log(f"[{i + 1}/{len(ws)}] {w.name}  k={w.k:,}  timing: {timed}")
        case, payloads = run_case(w, cons, timed=timed, repeats=repeats, log=log)
        doc["cases"].append(case)
        for name, r in case["results"].items():
            if r.get("roundtrip_ok") is False:
                doc["roundtrip_failures"].append(f"{w.name}: {name}")
        if largest is not None and w.name == largest.name:
            largest_payloads = payloads
        if (w.family == "uniform" and w.pool == "IN-21K" and w.keep == 0.01
                and w.classes == 101 and "pladafmt auto" in payloads):
            cli_payload = payloads["pladafmt auto"]
        if cli_payload is None and args.quick:
            cli_payload = payloads["pladafmt auto"]
        doc["runtime_s"] = time.perf_counter() - t_start
        _dump(doc, js)  # checkpoint: a partial document survives an interrupted run
    phases["cases_s"] = time.perf_counter() - tp

    tp = time.perf_counter()
    if extras:
        doc["composition_check"] = check_composition(
            [W.Workload("uniform", "60K", W.N_MNIST, 0.05, 10, "zipf"),
             W.Workload("clustered", "300K", 300_000, 0.01, 101, "block", "caltech")], log)
    phases["composition_s"] = time.perf_counter() - tp

    tp = time.perf_counter()
    if extras and not args.size_only:
        log("decode speed at 1 % of IN-21K (paired calls)...")
        doc["decode_speed"] = (decode_speed(log, 20, quick_speed_workloads()) if args.quick
                               else decode_speed(log))
    phases["decode_speed_s"] = time.perf_counter() - tp

    tp = time.perf_counter()
    if extras and not args.size_only:
        log("encode speed of auto...")
        doc["encode_speed"] = (encode_speed(log, 1, quick_encode_workloads()) if args.quick
                               else encode_speed(log))
    phases["encode_speed_s"] = time.perf_counter() - tp
    doc["v13"] = v13_reference(doc)

    tp = time.perf_counter()
    if largest_payloads and not cases_only:
        log(f"decode memory, largest case: {largest.name}")
        keep = ((("pladafmt auto",) if "pladafmt auto" in largest_payloads else
                 (C.BASELINE_NAME,)) if args.quick else
                [c.name for c in cons if c.family != "pladafmt-label"])
        doc["decode_memory"] = memory_of_decode(
            next(c for c in doc["cases"] if c["workload"]["name"] == largest.name),
            {n: b for n, b in largest_payloads.items() if n in keep}, log)
    phases["memory_s"] = time.perf_counter() - tp

    tp = time.perf_counter()
    if cli_payload is not None and not cases_only:
        log("CLI start-up...")
        doc["cli_inspect"] = cli_start(cli_payload, runs=0 if args.quick else 5)
        log(f"  {doc['cli_inspect']}")
    phases["cli_s"] = time.perf_counter() - tp

    env["loadavg_end"] = os.getloadavg()
    doc["complete"] = True
    doc["runtime_s"] = time.perf_counter() - t_start
    _dump(doc, js)
    if not args.shard:
        _render(doc, out, js, log)
    return _exit_code(doc)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    raise TypeError(type(o))


if __name__ == "__main__":
    sys.exit(main())
