"""What `auto` lost without each format 1.3 mode (issue #15): the record of why 2.0 has
the modes it has, rendered from its measurements.

    python -m benchmarks.mode_audit          # rewrite MODE_AUDIT.md from results/mode_audit.json

The measurements (results/mode_audit.json) were taken with format 1.3's codec, which 2.0
no longer contains, so this module only renders them. What they hold, per workload and per
stream (index, labels): the body size of every candidate 1.3's
`encode(index_mode="auto", label_mode="auto")` weighed: each 1.3 mode, raw and Zstd-19-wrapped,
from the mode's own encoder (the bitmap left out where encode left it out), each case with
k <= 200,000 checked against 1.3's `encode` (same payload length and modes). From these
sizes, with auto's rule (`contenders.auto_rule`: a costlier decode must save 0.5 % of its
stream) and 1.3's mode tables (`V13_MODES` below: ids and decode classes):

    auto        the choice over all candidates
    without M   the choice over the candidates left when M and M+zstd are removed
    without +zstd   the choice when every Zstd-wrapped candidate is removed
    loss        bytes(without) - bytes(auto).  The two streams are independent sections,
                so this is also what the whole payload grows by.
    the 2.0 set the choice over 2.0's modes only (V20_SET), both streams at once

and the same with min_gain = 0 ("smallest": pure size).

Workloads: `benchmarks.workloads.full_matrix()` (all 54 synthetic cases at their full
sizes); the 20 real selections of the committed 1.3 benchmark results
(`results/2026-11-28-vm.json`, which held every candidate's stream size); and IN-21K-like
selections (`benchmarks.workloads.in21k_like_workloads`).
"""

from __future__ import annotations

import argparse
import os
import json
import sys

from .contenders import AUTO_MIN_GAIN, CONTEXT, PLAIN, auto_rule

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "results", "mode_audit.json")
MD_PATH = os.path.join(HERE, "MODE_AUDIT.md")
REALISTIC_MAX_KEEP = 0.10        # the paper's keep rates of interest are 0.1-10 % ...
REALISTIC_MIN_K = 1000           # ... of real pools; a 60-item task's payload is ~250 B, where
#                                  a few bytes are over 1 % (such cases count in "all")
KEEP_RULE = 0.01                 # issue #15: keep a mode that saves more than ~1 %
STREAMS = ("index", "labels")
# The paper's own encodings (issue #15): delta varint, bitmap, packed labels, Zstd-wrapped.
PAPER_OWN = {("index", "varint"), ("index", "bitmap"), ("labels", "packed"),
             ("index", "+zstd"), ("labels", "+zstd")}
ZSTD_ROW = "+zstd"               # the row for "every Zstd-wrapped candidate removed"
# Format 1.3's mode tables (SPEC.md 1.3): name -> (Section_Mode id, decode class).
V13_MODES = {
    "index": {"bitmap": (0, PLAIN), "varint": (1, PLAIN), "runs": (2, PLAIN),
              "rice": (3, PLAIN), "adaptive": (4, CONTEXT), "ctx-rans": (5, CONTEXT)},
    "labels": {"packed": (0, PLAIN), "huffman": (1, PLAIN), "rle": (2, PLAIN),
               "rans": (3, PLAIN), "adaptive": (4, CONTEXT), "adaptive-gap": (5, CONTEXT),
               "ctx-rans": (6, CONTEXT)},
}
# The modes format 2.0 kept (FORMAT2 / SPEC.md 2.0), by their 1.3 names.
V20_SET = {"index": ("bitmap", "varint", "rice", "ctx-rans"),
           "labels": ("packed", "rans", "ctx-rans")}


# ------------------------------------------------------------------------- the rule
def choose(kind: str, sizes: dict, removed=(), strict: bool = False) -> str:
    """The variant 1.3's `auto` keeps from {variant: bytes} with the modes `removed` (a name
    or a collection of names; both variants of each; ZSTD_ROW: every wrapped variant) out."""
    removed = {removed} if isinstance(removed, str) else set(removed)
    table = V13_MODES[kind]
    names = [v for v in sizes if v.split("+")[0] not in removed
             and not (ZSTD_ROW in removed and v.endswith("+zstd"))]
    cand = [(sizes[v], table[v.split("+")[0]][0], v.endswith("+zstd"),
             table[v.split("+")[0]][1]) for v in names]
    return names[auto_rule(cand, 0.0 if strict else AUTO_MIN_GAIN)]


def decode_cost(kind: str, variant: str) -> int:
    """The rule's decode cost of a variant: the mode's decode class, + 1 for Zstd."""
    return V13_MODES[kind][variant.split("+")[0]][1] + variant.endswith("+zstd")


def removal_rows(kind: str) -> list[str]:
    return list(V13_MODES[kind]) + [ZSTD_ROW]


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


