"""What `auto` loses without each format 1.3 mode, on every benchmark workload (issue #15).

    python -m benchmarks.mode_audit                 # every workload, then MODE_AUDIT.md
    python -m benchmarks.mode_audit --only REGEX    # measure only matching workloads
    python -m benchmarks.mode_audit --render        # rewrite MODE_AUDIT.md from the JSON

Per workload and per stream (index, labels) it measures the body size of every candidate
`pladafmt.encode(index_mode="auto", label_mode="auto")` weighs: each mode of the stream's
table, raw and Zstd-wrapped at level 19, each produced by the mode's own encoder
(`Mode.encode`, what `encode` calls; the bitmap left out where `encode` leaves it out).
From these sizes, with the codec's own rule (`pladafmt._codec.auto_choice`: a costlier
decode must save AUTO_MIN_GAIN of its stream):

    auto        the choice over all candidates (checked against `pladafmt.encode` on every
                case with k <= CHECK_MAX_K: same payload length, same modes)
    without M   the choice over the candidates left when M and M+zstd are removed
    without +zstd   the choice when every Zstd-wrapped candidate is removed
    loss        bytes(without) - bytes(auto).  The two streams are independent sections,
                so this is also what the whole payload grows by.

and the same with min_gain = 0 ("smallest": pure size).  Nothing in the codec is changed.

Workloads: `benchmarks.workloads.full_matrix()` (all 54 synthetic cases at their full
sizes); the real selections of reference-pipeline score files when any are found (as the
benchmark does), otherwise the 20 real selections of the committed benchmark results
(`results/2026-11-28-vm.json`, which holds every candidate's stream size; the run checks
that file's sizes against fresh encodes of its synthetic cases first); and IN-21K-like
selections: `reference_pipeline.synth_scores` (14,197,122 items, seed 0) with C = 101 and
C = 1000, then `reference_pipeline.selection` at 1 % with the rules stratified,
lowest-energy and random (seed 0).

Results go to results/mode_audit.json (one entry per workload, written after each, so a
run can be split with --only and resumed) and MODE_AUDIT.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import struct
import subprocess
import sys
import time

import numpy as np

from . import workloads as W

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JSON_PATH = os.path.join(HERE, "results", "mode_audit.json")
MD_PATH = os.path.join(HERE, "MODE_AUDIT.md")
COMMITTED = os.path.join(HERE, "results", "2026-11-28-vm.json")
SCHEMA = "pladafmt-mode-audit/1"
ZSTD_LEVEL = 19
PAYLOAD_OVERHEAD = 88 + 2 * 12   # header + the two stream section headers (no names, no metadata)
CHECK_MAX_K = 200_000            # cases up to here are also encoded by pladafmt.encode
REALISTIC_MAX_KEEP = 0.10        # the paper's keep rates of interest are 0.1-10 % ...
REALISTIC_MIN_K = 1000           # ... of real pools; a 60-item task's payload is ~250 B, where
#                                  a few bytes are over 1 % (such cases count in "all")
KEEP_RULE = 0.01                 # issue #15: keep a mode that saves more than ~1 %
STREAMS = ("index", "labels")
# The paper's own encodings (issue #15): delta varint, bitmap, packed labels, Zstd-wrapped.
PAPER_OWN = {("index", "varint"), ("index", "bitmap"), ("labels", "packed"),
             ("index", "+zstd"), ("labels", "+zstd")}
ZSTD_ROW = "+zstd"               # the row for "every Zstd-wrapped candidate removed"

SYNTH_CLASSES = (101, 1000)
SYNTH_RULES = ("stratified", "lowest-energy", "random")
SYNTH_KEEP = 0.01
SYNTH_SEED = 0


# --------------------------------------------------------------------------- sizes
def _tables():
    from pladafmt._modes import INDEX_MODE_TABLE, LABEL_MODE_TABLE
    return {"index": INDEX_MODE_TABLE, "labels": LABEL_MODE_TABLE}


def stream_sizes(idx: np.ndarray, lab: np.ndarray, n: int, c: int,
                 zstd_level: int = ZSTD_LEVEL) -> dict:
    """{"index": {variant: body bytes}, "labels": {...}} for every candidate of `auto`;
    variant = mode name, or mode name + "+zstd"."""
    from pladafmt._codec import AUTO_BITMAP_MAX_BYTES
    from pladafmt._zstd import zstd_wrap
    out = {}
    for kind, table in _tables().items():
        values, size = (idx, n) if kind == "index" else (lab, c)
        sizes = {}
        for m in table.values():
            if m.name == "bitmap" and (n + 7) // 8 > AUTO_BITMAP_MAX_BYTES:
                continue                      # encode's rule: auto never weighs it there
            raw = m.encode(values, size, *((idx,) if m.needs_indices else ()))
            sizes[m.name] = len(raw)
            sizes[m.name + "+zstd"] = len(zstd_wrap(raw, zstd_level))
        out[kind] = sizes
    return out


def choose(kind: str, sizes: dict, removed=(), strict: bool = False) -> str:
    """The variant `auto` keeps from {variant: bytes} with the modes `removed` (a name or a
    collection of names; both variants of each; ZSTD_ROW: every wrapped variant) out."""
    from pladafmt._codec import AUTO_MIN_GAIN, auto_choice
    removed = {removed} if isinstance(removed, str) else set(removed)
    table = {m.name: m for m in _tables()[kind].values()}
    names = [v for v in sizes if v.split("+")[0] not in removed
             and not (ZSTD_ROW in removed and v.endswith("+zstd"))]
    cand = [(sizes[v], table[v.split("+")[0]].id, v.endswith("+zstd"),
             table[v.split("+")[0]].decode_class) for v in names]
    return names[auto_choice(cand, 0.0 if strict else AUTO_MIN_GAIN)]


def decode_cost(kind: str, variant: str) -> int:
    """auto_choice's decode cost of a variant: the mode's decode class, + 1 for Zstd."""
    mode = next(m for m in _tables()[kind].values() if m.name == variant.split("+")[0])
    return mode.decode_class + variant.endswith("+zstd")


def removal_rows(kind: str) -> list[str]:
    return [m.name for m in sorted(_tables()[kind].values(), key=lambda m: m.id)] + [ZSTD_ROW]


def losses(case: dict, strict: bool = False) -> dict:
    """{(kind, removed): (loss bytes, variant chosen without it)} for one case."""
    out = {}
    for kind in STREAMS:
        sizes = case["streams"][kind]
        base = sizes[choose(kind, sizes, strict=strict)]
        for r in removal_rows(kind):
            if r != ZSTD_ROW and r not in sizes:
                continue                       # bitmap skipped on a huge pool
            v = choose(kind, sizes, r, strict)
            out[kind, r] = (sizes[v] - base, v)
    return out


def _payload_modes(data: bytes) -> dict:
    """{"index": variant, "labels": variant} from a payload's stream section headers."""
    tables = _tables()
    out, pos = {}, 88
    while pos + 12 <= len(data):
        stype, mode, flags, length = struct.unpack_from("<HBBI", data, pos)
        kind = {2: "index", 3: "labels"}.get(stype)
        if kind:
            out[kind] = tables[kind][mode].name + ("+zstd" if flags & 1 else "")
        pos += 12 + length
    return out


