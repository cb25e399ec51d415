"""`plada demo`: the whole pipeline on the built-in tasks, end to end, on a CPU.

For each task: train (or load from cache) the teacher, score the pool, then for each
(rule, keep rate) of the plan: select, build the payload with pladafmt.encode, write
it to DIR/payloads/, and run the client stage on that file alone (decode against the
local pool's digest, train a student, evaluate on target-test). Baselines in the same
table: the teacher, a student trained on the target-train images themselves, and the
bytes of sending those images (PNG each; Zstd-19 of the raw array) or the teacher's
weights (INT8, Zstd-19). Also a leakage check of each target-test split against the pool.

Modes
  --quick   fashion only, a 20,000 + 20,000 item pool, the default rule and random at 1 %
  (none)    the representative subset (fits 15 min on 2 cores): every rule at 1 % and
            the default rule and random at 10 % on fashion; the default rule, random and
            the paper's rules on fashion-lt (Safety-Net case) and digits (low vs high
            energy) at 1 %
  --full    every task x keep {1, 5, 10 %} (+100 % on fashion) x every rule, Safety-Net
            at alpha -0.2, 0 and 0.5; the 1 % rows over 3 seeds (FULL_SEEDS: each seed
            sets both the selection and the student), reported as mean ± sd; then the
            importance-weighting experiment (weighting_experiment.py: DIR/weighting*.jsonl,
            DIR/weighting.md; WEIGHTING_RESULTS.md)

Writes DIR/results.json (one record per run), DIR/report.md and DIR/accuracy_vs_payload.png.
Cached under --cache (default ~/.cache/pladafmt): the rendered pool, teachers and scores,
keyed by their content and knobs, so a second run only retrains the students.

Usage:  python -m reference_pipeline.demo [--quick | --full] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import common
from .build_payload import build_payload
from .pools import open_pool, relevant_mask
from .score_pool import score_pool
from .selection import DEFAULT_RULE, RESERVE, select
from .tasks import load_task, leakage
from .train_student import read_payload, train_student
from .train_teacher import train_teacher

# -----------------------------------------------------------------------------
# knobs

SEED = 0                   # teacher, scoring, and the single-seed runs
FULL_SEEDS = (0, 1, 2)     # --full: the 1 % rows run once per seed (selection and student seed)
TEMPERATURE = 1.0
MODEL = "plada_cnn"        # teacher and student (any timm name; plada_cnn is defined in common.py)
IMG_SIZE = 28              # px: the pools and tasks are native 28x28
TEACHER_STEPS = 500        # x 128 images: ~13 epochs of fashion's 5,000 train images
STUDENT_STEPS = (600, 1500)  # (min, max) steps x 64 images; scaled as 8 epochs of k items in between
STUDENT_EPOCHS = 8         # 1 % keep (1,200 items): 600 steps; 10 %: 1,500 (see DEMO_RESULTS.md)
STUDENT_BATCH = 64
QUICK_POOL = "broad:20000,20000"
FULL_POOL = "broad"

PAPER_RULES = ["random", "lowest-energy", "highest-energy", "lowest-entropy"]
SAFETY = [("safety-net", a) for a in (-0.2, 0.0, 0.5)]


def plan(mode: str) -> dict:
    """{task: [(rule, keep, alpha), ...]} for a mode (see the module docstring)."""
    if mode == "quick":
        return {"fashion": [(DEFAULT_RULE, 0.01, 0.0), ("random", 0.01, 0.0)]}
    if mode == "default":
        one = [(x, 0.01, 0.0) for x in PAPER_RULES] + [("safety-net", 0.01, 0.0), (DEFAULT_RULE, 0.01, 0.0)]
        ten = [(DEFAULT_RULE, 0.10, 0.0), ("random", 0.10, 0.0)]
        # 10 % runs only on fashion: the default run has to fit 15 minutes on 2 cores
        return {
            "fashion": one + ten,
            "fashion-lt": [(DEFAULT_RULE, 0.01, 0.0), ("random", 0.01, 0.0), ("lowest-energy", 0.01, 0.0),
                           ("safety-net", 0.01, -0.2)],
            "digits": [(DEFAULT_RULE, 0.01, 0.0), ("random", 0.01, 0.0), ("lowest-energy", 0.01, 0.0),
                       ("highest-energy", 0.01, 0.0)],
        }
    if mode == "full":
        rules = [(x, 0.0) for x in PAPER_RULES] + SAFETY + [(DEFAULT_RULE, 0.0)]
        out = {}
        for task in ("fashion", "fashion-lt", "digits"):
            keeps = [0.01, 0.05, 0.10] + ([1.0] if task == "fashion" else [])
            out[task] = [(rule, p, a) for p in keeps for rule, a in rules if not (p == 1.0 and rule != "random")]
        return out
    raise common.PipelineError(f"unknown demo mode {mode!r}")


def seeds(mode: str, p: float) -> tuple:
    """Seeds a (rule, keep) row runs with: FULL_SEEDS for --full's 1 % rows, else SEED alone (time budget)."""
    return FULL_SEEDS if mode == "full" and p == 0.01 else (SEED,)