def v20_loss(case: dict) -> tuple[int, dict]:
    """(bytes lost, {stream: variant chosen}) when 1.3's auto may use only the 2.0 set."""
    lost, picks = 0, {}
    for kind in STREAMS:
        sizes = case["streams"][kind]
        gone = [m for m in V13_MODES[kind] if m not in V20_SET[kind]]
        picks[kind] = choose(kind, sizes, gone)
        lost += sizes[picks[kind]] - sizes[choose(kind, sizes)]
    return lost, picks


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
    L = ["# Mode audit: what `auto` lost without each format 1.3 mode\n",
         "The record of why format 2.0 has the modes it has (issue #15), and, last before "
         "the per-workload table, what 1.3's `auto` loses when held to the 2.0 set. "
         f"Measured with format 1.3's codec (pladafmt {env['pladafmt']} at "
         f"commit {env['commit']}"
         + (", with uncommitted codec changes" if env["pladafmt_uncommitted"] else "")
         + f", "
         f"Zstd level {env['zstd_level']}, zstandard {env['zstandard']}, {env['date']}) into "
         f"`results/{os.path.basename(JSON_PATH)}`; rendered from it by `python -m "
         "benchmarks.mode_audit` (2.0 no longer has the 1.3 modes to measure again); the "
         "method is in the module's docstring. "
         f"Issue #15's first step: keep a mode when removing it costs more than about 1 % on "
         f"some realistic workload, or when it is one of the paper's own encodings.\n",
         "**What was computed.** For every workload and each stream, the body size of every "
         "candidate `auto` weighs (each mode of the stream's table, raw and Zstd-19-wrapped, "
         "from the mode's own encoder). `auto` = the codec's own rule "
         f"(1.3's `auto_choice`, restated as `contenders.auto_rule`, with 1.3's mode ids "
         f"and decode classes; min gain {env['auto_min_gain']}: a costlier decode "
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
        L.append(f"**Real selections.** No reference-pipeline score file was on the "
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
    L += v20_section(doc)
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


def v20_section(doc: dict) -> list[str]:
    """"The 2.0 set": 1.3's auto held to the modes 2.0 kept, per workload."""
    cases = sorted(doc["cases"].values(), key=lambda c: c["name"])
    rows = []
    for c in cases:
        lost, picks = v20_loss(c)
        rows.append((lost / c["payload_bytes"], lost, c, picks))
    groups = {"realistic": [r for r in rows if realistic(r[2])], "all": rows}
    L = ["## The 2.0 set\n",
         "What 1.3's `auto` loses when it may use only the modes format 2.0 kept (index "
         f"{', '.join(f'`{m}`' for m in V20_SET['index'])}; labels "
         f"{', '.join(f'`{m}`' for m in V20_SET['labels'])}; each raw or Zstd-wrapped), both "
         "streams at once, under 1.3's rule, in % of 1.3's `auto` payload. These are 1.3's "
         "stream bodies: 2.0's `rans` and `ctx-rans` bodies are smaller on small k (one "
         "rANS lane below 2,048 items instead of four: 24 bytes less per word area) and its "
         "container is 45-50 B instead of 112 B, so 2.0's own sizes (RESULTS.md, from the "
         "rerun) are at or below these.\n"]
    for g, rs in groups.items():
        w = max(rs, key=lambda r: r[0])
        over = sum(r[0] > KEEP_RULE for r in rs)
        L.append(f"- worst, {g} workloads ({len(rs)}): **{_pct(w[0])}** ({w[1]:,} B) on "
                 f"{w[2]['name']} (1.3 picks {w[2]['auto']['index']} | "
                 f"{w[2]['auto']['labels']}, the 2.0 set {w[3]['index']} | "
                 f"{w[3]['labels']}); {over} of {len(rs)} lose more than "
                 f"{KEEP_RULE:.0%}, {sum(r[1] == 0 for r in rs)} lose nothing.")
    L.append("")
    L.append("| workload | k | 1.3 auto picks | 2.0 set picks | loss B | loss |")
    L.append("|---|---|---|---|---|---|")
    for rel, lost, c, picks in sorted(rows, key=lambda r: -r[0]):
        if lost == 0:
            continue
        L.append(f"| {c['name']} | {c['k']:,} | {c['auto']['index']} \\| "
                 f"{c['auto']['labels']} | {picks['index']} \\| {picks['labels']} "
                 f"| {lost:,} | {_pct(rel)} |")
    L.append(f"\nThe other {sum(r[1] == 0 for r in rows)} workloads lose nothing.\n")
    return L


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=JSON_PATH)
    ap.add_argument("--md", default=MD_PATH)
    args = ap.parse_args(argv)
    with open(args.json) as f:
        doc = json.load(f)
    write_markdown(doc, args.md)
    print(f"wrote {args.md} from {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