def measure(idx, lab, n: int, c: int) -> dict:
    t0 = time.perf_counter()
    streams = stream_sizes(idx, lab, n, c)
    case = {"k": int(idx.size), "n": int(n), "classes": int(c), "streams": streams,
            "measure_s": time.perf_counter() - t0}
    picks = {kind: choose(kind, streams[kind]) for kind in STREAMS}
    case["auto"] = picks
    case["payload_bytes"] = PAYLOAD_OVERHEAD + sum(streams[k][picks[k]] for k in STREAMS)
    if idx.size <= CHECK_MAX_K:
        import pladafmt
        data = pladafmt.encode(idx, lab, pool_size=n, classes=c, zstd_level=ZSTD_LEVEL)
        case["checked_against_encode"] = True
        if len(data) != case["payload_bytes"] or _payload_modes(data) != picks:
            raise AssertionError(f"audit sizes disagree with pladafmt.encode: "
                                 f"{len(data)} B {_payload_modes(data)} vs "
                                 f"{case['payload_bytes']} B {picks}")
    return case


# ------------------------------------------------------------------------ workloads
def synth_workloads() -> list[dict]:
    """The IN-21K-like selections: (name, classes, rule)."""
    return [{"name": f"IN-21K-like synth_scores C={c} {rule} keep=1%", "classes": c,
             "rule": rule} for c in SYNTH_CLASSES for rule in SYNTH_RULES]