def student_steps(k: int, lo_hi=STUDENT_STEPS) -> int:
    return int(np.clip(int(np.ceil(STUDENT_EPOCHS * k / STUDENT_BATCH)), *lo_hi))


# -----------------------------------------------------------------------------
# baselines: what sending the task another way would cost

def image_bytes(images: np.ndarray, labels: np.ndarray) -> dict:
    """Bytes of sending target-train itself: PNG per image (+1 label byte), and Zstd-19 of the raw arrays."""
    import zstandard
    from PIL import Image

    png = 0
    for im in images:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(im)).save(buf, format="PNG", optimize=True)
        png += len(buf.getvalue()) + 1
    raw = np.ascontiguousarray(images).tobytes() + np.asarray(labels, np.uint8).tobytes()
    return dict(png=png, zstd=len(zstandard.ZstdCompressor(level=19).compress(raw)))


def int8_weight_bytes(state_dict) -> int:
    """Teacher weights as symmetric per-tensor INT8 (+ a float32 scale each), then Zstd-19."""
    import zstandard

    parts = []
    for v in state_dict.values():
        a = v.detach().cpu().float().numpy().ravel() if hasattr(v, "detach") else np.asarray(v, np.float32).ravel()
        scale = float(np.abs(a).max()) / 127 if a.size and np.abs(a).max() > 0 else 1.0
        parts.append(np.float32(scale).tobytes() + np.round(a / scale).astype(np.int8).tobytes())
    return len(zstandard.ZstdCompressor(level=19).compress(b"".join(parts)))


# -----------------------------------------------------------------------------

def _teacher(task: str, cache: Path, teacher_steps: int, model: str) -> tuple:
    """(checkpoint path, training seconds) of the cached teacher; trained (and timed) on a miss.

    The wall time lives in a JSON beside the checkpoint: inside it, it would make equal
    teachers differ in bytes (and so in SHA-256, the teacher's identity).
    """
    # 4: checkpoints hold plain types and tensors (weights_only) and their normalisation
    key = common.content_key("teacher", task, model, IMG_SIZE, teacher_steps, SEED, 4)
    path = cache / "teachers" / f"{task}-{model}-{key}.pt"
    timing = path.with_suffix(".json")
    if not path.is_file():
        t0 = time.time()
        train_teacher(task, str(path), model=model, img_size=IMG_SIZE, steps=teacher_steps, seed=SEED, verbose=False)
        common.write_json(timing, dict(train_seconds=time.time() - t0))
    seconds = json.loads(timing.read_text())["train_seconds"] if timing.is_file() else None
    return path, seconds


