"""Importance weights of the kept items, measured: against the same payload unweighted, and against
the unweighted payload that the same bytes buy (issue #17; the schemes are in weighting.py).

For each task, keep rate p and seed (the seed sets both the selection and the student, as in
`plada demo --full`), on the default rule's selection (stratified):
  none            the payload alone, the plain loss: today's student
  class-balanced  zero bytes. The stratified quotas are balanced, so the class weights are all
                  equal and the student is the `none` student bit for bit (weighting.class_weights
                  returns None): recorded as such, not retrained; where the quotas are capped (a
                  class with too few candidates) it is trained
  confidence      the confidence weight stream (weighting.BITS bits per item); bytes = payload +
                  the weight section
  equal-bytes     unweighted, at the largest keep count k' whose payload is no bigger than the
                  confidence run's payload + weight section: what the same bytes buy as more items
  confidence-1bit, equal-bytes-1bit: the same with a 1-bit stream (run last)
and, where class weights are not all equal, the random rule at 1 % on every task (its label
counts follow the teacher's skewed labelling of the pool): none, class-balanced, class-sqrt.
Students: the demo's recipe (demo.student_steps, plada_cnn at 28 px, the broad pool); the teachers
and scores come from the demo's cache (trained and scored on a miss).

Output in OUT: weighting*.jsonl, one JSON line per run, appended as each run ends (a rerun skips
the runs already in any of them; --shard I/N runs every N-th run into its own file, so that N
processes share the list), and weighting.md: the tables and the issue's decision rule applied
to them (--report-only rebuilds it from the jsonl files).

Usage:  python -m reference_pipeline.weighting_experiment --out weighting_out [--shard 0/2] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import common
from .build_payload import build_payload
from .pools import open_pool
from .selection import DEFAULT_RULE, select
from .tasks import load_task
from .train_student import read_payload, train_student
from .weighting import BITS, confidence_levels, entropy_bytes, weight_section

# -----------------------------------------------------------------------------
# knobs

TASKS = ("fashion-lt", "fashion", "digits")
KEEPS = (0.01, 0.10)
CONFIGS = ("none", "confidence", "equal-bytes", "class-balanced")   # on the default rule's selection
ONE_BIT = ("confidence-1bit", "equal-bytes-1bit")                  # after everything else, if time allows
EXTRA = [(task, 0.01, "random", c) for task in TASKS for c in ("none", "class-balanced", "class-sqrt")]
NOISE_SDS = 2.0     # the decision rule: a difference counts when it exceeds 2 x the larger of the two sds


def plan(seeds) -> list:
    """(task, p, rule, config, seed) in run order.

    Every 1 % run first (then the random-rule runs, then 10 %), so that a cut run still has
    whole keep rates. Within a task the trained configs come seed by seed and class-balanced
    (untrained where its weights are all equal) last, so that --shard I/N's every-N-th split
    gives the shards about the same training time.
    """
    trained = [c for c in CONFIGS if c != "class-balanced"]
    runs = []
    for p in KEEPS:
        for task in TASKS:
            runs += [(task, p, DEFAULT_RULE, c, s) for s in seeds for c in trained]
            runs += [(task, p, DEFAULT_RULE, "class-balanced", s) for s in seeds]
        if p == KEEPS[0]:
            runs += [(task, q, rule, c, s) for s in seeds for task, q, rule, c in EXTRA]
    for p in KEEPS:
        runs += [(task, p, DEFAULT_RULE, c, s) for task in TASKS for s in seeds for c in ONE_BIT]
    return runs


def stream_config(config: str) -> tuple:
    """('confidence' | 'equal-bytes' | None, bits) of a config name."""
    base = config.removesuffix("-1bit")
    return (base if base in ("confidence", "equal-bytes") else None), (1 if base != config else BITS)


def _key(r) -> tuple:
    return (r["task"], r["keep"], r["rule"], r["config"], r["seed"])


class Context:
    """Pool, tasks, teachers and scores, loaded once per process (demo's cache)."""

    def __init__(self, out: Path, cache: Path, model: str, student_steps_range, pool=None):
        from . import demo

        self.demo, self.out, self.cache, self.model, self.steps_range = demo, out, cache, model, student_steps_range
        self.pool = pool if pool is not None else open_pool(demo.FULL_POOL, cache)
        self.digest = self.pool.digest()
        self.tasks: dict = {}

    def task(self, name: str):
        if name not in self.tasks:
            tpath, _ = self.demo._teacher(name, self.cache, self.demo.TEACHER_STEPS, self.model)
            teacher_acc = float(common.load_checkpoint(tpath)["teacher_acc"])
            scores = self.demo._scores(tpath, self.pool, self.cache)
            truth = self.demo._fashion_truth(self.pool) if name.startswith("fashion") else None
            self.tasks[name] = (load_task(name), scores, teacher_acc, truth)
        return self.tasks[name]

    def encode(self, task: str, t, idx, labels, meta) -> bytes:
        return build_payload(idx, labels, pool_size=len(self.pool), classes=t["classes"], pool_digest=self.digest,
                             metadata=meta)


def equal_bytes_keep(ctx, task, t, scores, rule, seed, k, target, meta) -> tuple:
    """(indices, payload) of the largest k' >= k whose unweighted payload is <= target bytes.

    Bytes grow with k (not strictly, by a few bytes): a bisection on k', then a check that the
    found payload fits.
    """
    n = len(ctx.pool)

    def sized(kk):
        idx = select(rule, scores, kk / n, seed=seed)
        if len(idx) != kk:
            raise common.PipelineError(f"equal-bytes search: asked for {kk} items, the rule kept {len(idx)}")
        # p to 4 significant digits, as a person would write it: full float precision would
        # spend up to 16 metadata bytes of the budget and make the bytes jump between neighbouring k
        return idx, ctx.encode(task, t, idx, scores["labels"][idx], dict(meta, p=float(f"{kk / n:.4g}")))

    lo, hi = k, 2 * k          # invariant: bytes(lo) <= target < bytes(hi)
    while len(sized(hi)[1]) <= target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if len(sized(mid)[1]) <= target:
            lo = mid
        else:
            hi = mid
    return sized(lo)


def one_run(ctx, task, p, rule, config, seed) -> dict:
    """Select, encode, (stream,) write the payload file, decode it as a client and train; one record."""
    t0 = time.time()
    t, scores, teacher_acc, truth = ctx.task(task)
    idx = select(rule, scores, p, seed=seed)
    labels = scores["labels"][idx]
    meta = dict(task=task, teacher=ctx.model, T=ctx.demo.TEMPERATURE, rule=rule, p=p, seed=seed,
                pool=ctx.pool.spec)
    data = ctx.encode(task, t, idx, labels, meta)
    rec = dict(task=task, keep=p, rule=rule, config=config, seed=seed, teacher_acc=teacher_acc, k=int(len(idx)),
               payload_bytes=len(data), stream_bytes=0)
    kind, bits = stream_config(config)
    scheme, stream = ("none" if kind == "equal-bytes" else kind or config), None
    if kind:
        blob = weight_section(scores["margin"][idx], labels, bits)
        levels = confidence_levels(scores["margin"][idx], bits)
        ent = entropy_bytes(levels, labels)
        rec.update(bits=bits, weight_section_bytes=len(blob), entropy_conditional_bytes=ent["conditional"],
                   entropy_marginal_bytes=ent["marginal"],
                   level_counts=np.bincount(levels, minlength=1 << bits).tolist())
        if truth is not None:  # diagnostics only: how often the sent label is right, per level
            tr = truth[idx]
            rec["level_label_acc"] = [float((tr[(levels == q) & (tr >= 0)] == labels[(levels == q) & (tr >= 0)]).mean())
                                      if ((levels == q) & (tr >= 0)).any() else None for q in range(1 << bits)]
        if kind == "confidence":
            stream = blob
            rec["stream_bytes"] = len(blob)
        else:
            target = len(data) + len(blob)
            idx, data = equal_bytes_keep(ctx, task, t, scores, rule, seed, len(idx), target, meta)
            rec.update(k=int(len(idx)), payload_bytes=len(data), target_bytes=target)
    name = f"{task}_{rule}_p{p:g}_{config}_s{seed}.plada"
    (ctx.out / "payloads").mkdir(parents=True, exist_ok=True)
    common.write_bytes_atomic(ctx.out / "payloads" / name, data)
    if stream is not None:
        common.write_bytes_atomic(ctx.out / "payloads" / (name + ".weights"), stream)
    # the client stage: the payload file (and the sidecar) and the local pool
    payload = read_payload(ctx.out / "payloads" / name, ctx.pool)
    from .weighting import client_weights

    if scheme != "none" and client_weights(scheme, payload.labels, stream) is None:
        rec.update(student_acc=None, same_as_none=True, seconds=time.time() - t0)
        return rec
    res = train_student(payload, ctx.pool, task=t, model=ctx.model, img_size=ctx.demo.IMG_SIZE,
                        steps=ctx.demo.student_steps(rec["k"], ctx.steps_range), batch_size=ctx.demo.STUDENT_BATCH,
                        seed=seed, verbose=False, weighting=scheme, weight_stream=stream)
    rec.update(student_acc=res["student_acc"], weighted=res["weighted"], seconds=time.time() - t0,
               min_class_count=int(np.bincount(payload.labels, minlength=len(t["classes"])).min()))
    return rec


def read_records(out: Path) -> list:
    recs = []
    for f in sorted(out.glob("weighting*.jsonl")):
        recs += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return recs


def experiment(out, cache=common.DEFAULT_CACHE, *, pool=None, model: str | None = None, student_steps_range=None,
               seeds=None, shard=(0, 1), log=print) -> list:
    """Run the plan's runs of this shard that are not in OUT yet; write weighting.md; return all records."""
    from . import demo

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(out, Path(cache), model or demo.MODEL, student_steps_range or demo.STUDENT_STEPS, pool)
    done = {_key(r) for r in read_records(out)}
    i, n = shard
    mine = [r for j, r in enumerate(plan(seeds or demo.FULL_SEEDS)) if j % n == i]
    path = out / (f"weighting-{i}of{n}.jsonl" if n > 1 else "weighting.jsonl")
    for task, p, rule, config, seed in mine:
        if (task, p, rule, config, seed) in done:
            continue
        rec = one_run(ctx, task, p, rule, config, seed)
        with open(path, "a") as f:   # one line per finished run: a crash loses only the run in progress
            f.write(json.dumps(rec, sort_keys=True) + "\n")
        acc = "= none" if rec.get("same_as_none") else f"{rec['student_acc']:.4f}"
        log(f"weighting {task} p={p:g} {rule} {config} seed={seed} k={rec['k']} bytes={rec['payload_bytes']}"
            f"+{rec['stream_bytes']} student={acc} {rec['seconds']:.0f}s")
    recs = read_records(out)
    (out / "weighting.md").write_text(report(recs))
    return recs


# -----------------------------------------------------------------------------
# report: tables and the decision rule

def _rows(recs) -> dict:
    """{(task, keep, rule, config): row} with accuracies per seed (a same-as-none run takes none's)."""
    acc_none = {(r["task"], r["keep"], r["rule"], r["seed"]): r["student_acc"] for r in recs if r["config"] == "none"}
    groups: dict = {}
    for r in recs:
        groups.setdefault((r["task"], r["keep"], r["rule"], r["config"]), []).append(r)
    rows = {}
    for key, rs in groups.items():
        rs = sorted(rs, key=lambda r: r["seed"])
        accs = {r["seed"]: acc_none.get((r["task"], r["keep"], r["rule"], r["seed"])) if r.get("same_as_none")
                else r["student_acc"] for r in rs}
        if None in accs.values():
            continue
        a = np.array(list(accs.values()))
        rows[key] = dict(accs=accs, mean=float(a.mean()), sd=float(a.std(ddof=1)) if len(a) > 1 else None,
                         n=len(a), k=float(np.mean([r["k"] for r in rs])),
                         payload=float(np.mean([r["payload_bytes"] for r in rs])),
                         stream=float(np.mean([r["stream_bytes"] for r in rs])),
                         same_as_none=all(r.get("same_as_none") for r in rs), recs=rs)
    return rows


def compare(a: dict, b: dict) -> dict:
    """a minus b: difference of means, the larger sd, the verdict (gain/loss/noise), and the paired difference."""
    d = a["mean"] - b["mean"]
    sd = max(a["sd"] or 0.0, b["sd"] or 0.0)
    common_seeds = sorted(set(a["accs"]) & set(b["accs"]))
    paired = [a["accs"][s] - b["accs"][s] for s in common_seeds]
    verdict = "n/a" if a["n"] < 2 or b["n"] < 2 else "gain" if d > NOISE_SDS * sd else \
        "loss" if d < -NOISE_SDS * sd else "noise"
    return dict(d=d, sd=sd, verdict=verdict, paired_mean=float(np.mean(paired)) if paired else None,
                paired_sd=float(np.std(paired, ddof=1)) if len(paired) > 1 else None)


def _acc(row) -> str:
    return f"{row['mean']:.4f}" + (f" ± {row['sd']:.4f}" if row["sd"] is not None else "") + f" (n={row['n']})"


def _cmp(c) -> str:
    paired = "" if c["paired_mean"] is None else f"; paired {c['paired_mean']:+.4f}" + (
        f" ± {c['paired_sd']:.4f}" if c["paired_sd"] is not None else "")
    return f"{c['d']:+.4f} (2 sd {NOISE_SDS * c['sd']:.4f}: **{c['verdict']}**{paired})"


def report(recs) -> str:
    rows = _rows(recs)
    lines = ["# Importance weighting of the kept items: results", "",
             "Accuracy: student on target-test, mean ± sample sd over seeds (n = seeds; each seed sets the "
             "selection and the student). Bytes: means over seeds. *stream B*: the confidence weight section "
             f"({BITS} bits per item, section header (12 bytes in format 1.3, 8-10 in 2.0) + range-coder body); *H(q|y)*: k·H(level | label)/8, "
             "the empirical conditional entropy of the levels. Verdicts: a difference of means beyond "
             f"{NOISE_SDS:g} × the larger sd is a gain or a loss, else noise; *paired*: mean ± sd of the per-seed "
             "differences.", "",
             "| task | keep | rule | weighting | k | payload B | stream B | H(q\\|y) B | total B | student acc "
             "| vs none | vs equal-bytes |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    decisions = dict(zero=[], stream=[])
    order = CONFIGS + ONE_BIT
    for key in sorted(rows, key=lambda k: (k[1], k[0], k[2], order.index(k[3]) if k[3] in order else 9)):
        task, p, rule, config = key
        r = rows[key]
        none = rows.get((task, p, rule, "none"))
        kind = stream_config(config)[0]
        eq = rows.get((task, p, rule, config.replace("confidence", "equal-bytes")))
        ent = [x["entropy_conditional_bytes"] for x in r["recs"] if "entropy_conditional_bytes" in x]
        vs_none = vs_eq = ""
        if config != "none" and none is not None:
            c = compare(r, none)
            vs_none = "identical (all class weights equal)" if r["same_as_none"] else _cmp(c)
            if config in ("class-balanced", "class-sqrt") and not r["same_as_none"]:
                decisions["zero"].append((config, task, p, rule, c))
        if kind == "confidence" and eq is not None:
            c = compare(r, eq)
            vs_eq = _cmp(c)
            decisions["stream"].append((config, task, p, rule, c))
        lines.append(f"| {task} | {p:g} | {rule} | {config} | {r['k']:,.0f} | {r['payload']:,.0f} | "
                     f"{r['stream']:,.0f} | {np.mean(ent) if ent and kind == 'confidence' else 0:,.0f} | "
                     f"{r['payload'] + r['stream']:,.0f} | {_acc(r)} | {vs_none} | {vs_eq} |")
    lines += ["", "## Decision rule", ""]
    verdicts = {}
    for scheme in ("class-balanced", "class-sqrt"):
        cs = [x for x in decisions["zero"] if x[0] == scheme]
        if cs:
            gains = [(c["d"], f"{t} {p:g} {rule}") for _, t, p, rule, c in cs if c["verdict"] == "gain"]
            losses = [f"{t} {p:g} {rule}" for _, t, p, rule, c in cs if c["verdict"] == "loss"]
            verdicts[scheme] = (gains, losses)
    # one default among those that qualify: the best mean difference over every run it changed
    # (runs where its weights are all equal are the none runs, and left out)
    qualified = {s: float(np.mean([x[4]["d"] for x in decisions["zero"] if x[0] == s]))
                 for s, (g, losses) in verdicts.items() if g and not losses}
    best = max(qualified, key=qualified.get) if qualified else None
    for scheme, (gains, losses) in verdicts.items():
        mean_d = f" (mean difference over the runs it changes {qualified[scheme]:+.4f})" if scheme in qualified else ""
        outcome = "becomes the default" if scheme == best else \
            f"qualifies, but {best} has the better mean difference" if scheme in qualified else "stays off (default none)"
        outcome = mean_d + " → " + outcome
        lines.append(f"- **{scheme}** (zero bytes): gains beyond {NOISE_SDS:g} sd on {[g for _, g in gains] or 'none'}; "
                     f"losses beyond noise on {losses or 'none'}{outcome}.")
    for variant in dict.fromkeys(x[0] for x in decisions["stream"]):
        beats = [(t, p, rule) for v, t, p, rule, c in decisions["stream"] if v == variant and c["verdict"] == "gain"]
        # a win over the equal-bytes payload means nothing where the plain payload at p is at least as
        # accurate with fewer bytes: there the best use of the stream's bytes is not to send them
        dominated = [f"{t} {p:g}" for t, p, rule in beats
                     if rows[(t, p, rule, "none")]["mean"] >= rows[(t, p, rule, variant)]["mean"]]
        wins = [f"{t} {p:g}" for t, p, _ in beats if f"{t} {p:g}" not in dominated]
        lines.append(f"- **{variant} weight stream** vs the unweighted payload of equal bytes: beats it beyond noise "
                     f"on {[f'{t} {p:g}' for t, p, _ in beats] or 'no task'}"
                     + (f", but there the plain payload at p is more accurate with fewer bytes ({dominated})"
                        if dominated else "") + " → "
                     f"{'a candidate ancillary section for format 2.0' if wins else 'stays out of SPEC.md (a negative result)'}.")
    lines.append("")
    return "\n".join(lines)


def main(argv=None):
    from . import demo

    ap = argparse.ArgumentParser(prog="python -m reference_pipeline.weighting_experiment",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="weighting_out", help="output directory (default ./weighting_out)")
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE), help="cache for pool, teachers, scores (the demo's)")
    ap.add_argument("--shard", default="0/1", help="I/N: run every N-th run of the plan starting at I (default 0/1)")
    ap.add_argument("--seeds", default=",".join(map(str, demo.FULL_SEEDS)), help="comma-separated seeds")
    ap.add_argument("--report-only", action="store_true", help="rebuild weighting.md from the jsonl files only")
    a = ap.parse_args(argv)
    try:
        i, n = (int(x) for x in a.shard.split("/"))
        if not 0 <= i < n:
            raise ValueError
    except ValueError:
        raise common.PipelineError(f"--shard {a.shard!r}: expected I/N with 0 <= I < N") from None
    if a.report_only:
        Path(a.out, "weighting.md").write_text(report(read_records(Path(a.out))))
        return 0
    t0 = time.time()
    experiment(a.out, a.cache, seeds=tuple(int(s) for s in a.seeds.split(",")), shard=(i, n),
               log=lambda m: print(f"[{time.time() - t0:6.0f}s] {m}", flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