def _synth_arrays(c: int, rules: list[str]):
    from reference_pipeline.selection import select
    from reference_pipeline.synth_scores import IN21K_ITEMS, synth_scores
    scores = synth_scores(IN21K_ITEMS, c, SYNTH_SEED)
    for rule in rules:
        idx = select(rule, scores, SYNTH_KEEP, seed=SYNTH_SEED)
        yield rule, idx, scores["labels"][idx].astype(np.int64), IN21K_ITEMS


def committed_real_cases(path: str = COMMITTED) -> tuple[list[dict], dict]:
    """The real selections of a benchmark results file, from its single-mode rows'
    stream sizes; and that file's synthetic cases' sizes, to check against fresh ones."""
    with open(path) as f:
        doc = json.load(f)
    real, synth = [], {}
    for case in doc["cases"]:
        streams = {"index": {}, "labels": {}}
        for name, r in case["results"].items():
            m = re.fullmatch(r"pladafmt (idx|lab)=(.+)", name)
            if m and r.get("stream_bytes") is not None:
                streams["index" if m[1] == "idx" else "labels"][m[2]] = r["stream_bytes"]
        wd = case["workload"]
        if wd["family"] == "real":
            picks = {kind: choose(kind, streams[kind]) for kind in STREAMS}
            real.append({"name": wd["name"], "family": "real", "keep": wd["keep"],
                         "k": case["k"], "n": wd["n"], "classes": wd["classes"],
                         "streams": streams, "auto": picks,
                         "payload_bytes": PAYLOAD_OVERHEAD
                         + sum(streams[k][picks[k]] for k in STREAMS),
                         "committed_auto_bytes": case["results"]["pladafmt auto"]["bytes"],
                         "source": f"{os.path.basename(path)} (score file {wd['source']})"})
        else:
            synth[wd["name"]] = streams
    return real, synth


# ---------------------------------------------------------------------------- run
def _load(path: str) -> dict:
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"schema": SCHEMA, "cases": {}}


def _dump(doc: dict, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _environment() -> dict:
    import zstandard

    import pladafmt
    from pladafmt._codec import AUTO_MIN_GAIN
    # helpers may edit the codec in the working tree: say which codec was measured
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True,  # noqa: E731
                                    text=True).stdout.strip()
    return {"pladafmt": pladafmt.__version__, "commit": git("rev-parse", "--short", "HEAD"),
            "pladafmt_uncommitted": git("status", "--porcelain", "--", "pladafmt"),
            "zstandard": zstandard.__version__,
            "zstd_level": ZSTD_LEVEL, "auto_min_gain": AUTO_MIN_GAIN,
            "date": _dt.date.today().isoformat()}