def _scores(teacher: Path, pool, cache: Path) -> dict:
    key = common.content_key("scores", common.sha256_file(teacher), pool.digest().hex(), TEMPERATURE)
    path = cache / "scores" / f"{key}.npz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        score_pool(str(teacher), pool.spec, str(path), T=TEMPERATURE, pool=pool)
    return dict(np.load(path))


def run(out: str | Path, mode: str = "default", cache: str | Path = common.DEFAULT_CACHE, *, pool_spec: str | None = None,
        teacher_steps: int = TEACHER_STEPS, student_steps_range=STUDENT_STEPS, model: str = MODEL,
        tasks=None, baselines: bool | None = None, verbose: bool = True) -> list:
    """Run the demo plan; returns the list of result records (also written to out/)."""
    import torch

    t_start = time.time()
    out, cache = Path(out), Path(cache)
    (out / "payloads").mkdir(parents=True, exist_ok=True)
    runs = plan(mode)
    if tasks:
        runs = {t: runs[t] for t in tasks if t in runs}
    baselines = (mode != "quick") if baselines is None else baselines
    pool = open_pool(pool_spec or (QUICK_POOL if mode == "quick" else FULL_POOL), cache)
    digest = pool.digest()
    common.setup_torch(seed=SEED)
    records, extras = [], {}

    def log(msg):
        if verbose:
            print(f"[demo {time.time() - t_start:6.0f}s] {msg}", flush=True)

    log(f"pool {pool.spec}: {len(pool)} items, digest {digest.hex()[:16]}...")
    for task, items in runs.items():
        t = load_task(task)
        tpath, teacher_seconds = _teacher(task, cache, teacher_steps, model)
        ckpt = common.load_checkpoint(tpath)
        teacher_acc = float(ckpt["teacher_acc"])
        log(f"{task}: teacher {model} accuracy {teacher_acc:.4f}")
        scores = _scores(tpath, pool, cache)
        relevant = relevant_mask(pool, task)
        truth = _fashion_truth(pool) if task.startswith("fashion") else None
        leak = leakage(t["test_x"], pool.images)
        extras[task] = dict(leakage=leak, n_train=len(t["train_y"]), n_test=len(t["test_y"]),
                            train_class_counts=np.bincount(t["train_y"], minlength=len(t["classes"])).tolist())
        log(f"{task}: leakage test vs pool: {leak}")
        records.append(dict(task=task, rule="teacher", keep=None, alpha=None, reserve=None,
                            payload_bytes=int8_weight_bytes(ckpt["state_dict"]), k=None, precision=None,
                            student_acc=teacher_acc, teacher_acc=teacher_acc, seconds=teacher_seconds,
                            note="teacher weights INT8 + Zstd-19"))
        # the student-on-images baseline costs a full training run: in the default mode
        # only on fashion (the --full matrix has it on every task)
        if baselines and (mode != "default" or task == "fashion"):
            t0 = time.time()
            ib = image_bytes(t["train_x"], t["train_y"])
            from types import SimpleNamespace

            direct = SimpleNamespace(indices=np.arange(len(t["train_y"])), labels=t["train_y"], classes=t["classes"])
            res = train_student(direct, common.ArrayPool(t["train_x"]), task=t, model=model, img_size=IMG_SIZE,
                                steps=student_steps(len(t["train_y"]), student_steps_range), batch_size=STUDENT_BATCH,
                                seed=SEED, verbose=False)
            records.append(dict(task=task, rule="target-train-images", keep=None, alpha=None, reserve=None,
                                payload_bytes=ib["zstd"], png_bytes=ib["png"], k=len(t["train_y"]), precision=None,
                                student_acc=res["student_acc"], teacher_acc=teacher_acc, seconds=time.time() - t0,
                                note="student on the labelled target-train images; bytes = Zstd-19 of raw pixels"))
            log(f"{task}: student on target-train images {res['student_acc']:.4f}; images {ib['png']} B PNG, "
                f"{ib['zstd']} B Zstd")
        for rule, p, alpha in items:
            for seed in seeds(mode, p):
                records.append(_selection_run(task, t, rule, p, alpha, seed, scores, pool, relevant, truth, out,
                                              model, teacher_acc, student_steps_range))
                rec = records[-1]
                log(f"{task} {rule:15s} p={p:<5g} a={alpha:<5g} seed={seed} k={rec['k']:6d} "
                    f"bytes={rec['payload_bytes']:7d} precision={rec['precision']:.3f} "
                    f"student={rec['student_acc']:.4f} ({rec['student_acc'] / teacher_acc:.1%} of teacher) "
                    f"{rec['seconds']:.0f}s")
    if mode == "full":
        # importance weights vs the same bytes spent on more items (issue #17, WEIGHTING_RESULTS.md)
        from .weighting_experiment import experiment

        experiment(out, cache, pool=pool, model=model, student_steps_range=student_steps_range, log=log)
    wall = time.time() - t_start
    summary = dict(mode=mode, pool=pool.spec, pool_size=len(pool), pool_digest=digest.hex(), model=model,
                   img_size=IMG_SIZE, teacher_steps=teacher_steps, student_steps=list(student_steps_range),
                   student_epochs=STUDENT_EPOCHS, student_batch=STUDENT_BATCH, temperature=TEMPERATURE,
                   safety_net_reserve=RESERVE, default_rule=DEFAULT_RULE, seed=SEED,
                   seeds_1pct=list(seeds(mode, 0.01)), wall_seconds=wall,
                   torch=torch.__version__, python=platform.python_version(), machine=platform.machine(),
                   threads=torch.get_num_threads(), tasks=extras)
    common.write_json(out / "results.json", dict(summary=summary, records=records))
    (out / "report.md").write_text(report(records, summary))
    try:
        plot(aggregate(records), out / "accuracy_vs_payload.png")
    except Exception as exc:  # a missing matplotlib must not lose the results
        log(f"plot skipped: {exc}")
    log(f"done in {wall:.0f}s -> {out}/results.json, report.md, accuracy_vs_payload.png")
    return records