def run(only: str | None, path: str, redo: bool, log) -> dict:
    doc = _load(path)
    doc["environment"] = _environment()
    cases = doc["cases"]
    want = (lambda name: re.search(only, name)) if only else (lambda name: True)  # noqa: E731
    todo = lambda name: want(name) and (redo or name not in cases)  # noqa: E731

    for w in W.full_matrix():
        if not todo(w.name):
            continue
        idx, lab = w.generate()
        case = measure(idx, lab, w.n, w.classes)
        case.update(name=w.name, family=w.family, keep=w.keep, source="benchmarks.workloads")
        cases[w.name] = case
        log(f"{w.name}: auto {case['auto']['index']} | {case['auto']['labels']} "
            f"{case['payload_bytes']:,} B ({case['measure_s']:.1f} s)")
        _dump(doc, path)

    files_real, why = W.real_workloads(ROOT)
    if files_real:
        for w in files_real:
            if not todo(w.name):
                continue
            idx, lab = w.generate()
            case = measure(idx, lab, w.n, w.classes)
            case.update(name=w.name, family="real", keep=w.keep, source=w.source)
            cases[w.name] = case
            log(f"{w.name}: {case['payload_bytes']:,} B")
            _dump(doc, path)
    else:
        real, committed_synth = committed_real_cases()
        # The committed file's sizes stand for today's codec only if its synthetic cases'
        # stream sizes equal fresh ones: compare every synthetic case measured here.
        same = [n for n in committed_synth if n in cases]
        diff = [n for n in same if committed_synth[n] != cases[n]["streams"]]
        doc["committed_check"] = {"file": os.path.basename(COMMITTED), "reason": why,
                                  "compared": len(same), "differ": diff,
                                  "real_auto_same": sum(c["committed_auto_bytes"]
                                                        == c["payload_bytes"] for c in real),
                                  "real": len(real)}
        log(f"real selections from {os.path.basename(COMMITTED)}: its stream sizes equal "
            f"fresh ones on {len(same) - len(diff)} of {len(same)} synthetic cases")
        for case in real:
            if want(case["name"]):
                cases[case["name"]] = case
        _dump(doc, path)

    for c in SYNTH_CLASSES:
        rules = [s["rule"] for s in synth_workloads() if s["classes"] == c and todo(s["name"])]
        if not rules:
            continue
        t0 = time.perf_counter()
        for rule, idx, lab, n in _synth_arrays(c, rules):
            name = f"IN-21K-like synth_scores C={c} {rule} keep=1%"
            case = measure(idx, lab, n, c)
            case.update(name=name, family="in21k-like", keep=SYNTH_KEEP,
                        source=f"reference_pipeline.synth_scores --classes {c} --seed "
                               f"{SYNTH_SEED}; selection --rule {rule} --keep {SYNTH_KEEP} "
                               f"--seed {SYNTH_SEED}")
            cases[name] = case
            log(f"{name}: auto {case['auto']['index']} | {case['auto']['labels']} "
                f"{case['payload_bytes']:,} B ({time.perf_counter() - t0:.1f} s)")
            _dump(doc, path)
    return doc


# ------------------------------------------------------------------------- report
def _pct(x: float) -> str:
    return f"{100 * x:+.2f} %"


def realistic(case: dict) -> bool:
    return case["keep"] <= REALISTIC_MAX_KEEP + 1e-12 and case["k"] >= REALISTIC_MIN_K


def summarize(doc: dict) -> tuple[dict, dict]:
    """Per (stream, removed mode): worst losses (auto rule and smallest) over the realistic
    workloads, over the IN-21K-like ones and over all, and how often auto picks the mode;
    and per workload name its losses (auto rule)."""
    cases = list(doc["cases"].values())
    loss = {c["name"]: losses(c) for c in cases}
    strict = {c["name"]: losses(c, strict=True) for c in cases}
    groups = {"realistic": [c for c in cases if realistic(c)],
              "in21k": [c for c in cases if c["family"] == "in21k-like"],
              "all": cases}
    out = {}
    for kind in STREAMS:
        for r in removal_rows(kind):
            def rel(case, table=loss):
                return table[case["name"]].get((kind, r), (0, ""))[0] / case["payload_bytes"]
            row = {}
            for g, cs in groups.items():
                if not cs:
                    continue
                worst = max(cs, key=rel)
                lost, then = loss[worst["name"]].get((kind, r), (0, ""))
                row[g] = {"pct": rel(worst), "bytes": lost, "workload": worst["name"],
                          "then": then}
                ws = max(cs, key=lambda c: rel(c, strict))
                row[g + "_strict"] = {"pct": rel(ws, strict), "workload": ws["name"]}
            picks = [c["auto"][kind] for c in groups["realistic"]]
            row["picked"] = sum(v.endswith("+zstd") if r == ZSTD_ROW else v.split("+")[0] == r
                                for v in picks)
            row["of"] = len(picks)
            # where the replacement decodes costlier than auto's pick (speed, not size)
            row["costlier"] = sum(
                decode_cost(kind, loss[c["name"]][kind, r][1]) > decode_cost(kind, c["auto"][kind])
                for c in groups["realistic"] if (kind, r) in loss[c["name"]])
            row["paper_own"] = (kind, r) in PAPER_OWN
            row["keep"] = row["paper_own"] or row["realistic"]["pct"] > KEEP_RULE
            out[kind, r] = row
    return out, loss


def elimination(doc: dict, kind: str) -> list[tuple[str, float, str]]:
    """Backward elimination for one stream: the modes that are not the paper's own are
    removed one at a time, each time the one whose removal (together with those already
    removed) costs least on the worst realistic workload, while that stays <= KEEP_RULE.
    One at a time is not enough: near-substitutes (the adaptive and ctx-rans modes) each
    cost little alone and much together.  Returns [(mode, worst loss, workload)] in
    removal order, then the first mode that could not go (if any) with its cost."""
    cases = [c for c in doc["cases"].values() if realistic(c)]
    out, removed = [], []
    left = [r for r in removal_rows(kind)[:-1] if (kind, r) not in PAPER_OWN]

    def worst(gone):
        def rel(c):
            sizes = c["streams"][kind]
            return (sizes[choose(kind, sizes, gone)] - sizes[c["auto"][kind]]) / c["payload_bytes"]
        w = max(cases, key=rel)
        return rel(w), w["name"]
    while left:
        cost = {r: worst(removed + [r]) for r in left}
        r = min(left, key=lambda r: (cost[r][0], r))
        out.append((r, *cost[r]))
        if cost[r][0] > KEEP_RULE:
            break
        removed.append(r)
        left.remove(r)
    return out