def _selection_run(task, t, rule, p, alpha, seed, scores, pool, relevant, truth, out, model, teacher_acc,
                   student_steps_range) -> dict:
    """Select, build the payload file, and run the client stage on that file alone; one result record."""
    t0 = time.time()
    digest = pool.digest()
    reserve = RESERVE if rule == "safety-net" else None
    idx = select(rule, scores, p, seed=seed, alpha=alpha, reserve=RESERVE)
    meta = dict(task=task, teacher=model, T=TEMPERATURE, rule=rule, p=p, s=reserve, alpha=alpha, seed=seed,
                pool=pool.spec)
    data = build_payload(idx, scores["labels"][idx], pool_size=len(pool), classes=t["classes"],
                         pool_digest=digest, metadata=meta)
    again = build_payload(select(rule, scores, p, seed=seed, alpha=alpha, reserve=RESERVE),
                          scores["labels"][idx], pool_size=len(pool), classes=t["classes"],
                          pool_digest=digest, metadata=meta)
    fname = out / "payloads" / (f"{task}_{rule}_p{p:g}{'_a' + format(alpha, 'g') if rule == 'safety-net' else ''}"
                                f"{'' if seed == SEED else f'_s{seed}'}.plada")
    fname.write_bytes(data)
    # the client stage: only the payload file and the local pool cross over
    payload = read_payload(fname, pool)
    res = train_student(payload, pool, task=t, model=model, img_size=IMG_SIZE,
                        steps=student_steps(len(idx), student_steps_range), batch_size=STUDENT_BATCH,
                        seed=seed, verbose=False)
    return dict(task=task, rule=rule, keep=p, alpha=alpha if rule in ("safety-net", "stratified") else None,
                reserve=reserve, seed=seed, payload_bytes=len(data), k=int(len(idx)),
                precision=float(relevant[idx].mean()), student_acc=res["student_acc"], teacher_acc=teacher_acc,
                seconds=time.time() - t0, deterministic=data == again,
                classes_kept=int(len(np.unique(scores["labels"][idx]))),
                min_class_count=int(np.bincount(scores["labels"][idx], minlength=len(t["classes"])).min()),
                label_acc=_label_acc(truth, idx, scores["labels"]))


def _fashion_truth(pool):
    """Diagnostics only: the true Fashion-MNIST label of each pool item (-1 elsewhere).

    Never used to select or train; it measures how often the teacher's pseudo-labels
    on the kept Fashion-MNIST items are right (the 'label_acc' column).
    """
    from .pools import load_fashion

    truth = np.full(len(pool), -1, np.int64)
    _, y = load_fashion("train")
    for i, s in enumerate(pool.sources):
        if s.startswith("fashion-mnist:train:"):
            truth[i] = y[int(s.rsplit(":", 1)[1])]
    return truth


def _label_acc(truth, idx, labels):
    if truth is None:
        return None
    t = truth[idx]
    m = t >= 0
    return float((t[m] == labels[idx][m]).mean()) if m.any() else None


# -----------------------------------------------------------------------------
# report and plot

def _fmt(v, f="{:.4f}"):
    return "" if v is None else f.format(v)


def aggregate(records) -> list:
    """One row per (task, rule, keep, alpha): the mean over its seeds, with n_seeds and student_sd.

    student_sd is the sample standard deviation (ddof = 1); None for a single seed. Other
    numeric columns are means too (payload bytes and k vary with the seed only for rules
    that draw at random).
    """
    groups: dict = {}
    for r in records:
        groups.setdefault((r["task"], r["rule"], r["keep"], r["alpha"]), []).append(r)
    rows = []
    for rs in groups.values():
        row = dict(rs[0], n_seeds=len(rs), seeds=[r.get("seed") for r in rs])
        for k, v in rs[0].items():
            vals = [r[k] for r in rs]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and None not in vals:
                row[k] = float(np.mean(vals)) if isinstance(v, float) else int(round(np.mean(vals)))
        acc = [r["student_acc"] for r in rs]
        row["student_sd"] = float(np.std(acc, ddof=1)) if len(rs) > 1 else None
        row["deterministic"] = all(r.get("deterministic", True) for r in rs)
        rows.append(row)
    return rows


def pareto(recs):
    """Runs not beaten by another run with fewer (or equal) bytes and higher (or equal) accuracy."""
    front = []
    for r in recs:
        if not any(o is not r and o["payload_bytes"] <= r["payload_bytes"] and o["student_acc"] >= r["student_acc"]
                   and (o["payload_bytes"], -o["student_acc"]) != (r["payload_bytes"], -r["student_acc"]) for o in recs):
            front.append(r)
    return front