def write_markdown(doc: dict, path: str) -> None:
    s, loss = summarize(doc)
    cases = list(doc["cases"].values())
    env = doc["environment"]
    fam = {}
    for c in cases:
        fam[c["family"]] = fam.get(c["family"], 0) + 1
    L = ["# Mode audit: what `auto` loses without each format 1.3 mode\n",
         f"Generated by `python -m benchmarks.mode_audit` (pladafmt {env['pladafmt']} at "
         f"commit {env['commit']}"
         + (", with uncommitted codec changes" if env["pladafmt_uncommitted"] else "")
         + f", "
         f"Zstd level {env['zstd_level']}, zstandard {env['zstandard']}, {env['date']}) from "
         f"`results/{os.path.basename(JSON_PATH)}`; the method is in the module's docstring. "
         f"Issue #15's first step: keep a mode when removing it costs more than about 1 % on "
         f"some realistic workload, or when it is one of the paper's own encodings.\n",
         "**What was computed.** For every workload and each stream, the body size of every "
         "candidate `auto` weighs (each mode of the stream's table, raw and Zstd-19-wrapped, "
         "from the mode's own encoder). `auto` = the codec's own rule "
         f"(`pladafmt._codec.auto_choice`, min gain {env['auto_min_gain']}: a costlier decode "
         "must save 0.5 % of its stream) over all candidates; *without M* = the same rule "
         "over the candidates left when M and M+zstd are removed (row `+zstd`: every "
         "wrapped candidate removed). Loss = bytes(without M) - bytes(auto), in % of the "
         "whole `auto` payload (the streams are independent sections, so the payload grows "
         "by exactly that). *smallest* = the same with min gain 0 (pure size, no decode-cost "
         "rule). A negative loss means that without M the rule lands on a costlier-to-decode "
         "candidate that is smaller. *Replacement decodes costlier*: on how many realistic "
         "workloads the candidate taken without M has a higher decode cost in auto's terms "
         "(a context mode, or a Zstd wrapper) than auto's pick: the loss is then partly "
         "paid in decode speed, not bytes. Every case with k <= 200,000 was also encoded by "
         "`pladafmt.encode`: same payload length and modes.\n",
         f"**Workloads** ({len(cases)}): " + ", ".join(f"{v} {k}" for k, v in fam.items())
         + ". Synthetic = `benchmarks.workloads.full_matrix()` at full sizes (nothing "
         "reduced to the quick sizes). IN-21K-like = `reference_pipeline.synth_scores` "
         "(14,197,122 items, seed 0) then `reference_pipeline.selection` at 1 % (seed 0). "
         f"**Realistic** = keep <= {REALISTIC_MAX_KEEP:.0%} (the paper's 0.1-10 %) and k >= "
         f"{REALISTIC_MIN_K:,} (smaller payloads are a few hundred bytes, where a few bytes "
         "are over 1 %; they count under \"all workloads\"), every family: "
         + str(sum(map(realistic, cases))) + " workloads. Measuring took "
         f"{sum(c.get('measure_s', 0) for c in cases):.0f} s in all (sum over the cases, "
         "on this project's shared 2-vCPU VM; one run of every case stays under 10 "
         "minutes).\n"]
    chk = doc.get("committed_check")
    if chk:
        L.append(f"**Real selections.** No reference-pipeline score file is on this "
                 f"machine (see `workloads.find_score_files`), so the 20 real selections (the demo's four score "
                 f"files, Fashion-MNIST-sized pools, C = 10, keep 1-50 %) come from the "
                 f"stream sizes in the committed `results/{chk['file']}`. That file's "
                 f"synthetic cases were compared with fresh encodes: {chk['compared']} "
                 f"compared, {len(chk['differ'])} differ"
                 + (f" ({', '.join(chk['differ'])})" if chk["differ"] else
                    ", so its sizes are today's codec's")
                 + f"; on its real selections, today's rule gives the committed `auto` payload "
                 f"size on {chk['real_auto_same']} of {chk['real']}.\n")
    for kind in STREAMS:
        L.append(f"## {'Index' if kind == 'index' else 'Label'} stream\n")
        L.append("| mode | paper's own | auto picks it (realistic) | worst loss, realistic "
                 "| B | on workload (then picks) | worst, IN-21K-like | worst, all workloads "
                 "| worst, smallest rule, realistic | replacement decodes costlier "
                 "| 1 % rule |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in removal_rows(kind):
            row = s.get((kind, r))
            if row is None:
                continue
            rr, a = row["realistic"], row["all"]
            where = f"{rr['workload']} (`{rr['then']}`)" if rr["bytes"] else "-"
            L.append(f"| `{r}`{' (every mode)' if r == ZSTD_ROW else ''} "
                     f"| {'yes' if row['paper_own'] else 'no'} "
                     f"| {row['picked']} of {row['of']} "
                     f"| {_pct(rr['pct'])} | {rr['bytes']:,} | {where} "
                     f"| {_pct(row['in21k']['pct']) if 'in21k' in row else '-'} "
                     f"| {_pct(a['pct'])} ({a['workload']}) "
                     f"| {_pct(row['realistic_strict']['pct'])} "
                     f"| {row['costlier']} of {row['of']} "
                     f"| {'keep' if rr['pct'] > KEEP_RULE else 'under 1 %'} |")
        L.append("")
    L.append("## Recommendation (issue #15's rule)\n")
    for kind in STREAMS:
        for r in removal_rows(kind):
            row = s.get((kind, r))
            if row is None:
                continue
            rr = row["realistic"]
            why = []
            if rr["pct"] > KEEP_RULE:
                why.append(f"removing it costs {_pct(rr['pct'])} on {rr['workload']}")
            if row["paper_own"]:
                why.append("one of the paper's own encodings")
            if not why and rr["bytes"] == 0:
                why.append(f"removing it costs nothing on any realistic workload (auto picks "
                           f"it on {row['picked']} of {row['of']})")
            elif not why:
                why.append(f"at most {_pct(rr['pct'])} on any realistic workload "
                           f"({rr['workload']}); auto picks it on {row['picked']} of "
                           f"{row['of']}, and without it decodes a costlier candidate "
                           f"(a context mode or a Zstd wrapper) on {row['costlier']}")
            name = f"{kind} `{r}`" + (" (the Zstd wrapper)" if r == ZSTD_ROW else "")
            L.append(f"- {name}: **{'keep' if row['keep'] else 'remove'}** - "
                     + "; ".join(why) + ".")
    L.append("")
    L.append("**Removing several.** One mode at a time is not the whole answer: "
             "near-substitutes (the adaptive and ctx-rans modes) may each cost little alone "
             "and much together. Backward elimination per stream (the modes that are not the "
             "paper's own, removed one by one, each time the one that costs least on the "
             "worst realistic workload together with those already removed, while that stays "
             f"<= {KEEP_RULE:.0%}):\n")
    for kind in STREAMS:
        steps = elimination(doc, kind)
        gone = [f"`{r}` (then {_pct(p)}" + (f", {w})" if p > 0 else ")")
                for r, p, w in steps if p <= KEEP_RULE]
        stop = [f"`{r}` would cost {_pct(p)} ({w})" for r, p, w in steps if p > KEEP_RULE]
        L.append(f"- {kind}: remove " + (", then ".join(gone) if gone else "nothing")
                 + (f"; then stop: {stop[0]}" if stop else "; every such mode can go")
                 + ".")
    L.append("")
    L.append("## Per workload: loss in % of the `auto` payload when the mode is removed\n")
    L.append("Auto rule; blank = 0 (auto does not pick the mode there). `x` = not a "
             "candidate on that pool.\n")
    cols = [(k, r) for k in STREAMS for r in removal_rows(k)]
    L.append("| workload | k | auto picks | payload B | "
             + " | ".join(f"{'i' if k == 'index' else 'l'}:{r}" for k, r in cols) + " |")
    L.append("|---|---|---|---|" + "---|" * len(cols))
    order = {"uniform": 0, "clustered": 1, "real": 2, "in21k-like": 3}
    for c in sorted(cases, key=lambda c: (order.get(c["family"], 9),
                                          c["name"].rsplit(" keep=", 1)[0], c["keep"])):
        cells = []
        for key in cols:
            if key not in loss[c["name"]]:
                cells.append("x")
                continue
            lost = loss[c["name"]][key][0]
            cells.append("" if lost == 0 else f"{100 * lost / c['payload_bytes']:+.2f}")
        L.append(f"| {c['name']} | {c['k']:,} | {c['auto']['index']} \\| {c['auto']['labels']} "
                 f"| {c['payload_bytes']:,} | " + " | ".join(cells) + " |")
    L.append("")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="regex: measure only matching workloads")
    ap.add_argument("--redo", action="store_true", help="measure again cases already in the JSON")
    ap.add_argument("--render", action="store_true", help="only rewrite the Markdown")
    ap.add_argument("--json", default=JSON_PATH)
    ap.add_argument("--md", default=MD_PATH)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.render:
        doc = _load(args.json)
    else:
        doc = run(args.only, args.json, args.redo, lambda m: print(m, flush=True))
    write_markdown(doc, args.md)
    print(f"wrote {args.json}, {args.md} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