def report(records, summary) -> str:
    lines = ["# PLADA reference pipeline: demo report", "",
             f"Mode `{summary['mode']}`; pool `{summary['pool']}` ({summary['pool_size']:,} items, digest "
             f"`{summary['pool_digest'][:16]}…`); teacher and student `{summary['model']}` at {summary['img_size']} px; "
             f"T = {summary['temperature']}; Safety-Net reserve s = {summary['safety_net_reserve']}; default rule "
             f"`{summary['default_rule']}`; seed {summary['seed']}; torch {summary['torch']}, {summary['threads']} threads. "
             f"Wall time **{summary['wall_seconds']:.0f} s**.", "",
             f"Seeds: each row says how many runs its figures average (*seeds*). Rows with several seeds vary "
             f"the selection seed and the student seed together (seeds {summary.get('seeds_1pct')}) and show "
             f"student accuracy as mean ± sample sd; the other columns are means. Teacher, scores and "
             f"single-seed rows use seed {summary['seed']}.", ""]
    rows = aggregate(records)
    for task in dict.fromkeys(r["task"] for r in rows):
        recs = [r for r in rows if r["task"] == task]
        teacher = recs[0]["teacher_acc"]
        ex = summary["tasks"].get(task, {})
        lines += [f"## {task}", "",
                  f"target-train {ex.get('n_train')} images (class counts {ex.get('train_class_counts')}), "
                  f"target-test {ex.get('n_test')}. Leakage target-test vs pool: {ex.get('leakage')}.", "",
                  "| rule | keep | α | s | seeds | k | payload bytes | precision | pseudo-label acc "
                  "| classes (min count) | student acc | % of teacher | s/run |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in recs:
            extra = f" (PNG {r['png_bytes']:,})" if r.get("png_bytes") else ""
            lines.append(f"| {r['rule']} | {_fmt(r['keep'], '{:g}')} | {_fmt(r['alpha'], '{:g}')} | "
                         f"{_fmt(r['reserve'], '{:g}')} | {r['n_seeds']} | {_fmt(r['k'], '{:,}')} | "
                         f"{r['payload_bytes']:,}{extra} | "
                         f"{_fmt(r['precision'], '{:.3f}')} | {_fmt(r.get('label_acc'), '{:.3f}')} | "
                         f"{_fmt(r.get('classes_kept'), '{}')}{_fmt(r.get('min_class_count'), ' ({})')} | "
                         f"{r['student_acc']:.4f}{_fmt(r['student_sd'], ' ± {:.4f}')} | "
                         f"{r['student_acc'] / teacher:.1%} | {_fmt(r['seconds'], '{:.0f}')} |")
        sel = [r for r in recs if r["keep"] is not None]
        if sel:
            front = pareto(sel)
            lines += ["", "Pareto front (payload bytes vs student accuracy, selection rows; means over seeds): " +
                      ", ".join(f"{r['rule']}@{r['keep']:g} ({r['payload_bytes']:,} B, {r['student_acc']:.3f})"
                                for r in sorted(front, key=lambda r: r["payload_bytes"])) + "."]
        lines.append("")
    lines += ["Columns: *precision* = fraction of kept items from the task's own source (Fashion-MNIST items for the "
              "fashion tasks, rendered digit glyphs for digits). *teacher* row: bytes of its weights as INT8 + Zstd-19. "
              "*target-train-images* row: a student trained on the labelled target-train images; bytes = Zstd-19 of "
              "the raw pixels + labels (PNG in parentheses). *pseudo-label acc* (fashion tasks, diagnostics only): "
              "how often the sent label of a kept Fashion-MNIST item equals its true label. *classes (min count)*: "
              "distinct labels sent and the smallest class's count.", ""]
    return "\n".join(lines)


def plot(records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in records))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4.2), squeeze=False)
    markers = dict(zip(["stratified", "random", "lowest-energy", "highest-energy", "lowest-entropy", "safety-net",
                        "teacher", "target-train-images"], "o^v>s*DP"))
    for ax, task in zip(axes[0], tasks):
        recs = [r for r in records if r["task"] == task]
        for rule in dict.fromkeys(r["rule"] for r in recs):
            rr = sorted((r for r in recs if r["rule"] == rule), key=lambda r: r["payload_bytes"])
            ax.plot([r["payload_bytes"] for r in rr], [r["student_acc"] for r in rr], marker=markers.get(rule, "x"),
                    linestyle="-" if len(rr) > 1 else "none", label=rule)
        ax.axhline(recs[0]["teacher_acc"], color="gray", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("payload bytes (log)")
        ax.set_ylabel("student accuracy (target-test)")
        ax.set_title(task)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="plada demo", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="fashion only, small pool (<= 3 min on 2 cores)")
    g.add_argument("--full", action="store_true", help="the whole matrix (tens of minutes)")
    ap.add_argument("--out", default="demo_out", help="output directory (default ./demo_out)")
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE), help="cache for pool, teachers, scores")
    ap.add_argument("--model", default=MODEL, help=f"timm model for teacher and student (default {MODEL})")
    a = ap.parse_args(argv)
    common.check_model_name(a.model)
    mode = "quick" if a.quick else "full" if a.full else "default"
    run(a.out, mode, a.cache, model=a.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
